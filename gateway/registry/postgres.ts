/**
 * The registry on PostgreSQL (storage.kind: postgres), shared by several gateway instances.
 *
 * The Registry contract reads synchronously (the MQTT authenticate hook and the pipeline read a device
 * on every message), so each instance keeps a copy in memory, loaded at open:
 * - a write goes to PostgreSQL in one transaction, which also checks what the copy checked (the
 *   patients a device names exist, a patient removed is no longer assigned) against the rows
 *   themselves, locked, since another instance may have changed them; the copy takes the written
 *   record once the transaction committed;
 * - the transaction sends `NOTIFY medgw_registry` naming the changed row; every instance LISTENs and
 *   reads that row again, so a device added on one instance authenticates and is attributed on the
 *   others as soon as the notification arrives;
 * - a notification is only a hint (one lost while a connection was down is never sent again): a full
 *   reload every `reloadIntervalMs`, and after the listening connection comes back, is the truth.
 *
 * Reads and writes of one instance go through one queue, so a reload that read a row before a local
 * write never lands after it; a reload that read a row before another instance's write is followed by
 * the notification of that write, whose reading lands after it.
 *
 * Device secrets are stored as today (`sha256$…`, older `scrypt$…`): the database never holds a secret.
 */
import { MedgwError } from '../../kernel/errors.ts';
import type { DeviceRecord, PatientRecord, Registry } from '../contracts.ts';
import { type ChannelListener, listenChannel } from '../storage/listen.ts';
import { type Migration, migrate, openPool, type Pool, type PoolClient } from '../storage/postgres.ts';
import {
  alreadyExists,
  byCreation,
  checkDevice,
  checkId,
  checkPatient,
  DEVICE,
  deepFreeze,
  devicePatients,
  own,
  PATIENT,
  pathText,
  patientInUse,
  plainMap,
} from './records.ts';
import { hashSecret, secretHashKind, VerifiedSecrets } from './secrets.ts';

export const REGISTRY_CHANNEL = 'medgw_registry';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'devices, patients and named sections, one JSON record per row',
    sql: `
      CREATE TABLE medgw_registry_patient (
        id text PRIMARY KEY,
        record jsonb NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE medgw_registry_device (
        id text PRIMARY KEY,
        record jsonb NOT NULL,
        -- the patients the device points at (its own and its household users'): the in-use check
        patient_ids text[] NOT NULL DEFAULT '{}',
        created_at bigint NOT NULL
      );
      CREATE INDEX medgw_registry_device_patients ON medgw_registry_device USING gin (patient_ids);
      CREATE TABLE medgw_registry_section (
        name text PRIMARY KEY,
        value jsonb NOT NULL
      );
    `,
  },
];

type Kind = 'device' | 'patient' | 'section';
const KIND_CODE: Record<Kind, string> = { device: 'd', patient: 'p', section: 's' };
const CODE_KIND: Record<string, Kind> = { d: 'device', p: 'patient', s: 'section' };

export interface PostgresRegistryOptions {
  /** The full reload behind the notifications; default 30 s. */
  readonly reloadIntervalMs?: number;
  /** Delay before listening again after the connection dropped; default 1 s. */
  readonly relistenMs?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

function corrupt(where: string, what: string): MedgwError {
  return new MedgwError('MEDGW_ERR_REGISTRY_CORRUPT', `PostgreSQL registry: ${where}: ${what}`, {
    path: where,
  });
}

function readDevice(id: string, raw: unknown): DeviceRecord {
  const parsed = DEVICE.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(pathText(['devices', id, ...(issue?.path ?? [])]), issue?.message ?? 'not a device');
  }
  const d = raw as DeviceRecord;
  if (d.id !== id) throw corrupt(pathText(['devices', id, 'id']), `"${d.id}" differs from its key`);
  return deepFreeze(d);
}

function readPatient(id: string, raw: unknown): PatientRecord {
  const parsed = PATIENT.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(pathText(['patients', id, ...(issue?.path ?? [])]), issue?.message ?? 'not a patient');
  }
  const p = raw as PatientRecord;
  if (p.id !== id) throw corrupt(pathText(['patients', id, 'id']), `"${p.id}" differs from its key`);
  return p;
}

export class PostgresRegistry implements Registry {
  private readonly secrets = new VerifiedSecrets();
  private devices: Record<string, DeviceRecord> = plainMap({});
  private patients: Record<string, PatientRecord> = plainMap({});
  private sections: Record<string, unknown> = plainMap({});
  /** Reloads and writes of this instance, one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Rows named by notifications and not read yet, read together by the next queued read. */
  private readonly notified = new Map<string, { kind: Kind; id: string }>();
  private notifiedRead: Promise<void> | undefined;
  private upgrading:
    | { readonly changes: Map<string, { from: string; to: string }>; readonly done: Promise<Set<string>> }
    | undefined;
  private listener: ChannelListener | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ownPool = false;
  private readonly changeListeners = new Set<(change: { kind: Kind; id: string }) => void>();

  private constructor(
    private readonly pool: Pool,
    private readonly options: PostgresRegistryOptions,
  ) {}

  /** Opens a pool of its own on `url` (ended by close()), then opens the registry on it. */
  static async connect(url: string, options: PostgresRegistryOptions = {}): Promise<PostgresRegistry> {
    const pool = await openPool(url, { max: 4, applicationName: 'medgw registry' });
    try {
      const registry = await PostgresRegistry.open(pool, options);
      registry.ownPool = true;
      return registry;
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
  }

  /** Brings the schema up to date, listens for other instances' changes, then loads the copy. */
  static async open(pool: Pool, options: PostgresRegistryOptions = {}): Promise<PostgresRegistry> {
    await migrate(pool, 'registry', MIGRATIONS);
    const registry = new PostgresRegistry(pool, options);
    try {
      // listening first: a change committed between the load and the LISTEN is not missed
      await registry.listen();
      await registry.reload();
    } catch (e) {
      await registry.close();
      throw e;
    }
    registry.timer = setInterval(() => {
      registry.reload().catch((e: unknown) => registry.warn(e, 'registry reload from PostgreSQL failed'));
    }, options.reloadIntervalMs ?? 30_000);
    registry.timer.unref();
    return registry;
  }

  /** Called once a notified change (another instance's, or this one's echoed back) is in this copy. */
  onChange(listener: (change: { kind: Kind; id: string }) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private warn(e: unknown, msg: string): void {
    this.options.log?.warn({ err: e instanceof Error ? e.message : String(e) }, msg);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async listen(): Promise<void> {
    this.listener = await listenChannel(this.pool, {
      channel: REGISTRY_CHANNEL,
      onPayload: (payload) => {
        const kind = CODE_KIND[payload.slice(0, 1)];
        if (kind) this.hint(kind, payload.slice(2));
      },
      onRelisten: () => this.reload(),
      ...(this.options.relistenMs !== undefined ? { relistenMs: this.options.relistenMs } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
  }

  /** A notification: the named rows are read again together, in the queue. */
  private hint(kind: Kind, id: string): void {
    this.notified.set(`${kind}:${id}`, { kind, id });
    if (this.notifiedRead) return;
    this.notifiedRead = this.enqueue(async () => {
      this.notifiedRead = undefined;
      const rows = [...this.notified.values()];
      this.notified.clear();
      await this.readRows(rows);
    }).catch((e: unknown) => this.warn(e, 'reading registry rows another instance changed failed'));
  }

  private async readRows(rows: readonly { kind: Kind; id: string }[]): Promise<void> {
    const ids = (kind: Kind) => rows.filter((r) => r.kind === kind).map((r) => r.id);
    const [devices, patients, sections] = await Promise.all([
      this.pool.query<{ id: string; record: unknown }>(
        'SELECT id, record FROM medgw_registry_device WHERE id = ANY($1)',
        [ids('device')],
      ),
      this.pool.query<{ id: string; record: unknown }>(
        'SELECT id, record FROM medgw_registry_patient WHERE id = ANY($1)',
        [ids('patient')],
      ),
      this.pool.query<{ name: string; value: unknown }>(
        'SELECT name, value FROM medgw_registry_section WHERE name = ANY($1)',
        [ids('section')],
      ),
    ]);
    const found = new Map<string, unknown>();
    for (const r of devices.rows) found.set(`device:${r.id}`, r.record);
    for (const r of patients.rows) found.set(`patient:${r.id}`, r.record);
    for (const r of sections.rows) found.set(`section:${r.name}`, r.value);
    const nextDevices = plainMap(this.devices);
    const nextPatients = plainMap(this.patients);
    const nextSections = plainMap(this.sections);
    for (const { kind, id } of rows) {
      const raw = found.get(`${kind}:${id}`);
      if (kind === 'device') {
        this.secrets.forget(id);
        if (raw === undefined) delete nextDevices[id];
        else nextDevices[id] = readDevice(id, raw);
      } else if (kind === 'patient') {
        if (raw === undefined) delete nextPatients[id];
        else nextPatients[id] = readPatient(id, raw);
      } else if (raw === undefined) delete nextSections[id];
      else nextSections[id] = raw;
    }
    this.devices = nextDevices;
    this.patients = nextPatients;
    this.sections = nextSections;
    for (const change of rows) for (const l of this.changeListeners) l(change);
  }

  /** Reads every row again and replaces the copy (at open, periodically, after a lost connection). */
  reload(): Promise<void> {
    return this.enqueue(async () => {
      const [devices, patients, sections] = await Promise.all([
        this.pool.query<{ id: string; record: unknown }>('SELECT id, record FROM medgw_registry_device'),
        this.pool.query<{ id: string; record: unknown }>('SELECT id, record FROM medgw_registry_patient'),
        this.pool.query<{ name: string; value: unknown }>('SELECT name, value FROM medgw_registry_section'),
      ]);
      const nextDevices = plainMap<DeviceRecord>({});
      const nextPatients = plainMap<PatientRecord>({});
      const nextSections = plainMap<unknown>({});
      for (const r of patients.rows) nextPatients[r.id] = readPatient(r.id, r.record);
      for (const r of devices.rows) {
        const d = readDevice(r.id, r.record);
        // a login proof is kept only for the hash it was made against
        if (own(this.devices, r.id)?.secretHash !== d.secretHash) this.secrets.forget(r.id);
        nextDevices[r.id] = d;
      }
      for (const r of sections.rows) nextSections[r.name] = r.value;
      for (const id of Object.keys(this.devices)) if (!own(nextDevices, id)) this.secrets.forget(id);
      this.devices = nextDevices;
      this.patients = nextPatients;
      this.sections = nextSections;
    });
  }

  /** Runs `fn` in one transaction, in this instance's queue; `notify` names the rows it changed. */
  private write<T>(
    fn: (client: PoolClient, notify: (kind: Kind, id: string) => void) => Promise<T>,
  ): Promise<T> {
    return this.enqueue(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const changed: string[] = [];
        const result = await fn(client, (kind, id) => changed.push(`${KIND_CODE[kind]}:${id}`));
        for (const payload of changed)
          await client.query('SELECT pg_notify($1, $2)', [REGISTRY_CHANNEL, payload]);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    });
  }

  getDevice(id: string): DeviceRecord | undefined {
    return own(this.devices, id);
  }

  listDevices(): DeviceRecord[] {
    return Object.values(this.devices).sort(byCreation);
  }

  async putDevice(device: DeviceRecord, options: { readonly create?: boolean } = {}): Promise<void> {
    checkDevice(device, (id) => Object.hasOwn(this.patients, id));
    if (options.create && own(this.devices, device.id)) throw alreadyExists('device', device.id);
    const record = deepFreeze(structuredClone(device));
    const patients = [...new Set(devicePatients(record))];
    this.secrets.forget(device.id);
    await this.write(async (client, notify) => {
      // the patients are locked while the device points at them: removePatient waits, then sees it
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM medgw_registry_patient WHERE id = ANY($1) FOR SHARE',
        [patients],
      );
      const missing = patients.find((p) => !rows.some((r) => r.id === p));
      if (missing !== undefined) {
        throw new MedgwError(
          'MEDGW_ERR_REGISTRY_UNKNOWN',
          `device ${device.id}: no patient ${missing} in the registry`,
        );
      }
      // with create, an id another instance took (its notification not read here yet) is refused
      const written = await client.query(
        `INSERT INTO medgw_registry_device (id, record, patient_ids, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO ${
           options.create
             ? 'NOTHING'
             : `UPDATE SET record = EXCLUDED.record, patient_ids = EXCLUDED.patient_ids,
           created_at = EXCLUDED.created_at`
         }`,
        [record.id, JSON.stringify(record), patients, record.createdAt],
      );
      if ((written.rowCount ?? 0) === 0) throw alreadyExists('device', record.id);
      notify('device', record.id);
    });
    this.devices = plainMap(this.devices);
    this.devices[record.id] = record;
  }

  async removeDevice(id: string): Promise<boolean> {
    if (!own(this.devices, id)) return false;
    this.secrets.forget(id);
    const removed = await this.write(async (client, notify) => {
      const { rowCount } = await client.query('DELETE FROM medgw_registry_device WHERE id = $1', [id]);
      notify('device', id);
      return (rowCount ?? 0) > 0;
    });
    this.devices = plainMap(this.devices);
    delete this.devices[id];
    return removed;
  }

  getPatient(id: string): PatientRecord | undefined {
    const p = own(this.patients, id);
    return p ? structuredClone(p) : undefined;
  }

  listPatients(): PatientRecord[] {
    return Object.values(this.patients)
      .sort(byCreation)
      .map((p) => structuredClone(p));
  }

  async putPatient(patient: PatientRecord, options: { readonly create?: boolean } = {}): Promise<void> {
    checkPatient(patient);
    if (options.create && own(this.patients, patient.id)) throw alreadyExists('patient', patient.id);
    const record = structuredClone(patient);
    await this.write(async (client, notify) => {
      const written = await client.query(
        `INSERT INTO medgw_registry_patient (id, record, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO ${options.create ? 'NOTHING' : 'UPDATE SET record = EXCLUDED.record, created_at = EXCLUDED.created_at'}`,
        [record.id, JSON.stringify(record), record.createdAt],
      );
      if ((written.rowCount ?? 0) === 0) throw alreadyExists('patient', record.id);
      notify('patient', record.id);
    });
    this.patients = plainMap(this.patients);
    this.patients[record.id] = record;
  }

  /** Refuses (MEDGW_ERR_REGISTRY_IN_USE) while a device or household user still points at the patient. */
  async removePatient(id: string): Promise<boolean> {
    if (!own(this.patients, id)) return false;
    const users = Object.values(this.devices)
      .filter((d) => devicePatients(d).includes(id))
      .map((d) => d.id);
    if (users.length > 0) throw patientInUse(id, users);
    const removed = await this.write(async (client, notify) => {
      const locked = await client.query('SELECT id FROM medgw_registry_patient WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      if ((locked.rowCount ?? 0) === 0) return false;
      // another instance may have assigned a device meanwhile: the rows decide
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM medgw_registry_device WHERE patient_ids @> ARRAY[$1]::text[] ORDER BY id',
        [id],
      );
      if (rows.length > 0)
        throw patientInUse(
          id,
          rows.map((r) => r.id),
        );
      await client.query('DELETE FROM medgw_registry_patient WHERE id = $1', [id]);
      notify('patient', id);
      return true;
    });
    this.patients = plainMap(this.patients);
    delete this.patients[id];
    return removed;
  }

  private storedHash(id: string): string | undefined {
    const device = own(this.devices, id);
    return device?.transport === 'mqtt' ? device.secretHash : undefined;
  }

  verifyDeviceSecret(id: string, secret: string): boolean {
    return this.secrets.verify(id, secret, this.storedHash(id));
  }

  verifyDeviceSecretAsync(id: string, secret: string): Promise<boolean> {
    return this.secrets.verifyAsync(id, secret, this.storedHash(id));
  }

  knowsDeviceSecret(id: string, secret: string): boolean {
    return this.secrets.knows(id, secret, this.storedHash(id));
  }

  /**
   * Rewrites an older scrypt record to the fast hash once its device has just proven `secret` (see
   * LowRegistry.upgradeDeviceSecret). Logins arriving together share one transaction; a record another
   * instance replaced or already rewrote meanwhile is left as the database holds it.
   */
  async upgradeDeviceSecret(id: string, secret: string): Promise<boolean> {
    const from = this.storedHash(id);
    if (secretHashKind(from) !== 'scrypt' || !this.secrets.knows(id, secret, from)) return false;
    if (!this.upgrading) {
      const changes = new Map<string, { from: string; to: string }>();
      const changed = new Set<string>();
      const done = this.write(async (client, notify) => {
        // logins from now on wait for the next write
        this.upgrading = undefined;
        for (const [key, change] of changes) {
          const { rows } = await client.query<{ record: unknown }>(
            `UPDATE medgw_registry_device SET record = jsonb_set(record, '{secretHash}', to_jsonb($2::text))
             WHERE id = $1 AND record->>'secretHash' = $3 RETURNING record`,
            [key, change.to, change.from],
          );
          if (rows[0]) {
            changed.add(key);
            notify('device', key);
          }
        }
        return changed;
      }).then((set) => {
        this.devices = plainMap(this.devices);
        for (const key of set) {
          const current = own(this.devices, key);
          const change = changes.get(key);
          if (current && change) this.devices[key] = deepFreeze({ ...current, secretHash: change.to });
        }
        return set;
      });
      this.upgrading = { changes, done };
    }
    const batch = this.upgrading;
    const first = !batch.changes.has(id);
    batch.changes.set(id, { from: from as string, to: hashSecret(secret) });
    const changed = (await batch.done).has(id);
    return first && changed;
  }

  /** A named section kept for another component (the BLE store's bonds and consent codes…), or undefined. */
  getSection<T>(name: string): T | undefined {
    const v = own(this.sections, name);
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  async putSection(name: string, value: unknown): Promise<void> {
    checkId('section name', name);
    const copy = structuredClone(value);
    await this.write(async (client, notify) => {
      await client.query(
        `INSERT INTO medgw_registry_section (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
        [name, JSON.stringify(copy)],
      );
      notify('section', name);
    });
    this.sections = plainMap(this.sections);
    this.sections[name] = copy;
  }

  /** Stops listening and reloading; ends the pool when connect() opened it (else its owner does). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.listener?.close();
    this.listener = undefined;
    await this.queue.catch(() => undefined);
    if (this.ownPool) {
      this.ownPool = false;
      await this.pool.end().catch(() => undefined);
    }
  }
}
