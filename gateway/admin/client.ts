/** The admin API client: what the command line uses while a gateway runs on the data directory. */
import { isErrorCode, MedgwError } from '../../kernel/errors.ts';
import type { AuditEntry, OutboxRecord, PatientRecord } from '../contracts.ts';
import type { JournalStats } from '../journal/rules.ts';
import type { Statement } from '../pipeline/restate.ts';
import type {
  AddDeviceBody,
  AddPatientBody,
  AdminOps,
  AssignBody,
  AuditQuery,
  AuditVerification,
  OutboxQuery,
  PublicDevice,
} from './ops.ts';

function query(q: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * One authenticated JSON call to the admin API of a running gateway (`/api/v1` + `path`). A coded error
 * answer is rethrown with its code; `mapError` may turn one into a more specific refusal first.
 */
export async function adminRequest<T>(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  mapError?: (code: string | undefined) => MedgwError | undefined,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_ADMIN_UNREACHABLE',
      `the gateway at ${baseUrl} does not answer: ${(e as Error).message}`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new MedgwError(
      'MEDGW_ERR_ADMIN_UNREACHABLE',
      `the gateway answered ${res.status} with a body that is not JSON`,
    );
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } }).error;
    const mapped = mapError?.(err?.code);
    if (mapped) throw mapped;
    // the code crosses JSON: a catalogue code is kept, anything else (a newer gateway's code) is internal
    const code = isErrorCode(err?.code) ? err.code : 'MEDGW_ERR_INTERNAL';
    throw new MedgwError(code, err?.message ?? `the gateway answered ${res.status}`);
  }
  return json as T;
}

export class AdminClient implements AdminOps {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return adminRequest<T>(this.baseUrl, this.token, method, path, body);
  }

  async listDevices(): Promise<PublicDevice[]> {
    return (await this.call<{ devices: PublicDevice[] }>('GET', '/devices')).devices;
  }
  async getDevice(id: string): Promise<PublicDevice> {
    return (await this.call<{ device: PublicDevice }>('GET', `/devices/${encodeURIComponent(id)}`)).device;
  }
  addDevice(input: AddDeviceBody): Promise<{ device: PublicDevice; secret?: string }> {
    return this.call('POST', '/devices', input);
  }
  async removeDevice(id: string): Promise<void> {
    await this.call('DELETE', `/devices/${encodeURIComponent(id)}`);
  }
  async assignDevice(id: string, change: AssignBody): Promise<PublicDevice> {
    return (
      await this.call<{ device: PublicDevice }>('POST', `/devices/${encodeURIComponent(id)}/assign`, change)
    ).device;
  }
  async listPatients(): Promise<PatientRecord[]> {
    return (await this.call<{ patients: PatientRecord[] }>('GET', '/patients')).patients;
  }
  async addPatient(input: AddPatientBody): Promise<PatientRecord> {
    return (await this.call<{ patient: PatientRecord }>('POST', '/patients', input)).patient;
  }
  async removePatient(id: string): Promise<void> {
    await this.call('DELETE', `/patients/${encodeURIComponent(id)}`);
  }
  async outbox(filter: OutboxQuery): Promise<OutboxRecord[]> {
    return (await this.call<{ readings: OutboxRecord[] }>('GET', `/outbox${query(filter)}`)).readings;
  }
  async retryReading(id: string, statement?: Statement): Promise<OutboxRecord> {
    return (
      await this.call<{ reading: OutboxRecord }>(
        'POST',
        `/outbox/${encodeURIComponent(id)}/retry`,
        statement?.moment ? { moment: statement.moment } : undefined,
      )
    ).reading;
  }
  async discardReading(id: string): Promise<OutboxRecord> {
    return (await this.call<{ reading: OutboxRecord }>('POST', `/outbox/${encodeURIComponent(id)}/discard`))
      .reading;
  }
  async assignReading(id: string, patientId: string, statement?: Statement): Promise<OutboxRecord> {
    return (
      await this.call<{ reading: OutboxRecord }>('POST', `/outbox/${encodeURIComponent(id)}/assign`, {
        patientId,
        ...(statement?.moment ? { moment: statement.moment } : {}),
      })
    ).reading;
  }
  async journalStats(): Promise<JournalStats> {
    return (await this.call<{ stats: JournalStats }>('GET', '/journal/stats')).stats;
  }
  async auditList(filter: AuditQuery): Promise<AuditEntry[]> {
    return (await this.call<{ entries: AuditEntry[] }>('GET', `/audit${query(filter)}`)).entries;
  }
  auditVerify(): Promise<AuditVerification> {
    return this.call('GET', '/audit/verify');
  }
  async close(): Promise<void> {}
}
