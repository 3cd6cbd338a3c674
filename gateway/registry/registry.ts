/**
 * The registry (lowdb): devices, patients and small named sections other components keep here
 * (pairing links, consents). Small, human-readable, rarely written; every write is atomic and fsynced.
 */
import { Low, Memory } from 'lowdb';
import { MedgwError } from '../../drivers/errors.ts';
import type { DeviceRecord, PatientRecord, Registry } from '../contracts.ts';
import { AtomicJsonFile } from './file-adapter.ts';
import { VerifiedSecrets } from './secrets.ts';

export interface RegistryData {
  version: 1;
  devices: Record<string, DeviceRecord>;
  patients: Record<string, PatientRecord>;
  /** Named JSON sections owned by other components (for example `pairing`, `consents`). */
  sections: Record<string, unknown>;
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

function empty(): RegistryData {
  return { version: 1, devices: {}, patients: {}, sections: {} };
}

function invalid(message: string): MedgwError {
  return new MedgwError('MEDGW_ERR_REGISTRY_INVALID', message);
}

export function checkId(what: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw invalid(`${what} "${String(id)}" is not a valid id: 1 to 128 letters, digits or . _ : -`);
  }
}

/** Freezes a plain JSON value and everything in it (idempotent, cheap once frozen). */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

export class LowRegistry implements Registry {
  private readonly secrets = new VerifiedSecrets();

  private constructor(
    private readonly db: Low<RegistryData>,
    readonly path: string | undefined,
  ) {}

  /** Opens (or creates on first write) the registry file. */
  static async open(path: string): Promise<LowRegistry> {
    const file = new AtomicJsonFile<RegistryData>(path);
    file.cleanLeftovers();
    const db = new Low<RegistryData>(file, empty());
    await db.read();
    const d = db.data as Partial<RegistryData> | null;
    if (d?.version !== 1 || typeof d.devices !== 'object' || typeof d.patients !== 'object') {
      throw new MedgwError(
        'MEDGW_ERR_REGISTRY_CORRUPT',
        `${path} is not a medgw registry (version 1 with devices and patients)`,
      );
    }
    db.data = { ...empty(), ...d } as RegistryData;
    return new LowRegistry(db, path);
  }

  /** A registry that lives in memory only, for tests. */
  static async memory(): Promise<LowRegistry> {
    const db = new Low<RegistryData>(new Memory<RegistryData>(), empty());
    await db.read();
    return new LowRegistry(db, undefined);
  }

  /**
   * The stored record itself, deeply frozen (read on every MQTT message: no copy per call). Records
   * are replaced whole by putDevice, never changed in place.
   */
  getDevice(id: string): DeviceRecord | undefined {
    const d = this.db.data.devices[id];
    return d ? deepFreeze(d) : undefined;
  }

  listDevices(): DeviceRecord[] {
    return Object.values(this.db.data.devices)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map((d) => deepFreeze(d));
  }

  async putDevice(device: DeviceRecord): Promise<void> {
    checkId('device id', device.id);
    if (device.transport !== 'ble' && device.transport !== 'mqtt') {
      throw invalid(`device ${device.id}: transport must be ble or mqtt`);
    }
    if (device.patientId !== undefined) this.requirePatient(device.patientId, `device ${device.id}`);
    for (const [user, patient] of Object.entries(device.users ?? {})) {
      if (!/^[0-9]{1,3}$/.test(user) || Number(user) > 255) {
        throw invalid(`device ${device.id}: household user index "${user}" must be 0 to 255`);
      }
      this.requirePatient(patient, `device ${device.id} user ${user}`);
    }
    if (device.secretHash !== undefined && !device.secretHash.startsWith('scrypt$')) {
      throw invalid(`device ${device.id}: secretHash must be a scrypt hash, never the secret itself`);
    }
    if (device.transport === 'mqtt' && device.secretHash === undefined) {
      throw invalid(
        `device ${device.id}: an MQTT device needs a credential (provision it with medgw devices add)`,
      );
    }
    if (!Number.isFinite(device.createdAt))
      throw invalid(`device ${device.id}: createdAt must be a time in ms`);
    this.secrets.forget(device.id);
    await this.db.update((data) => {
      data.devices[device.id] = deepFreeze(structuredClone(device));
    });
  }

  async removeDevice(id: string): Promise<boolean> {
    if (!this.db.data.devices[id]) return false;
    this.secrets.forget(id);
    await this.db.update((data) => {
      delete data.devices[id];
    });
    return true;
  }

  getPatient(id: string): PatientRecord | undefined {
    const p = this.db.data.patients[id];
    return p ? structuredClone(p) : undefined;
  }

  listPatients(): PatientRecord[] {
    return Object.values(this.db.data.patients)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map((p) => structuredClone(p));
  }

  async putPatient(patient: PatientRecord): Promise<void> {
    checkId('patient id', patient.id);
    if (typeof patient.displayName !== 'string' || patient.displayName.trim().length === 0) {
      throw invalid(`patient ${patient.id}: displayName must be a non-empty string`);
    }
    if (patient.displayName.length > 200)
      throw invalid(`patient ${patient.id}: displayName is over 200 characters`);
    if (!Number.isFinite(patient.createdAt))
      throw invalid(`patient ${patient.id}: createdAt must be a time in ms`);
    await this.db.update((data) => {
      data.patients[patient.id] = structuredClone(patient);
    });
  }

  /** Refuses (MEDGW_ERR_REGISTRY_IN_USE) while a device or household user still points at the patient. */
  async removePatient(id: string): Promise<boolean> {
    if (!this.db.data.patients[id]) return false;
    const users = Object.values(this.db.data.devices)
      .filter((d) => d.patientId === id || Object.values(d.users ?? {}).includes(id))
      .map((d) => d.id);
    if (users.length > 0) {
      throw new MedgwError(
        'MEDGW_ERR_REGISTRY_IN_USE',
        `patient ${id} is still assigned to device(s) ${users.join(', ')}`,
        { devices: users },
      );
    }
    await this.db.update((data) => {
      delete data.patients[id];
    });
    return true;
  }

  verifyDeviceSecret(id: string, secret: string): boolean {
    const device = this.db.data.devices[id];
    return this.secrets.verify(id, secret, device?.transport === 'mqtt' ? device.secretHash : undefined);
  }

  /**
   * The same check as verifyDeviceSecret, with scrypt on the thread pool: use it where many devices
   * connect at once (the MQTT authenticate hook), so one check does not block the others.
   */
  verifyDeviceSecretAsync(id: string, secret: string): Promise<boolean> {
    const device = this.db.data.devices[id];
    return this.secrets.verifyAsync(id, secret, device?.transport === 'mqtt' ? device.secretHash : undefined);
  }

  /** A named section kept for another component (pairing links, consents…), or undefined. */
  getSection<T>(name: string): T | undefined {
    const v = this.db.data.sections[name];
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  async putSection(name: string, value: unknown): Promise<void> {
    checkId('section name', name);
    await this.db.update((data) => {
      data.sections[name] = structuredClone(value);
    });
  }

  private requirePatient(id: string, where: string): void {
    if (!this.db.data.patients[id]) {
      throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `${where}: no patient ${id} in the registry`);
    }
  }
}
