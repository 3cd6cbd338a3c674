/**
 * The registry (lowdb): devices, patients and small named sections other components keep here
 * (pairing links, consents). Small, human-readable, rarely written; every write is atomic and fsynced.
 */
import { Low, Memory } from 'lowdb';
import { z } from 'zod';
import { MedgwError } from '../../kernel/errors.ts';
import type { DeviceRecord, PatientRecord, Registry } from '../contracts.ts';
import { AtomicJsonFile } from './file-adapter.ts';
import { migrateIdentities } from './migrate.ts';
import {
  alreadyExists,
  byCreation,
  checkDevice,
  checkId,
  checkPatient,
  DEVICE,
  deepFreeze,
  own,
  PATIENT,
  pathText,
  patientInUse,
  plainMap,
  type RegistryData,
} from './records.ts';
import { hashSecret, secretHashKind, VerifiedSecrets } from './secrets.ts';

export { checkId };

/** The whole registry file as zod checks it at start. */
const REGISTRY_FILE = z.strictObject({
  version: z.literal(1),
  devices: z.record(z.string(), DEVICE),
  patients: z.record(z.string(), PATIENT),
  sections: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Checks the whole file against the schema and the links inside it (a record under its own id, a
 * device's patients present); refuses with MEDGW_ERR_REGISTRY_CORRUPT naming the path in the file.
 */
function checkFile(path: string, raw: unknown): RegistryData {
  const corrupt = (where: string, what: string) =>
    new MedgwError('MEDGW_ERR_REGISTRY_CORRUPT', `${path}: ${where}: ${what}`, { path: where });
  if (raw === null) return empty();
  const parsed = REGISTRY_FILE.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(pathText(issue?.path ?? []), issue?.message ?? 'not a medgw registry');
  }
  // the values as read (zod's copy would turn a "__proto__" key into a prototype)
  const file = raw as RegistryData;
  const data: RegistryData = {
    version: 1,
    devices: plainMap(file.devices),
    patients: plainMap(file.patients),
    sections: plainMap(file.sections),
  };
  for (const [key, p] of Object.entries(data.patients)) {
    if (p.id !== key) throw corrupt(pathText(['patients', key, 'id']), `"${p.id}" differs from its key`);
  }
  for (const [key, d] of Object.entries(data.devices)) {
    if (d.id !== key) throw corrupt(pathText(['devices', key, 'id']), `"${d.id}" differs from its key`);
    if (d.transport === 'mqtt' && d.secretHash === undefined)
      throw corrupt(pathText(['devices', key, 'secretHash']), 'an MQTT device needs its credential hash');
    const patients: [PropertyKey[], string][] = [
      ...(d.patientId !== undefined
        ? [[['devices', key, 'patientId'], d.patientId] as [PropertyKey[], string]]
        : []),
      ...Object.entries(d.users ?? {}).map(
        ([u, p]) => [['devices', key, 'users', u], p] as [PropertyKey[], string],
      ),
    ];
    for (const [where, id] of patients) {
      if (!Object.hasOwn(data.patients, id)) throw corrupt(pathText(where), `no patient "${id}" in the file`);
    }
  }
  return data;
}

function empty(): RegistryData {
  return { version: 1, devices: plainMap({}), patients: plainMap({}), sections: plainMap({}) };
}

export class LowRegistry implements Registry {
  private readonly secrets = new VerifiedSecrets();
  /** Scrypt records proven at login and waiting for the one registry write that migrates them. */
  private upgrading:
    | { readonly changes: Map<string, { from: string; to: string }>; readonly done: Promise<Set<string>> }
    | undefined;
  /** Writes one after the other: each builds on the data the previous one left. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Low<RegistryData>,
    readonly path: string | undefined,
  ) {}

  /** Opens (or creates on first write) the registry file. */
  static async open(path: string): Promise<LowRegistry> {
    const file = new AtomicJsonFile<RegistryData>(path);
    file.cleanLeftovers();
    const db = new Low<RegistryData>(file, empty());
    // One-time identity migration (migrate.ts): written before use when it changed a stored device.
    const migration = migrateIdentities(checkFile(path, await file.read()), Date.now());
    if (migration.changed) await file.write(migration.data);
    db.data = migration.data;
    return new LowRegistry(db, path);
  }

  /** A registry that lives in memory only, for tests. */
  static async memory(): Promise<LowRegistry> {
    const db = new Low<RegistryData>(new Memory<RegistryData>(), empty());
    await db.read();
    return new LowRegistry(db, undefined);
  }

  /**
   * Writes a changed copy of the data, and only once the file holds it does the copy become the data
   * in memory: a failed write (full disk) leaves memory as the file is. The file write is atomic and
   * durable (file-adapter.ts: temporary file, fsync, rename, fsync of the directory).
   */
  private commit(change: (next: RegistryData) => void): Promise<void> {
    const run = async () => {
      const current = this.db.data;
      const next: RegistryData = {
        version: 1,
        devices: plainMap(current.devices),
        patients: plainMap(current.patients),
        sections: plainMap(current.sections),
      };
      change(next);
      await this.db.adapter.write(next);
      this.db.data = next;
    };
    const done = this.queue.then(run, run);
    this.queue = done.catch(() => undefined);
    return done;
  }

  /**
   * The stored record itself, deeply frozen (read on every MQTT message: no copy per call). Records
   * are replaced whole by putDevice, never changed in place.
   */
  getDevice(id: string): DeviceRecord | undefined {
    const d = own(this.db.data.devices, id);
    return d ? deepFreeze(d) : undefined;
  }

  listDevices(): DeviceRecord[] {
    return Object.values(this.db.data.devices)
      .sort(byCreation)
      .map((d) => deepFreeze(d));
  }

  async putDevice(device: DeviceRecord, options: { readonly create?: boolean } = {}): Promise<void> {
    checkDevice(device, (id) => Object.hasOwn(this.db.data.patients, id));
    if (options.create && own(this.db.data.devices, device.id)) throw alreadyExists('device', device.id);
    this.secrets.forget(device.id);
    await this.commit((data) => {
      // checked again in the write queue: two adds of one id in a row
      if (options.create && own(data.devices, device.id)) throw alreadyExists('device', device.id);
      data.devices[device.id] = deepFreeze(structuredClone(device));
    });
  }

  async removeDevice(id: string): Promise<boolean> {
    if (!own(this.db.data.devices, id)) return false;
    this.secrets.forget(id);
    await this.commit((data) => {
      delete data.devices[id];
    });
    return true;
  }

  getPatient(id: string): PatientRecord | undefined {
    const p = own(this.db.data.patients, id);
    return p ? structuredClone(p) : undefined;
  }

  listPatients(): PatientRecord[] {
    return Object.values(this.db.data.patients)
      .sort(byCreation)
      .map((p) => structuredClone(p));
  }

  async putPatient(patient: PatientRecord, options: { readonly create?: boolean } = {}): Promise<void> {
    checkPatient(patient);
    if (options.create && own(this.db.data.patients, patient.id)) throw alreadyExists('patient', patient.id);
    await this.commit((data) => {
      if (options.create && own(data.patients, patient.id)) throw alreadyExists('patient', patient.id);
      data.patients[patient.id] = structuredClone(patient);
    });
  }

  /** Refuses (MEDGW_ERR_REGISTRY_IN_USE) while a device or household user still points at the patient. */
  async removePatient(id: string): Promise<boolean> {
    if (!own(this.db.data.patients, id)) return false;
    const users = Object.values(this.db.data.devices)
      .filter((d) => d.patientId === id || Object.values(d.users ?? {}).includes(id))
      .map((d) => d.id);
    if (users.length > 0) throw patientInUse(id, users);
    await this.commit((data) => {
      delete data.patients[id];
    });
    return true;
  }

  verifyDeviceSecret(id: string, secret: string): boolean {
    const device = own(this.db.data.devices, id);
    return this.secrets.verify(id, secret, device?.transport === 'mqtt' ? device.secretHash : undefined);
  }

  /**
   * The same check as verifyDeviceSecret, with an older record's scrypt on the thread pool: use it
   * where many devices connect at once (the MQTT authenticate hook), so one check does not block the others.
   */
  verifyDeviceSecretAsync(id: string, secret: string): Promise<boolean> {
    const device = own(this.db.data.devices, id);
    return this.secrets.verifyAsync(id, secret, device?.transport === 'mqtt' ? device.secretHash : undefined);
  }

  knowsDeviceSecret(id: string, secret: string): boolean {
    const device = own(this.db.data.devices, id);
    return this.secrets.knows(id, secret, device?.transport === 'mqtt' ? device.secretHash : undefined);
  }

  /** `sha256`, `scrypt` (an older record, not yet migrated) or undefined (no MQTT device of that id). */
  deviceSecretKind(id: string): 'sha256' | 'scrypt' | undefined {
    const device = own(this.db.data.devices, id);
    return device?.transport === 'mqtt' ? secretHashKind(device.secretHash) : undefined;
  }

  /**
   * Rewrites an older scrypt record to the fast hash once its device has just proven `secret`
   * (verifyDeviceSecret/Async remembered the proof): true when the record was rewritten, false when
   * there was nothing to do (already fast, unknown id, secret not proven). Logins arriving together
   * share one registry write; a record replaced meanwhile (putDevice, removeDevice) is left as it is.
   */
  async upgradeDeviceSecret(id: string, secret: string): Promise<boolean> {
    const device = own(this.db.data.devices, id);
    const from = device?.transport === 'mqtt' ? device.secretHash : undefined;
    if (secretHashKind(from) !== 'scrypt' || !this.secrets.knows(id, secret, from)) return false;
    if (!this.upgrading) {
      const changes = new Map<string, { from: string; to: string }>();
      const changed = new Set<string>();
      const done = this.commit((data) => {
        // logins from now on wait for the next write
        this.upgrading = undefined;
        for (const [key, change] of changes) {
          const current = own(data.devices, key);
          if (current?.secretHash !== change.from) continue;
          data.devices[key] = deepFreeze({ ...current, secretHash: change.to });
          changed.add(key);
        }
      }).then(() => changed);
      this.upgrading = { changes, done };
    }
    const batch = this.upgrading;
    // two logins of one device in one batch: one rewrite, reported once
    const first = !batch.changes.has(id);
    batch.changes.set(id, { from: from as string, to: hashSecret(secret) });
    const changed = (await batch.done).has(id);
    return first && changed;
  }

  /** Nothing to release: every write is on disk when it resolves (the same call as the shared registry's). */
  async close(): Promise<void> {}

  /** The names of the sections kept here, sorted. */
  sectionNames(): string[] {
    return Object.keys(this.db.data.sections).sort();
  }

  /** A named section kept for another component (pairing links, consents…), or undefined. */
  getSection<T>(name: string): T | undefined {
    const v = own(this.db.data.sections, name);
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  async putSection(name: string, value: unknown): Promise<void> {
    checkId('section name', name);
    await this.commit((data) => {
      data.sections[name] = structuredClone(value);
    });
  }
}
