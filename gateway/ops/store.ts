/**
 * The store operations of the operations service, and their request shapes: what the admin API and
 * the command line can do to the registry and the journal, as one interface with two
 * implementations: `LocalAdminOps` works directly on the registry and journal (inside the gateway,
 * under the operations service of operations.ts, or from the command line on a stopped instance) and
 * `AdminClient` (gateway/admin/client.ts) asks a running gateway.
 */
import { z } from 'zod';
import type { Observation } from '../../drivers/types.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { systemTimeZone } from '../config/schema.ts';
import type {
  AuditEntry,
  Clock,
  DeviceRecord,
  Journal,
  OutboxRecord,
  OutboxState,
  PatientRecord,
  Registry,
} from '../contracts.ts';
import type { JournalStats } from '../journal/rules.ts';
import { OUTBOX_STATES } from '../journal/rules.ts';
import { restate, STATED_MOMENTS, type Statement } from '../pipeline/restate.ts';
import {
  addDevice,
  addPatient,
  assignDevice,
  type DeviceProvisioner,
  publicDevice,
  reissueDeviceSecret,
  removeDevice,
} from '../registry/operations.ts';

export type PublicDevice = Omit<DeviceRecord, 'secretHash'> & { readonly hasSecret: boolean };

export interface AuditVerification {
  readonly ok: boolean;
  /** Seq of the first entry that breaks the chain. */
  readonly firstBroken?: number;
  readonly entries: number;
  /** A journal shared by several instances: each instance's chain (storage.md, Journal). */
  readonly chains?: readonly {
    readonly chain: string;
    readonly entries: number;
    readonly firstBroken?: number;
  }[];
}

export interface AdminOps {
  listDevices(): Promise<PublicDevice[]>;
  getDevice(id: string): Promise<PublicDevice>;
  addDevice(input: AddDeviceBody): Promise<{ device: PublicDevice; secret?: string }>;
  removeDevice(id: string): Promise<void>;
  assignDevice(id: string, change: AssignBody): Promise<PublicDevice>;
  listPatients(): Promise<PatientRecord[]>;
  addPatient(input: AddPatientBody): Promise<PatientRecord>;
  removePatient(id: string): Promise<void>;
  outbox(filter: OutboxQuery): Promise<OutboxRecord[]>;
  /**
   * Sends a dead-letter, held or quarantined reading again (back to pending); `statement` carries what a
   * person states for it (the meal moment a meter did not give; gateway/pipeline/restate.ts).
   */
  retryReading(id: string, statement?: Statement): Promise<OutboxRecord>;
  /** Discards a pending, held or quarantined reading: values purged, never sent, audited. */
  discardReading(id: string): Promise<OutboxRecord>;
  /** Attributes a quarantined reading to a patient after confirmation and moves it to pending (audited). */
  assignReading(id: string, patientId: string, statement?: Statement): Promise<OutboxRecord>;
  journalStats(): Promise<JournalStats>;
  auditList(filter: AuditQuery): Promise<AuditEntry[]>;
  auditVerify(): Promise<AuditVerification>;
  /** Releases what the implementation holds (the data-directory lock for the local one). */
  close(): Promise<void>;
}

// --- request shapes, shared by the HTTP routes and the command line -----------------------------

const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits or . _ : - (1 to 128)');

export const AddDeviceBody = z.strictObject({
  id,
  transport: z.enum(['ble', 'mqtt']),
  patientId: id.optional(),
  name: z.string().min(1).max(100).optional(),
  driver: z.string().min(1).max(100).optional(),
  /**
   * A registered MQTT device gets a new secret (its broker client replaced): the repair of an add
   * interrupted between the registry and the broker (gateway/registry/operations.ts).
   */
  again: z.boolean().optional(),
});
export type AddDeviceBody = z.infer<typeof AddDeviceBody>;

export const AssignBody = z
  .strictObject({
    patientId: id.nullable().optional(),
    users: z.record(z.string().regex(/^[0-9]{1,3}$/, 'a user index 0-255'), id.nullable()).optional(),
  })
  .refine((b) => b.patientId !== undefined || b.users !== undefined, 'give patientId and/or users');
export type AssignBody = z.infer<typeof AssignBody>;

export const AddPatientBody = z.strictObject({ id, displayName: z.string().trim().min(1).max(200) });
export type AddPatientBody = z.infer<typeof AddPatientBody>;

export const OutboxQuery = z.strictObject({
  state: z.enum(OUTBOX_STATES as [OutboxState, ...OutboxState[]]).optional(),
  patient: id.optional(),
  device: id.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});
export type OutboxQuery = z.input<typeof OutboxQuery>;

export const AuditQuery = z.strictObject({
  patient: id.optional(),
  reading: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(100),
});
export type AuditQuery = z.input<typeof AuditQuery>;

export const AssignReadingBody = z.strictObject({ patientId: id, moment: z.enum(STATED_MOMENTS).optional() });
export const RetryReadingBody = z.strictObject({ moment: z.enum(STATED_MOMENTS).optional() });
export type AssignReadingBody = z.infer<typeof AssignReadingBody>;

/** Validates admin input; refusals name the field (MEDGW_ERR_ADMIN_BAD_REQUEST). */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const msg = r.error.issues
    .map((i) => {
      const where = i.path.length
        ? i.path.join('.')
        : i.code === 'unrecognized_keys'
          ? i.keys.join(', ')
          : 'body';
      return `${where}: ${i.code === 'unrecognized_keys' ? 'unknown field' : i.message}`;
    })
    .join('; ');
  throw new MedgwError('MEDGW_ERR_ADMIN_BAD_REQUEST', msg);
}

export class LocalAdminOps implements AdminOps {
  constructor(
    private readonly registry: Registry,
    private readonly journal: Journal,
    private readonly clock: Clock,
    private readonly onClose: () => Promise<void> | void = () => undefined,
    /** The zone a reading's unchecked device time is placed in when a person confirms it (config `timezone`). */
    private readonly timeZone: string = systemTimeZone(),
    /** Where MQTT device credentials are provisioned besides the registry (the broker's dynamic security). */
    private readonly provisioner?: DeviceProvisioner,
  ) {}

  /** The observation a confirmed reading will carry, checked sendable (restate.ts), for a stored reading. */
  private restated(r: OutboxRecord, statement: Statement | undefined): { observation?: Observation } {
    if (r.observation === null) return {};
    const observation = restate(r.id, r.observation, statement ?? {}, this.timeZone);
    return observation === r.observation ? {} : { observation };
  }

  async listDevices(): Promise<PublicDevice[]> {
    return this.registry.listDevices().map(publicDevice);
  }

  async getDevice(deviceId: string): Promise<PublicDevice> {
    const d = this.registry.getDevice(deviceId);
    if (!d) throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${deviceId} in the registry`);
    return publicDevice(d);
  }

  async addDevice(input: AddDeviceBody): Promise<{ device: PublicDevice; secret?: string }> {
    const { again, ...body } = parseInput(AddDeviceBody, input);
    if (again) {
      if (body.transport !== 'mqtt' || body.patientId || body.name || body.driver) {
        throw new MedgwError(
          'MEDGW_ERR_ADMIN_BAD_REQUEST',
          'again: only an MQTT device is given a new secret, and nothing else changes (no patientId, name or driver)',
        );
      }
      const reissued = await reissueDeviceSecret(this.registry, body.id, this.provisioner);
      this.journal.audit({ event: 'device.secret-reissued', deviceId: body.id });
      return { device: publicDevice(reissued.device), secret: reissued.secret };
    }
    const { device, secret } = await addDevice(this.registry, body, this.clock, this.provisioner);
    this.journal.audit({
      event: 'device.added',
      deviceId: device.id,
      ...(device.patientId ? { patientId: device.patientId } : {}),
      detail: { transport: device.transport },
    });
    return secret !== undefined ? { device: publicDevice(device), secret } : { device: publicDevice(device) };
  }

  async removeDevice(deviceId: string): Promise<void> {
    await removeDevice(this.registry, deviceId, this.provisioner);
    this.journal.audit({ event: 'device.removed', deviceId });
  }

  async assignDevice(deviceId: string, change: AssignBody): Promise<PublicDevice> {
    const body = parseInput(AssignBody, change);
    const before = this.registry.getDevice(deviceId);
    const d = await assignDevice(this.registry, deviceId, body);
    // one audit entry per patient whose link to the device changed, so `audit list --patient` shows it
    if (before?.patientId !== d.patientId) {
      if (before?.patientId)
        this.journal.audit({ event: 'device.unassigned', deviceId, patientId: before.patientId });
      if (d.patientId) this.journal.audit({ event: 'device.assigned', deviceId, patientId: d.patientId });
    }
    const indexes = new Set([...Object.keys(before?.users ?? {}), ...Object.keys(d.users ?? {})]);
    for (const index of indexes) {
      const was = before?.users?.[index];
      const now = d.users?.[index];
      if (was === now) continue;
      if (was)
        this.journal.audit({
          event: 'device.user-unassigned',
          deviceId,
          patientId: was,
          detail: { user: Number(index) },
        });
      if (now)
        this.journal.audit({
          event: 'device.user-assigned',
          deviceId,
          patientId: now,
          detail: { user: Number(index) },
        });
    }
    return publicDevice(d);
  }

  async listPatients(): Promise<PatientRecord[]> {
    return this.registry.listPatients();
  }

  async addPatient(input: AddPatientBody): Promise<PatientRecord> {
    const body = parseInput(AddPatientBody, input);
    const p = await addPatient(this.registry, body, this.clock);
    this.journal.audit({ event: 'patient.added', patientId: p.id });
    return p;
  }

  async removePatient(patientId: string): Promise<void> {
    if (!(await this.registry.removePatient(patientId))) {
      throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no patient ${patientId} in the registry`);
    }
    this.journal.audit({ event: 'patient.removed', patientId });
  }

  async outbox(filter: OutboxQuery): Promise<OutboxRecord[]> {
    const q = parseInput(OutboxQuery, filter);
    return this.journal.list({
      ...(q.state ? { state: q.state } : {}),
      ...(q.patient ? { patientId: q.patient } : {}),
      ...(q.device ? { deviceId: q.device } : {}),
      limit: q.limit,
    });
  }

  async retryReading(readingId: string, statement?: Statement): Promise<OutboxRecord> {
    const said = parseInput(RetryReadingBody, statement ?? {});
    const r = this.journal.get(readingId);
    if (!r)
      throw new MedgwError('MEDGW_ERR_JOURNAL_UNKNOWN_READING', `no reading ${readingId} in the journal`);
    if (r.state !== 'dead-letter' && r.state !== 'held' && r.state !== 'quarantined') {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_STATE',
        `reading ${readingId} is ${r.state}; only dead-letter, held or quarantined readings can be retried`,
      );
    }
    if (r.observation === null) {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_STATE',
        `reading ${readingId} has no values any more (purged); it cannot be sent`,
      );
    }
    return this.journal.transition(readingId, r.state, 'pending', {
      ...this.restated(r, said),
      audit: {
        event: 'reading.retried',
        detail: { from: r.state, by: 'operator', ...(said.moment ? { moment: said.moment } : {}) },
      },
    });
  }

  async discardReading(readingId: string): Promise<OutboxRecord> {
    const r = this.journal.get(readingId);
    if (!r)
      throw new MedgwError('MEDGW_ERR_JOURNAL_UNKNOWN_READING', `no reading ${readingId} in the journal`);
    if (r.state !== 'pending' && r.state !== 'held' && r.state !== 'quarantined') {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_STATE',
        `reading ${readingId} is ${r.state}; only pending, held or quarantined readings can be discarded`,
      );
    }
    return this.journal.transition(readingId, r.state, 'dead-letter', {
      purge: true,
      reason: { code: 'MEDGW_ERR_OPERATOR_DISCARDED', message: 'discarded by an operator' },
      audit: { event: 'reading.discarded', detail: { from: r.state, by: 'operator' } },
    });
  }

  async assignReading(readingId: string, patientId: string, statement?: Statement): Promise<OutboxRecord> {
    const body = parseInput(AssignReadingBody, { patientId, ...statement });
    const r = this.journal.get(readingId);
    if (!r)
      throw new MedgwError('MEDGW_ERR_JOURNAL_UNKNOWN_READING', `no reading ${readingId} in the journal`);
    if (r.state !== 'quarantined') {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_STATE',
        `reading ${readingId} is ${r.state}; only quarantined readings can be assigned to a patient`,
      );
    }
    if (!this.registry.getPatient(body.patientId))
      throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no patient ${body.patientId} in the registry`);
    return this.journal.transition(readingId, 'quarantined', 'pending', {
      patientId: body.patientId,
      ...this.restated(r, body),
      audit: {
        event: 'reading.assigned',
        detail: {
          from: 'quarantined',
          by: 'operator',
          reason: r.reason?.code ?? null,
          ...(body.moment ? { moment: body.moment } : {}),
        },
      },
    });
  }

  async journalStats(): Promise<JournalStats> {
    return this.journal.stats(this.clock.now()) as JournalStats;
  }

  async auditList(filter: AuditQuery): Promise<AuditEntry[]> {
    const q = parseInput(AuditQuery, filter);
    return this.journal.auditList({
      ...(q.patient ? { patientId: q.patient } : {}),
      ...(q.reading ? { readingId: q.reading } : {}),
      limit: q.limit,
    });
  }

  async auditVerify(): Promise<AuditVerification> {
    if (this.journal.auditChains) {
      const chains = this.journal.auditChains();
      const broken = chains.find((c) => c.firstBroken !== undefined);
      const entries = chains.reduce((n, c) => n + c.entries, 0);
      return broken
        ? { ok: false, firstBroken: broken.firstBroken as number, entries, chains }
        : { ok: true, entries, chains };
    }
    const broken = this.journal.auditVerify();
    const entries = (this.journal.stats(this.clock.now()) as Partial<JournalStats>).auditEntries ?? 0;
    return broken === undefined ? { ok: true, entries } : { ok: false, firstBroken: broken, entries };
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
