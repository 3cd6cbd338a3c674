/**
 * What every registry implementation (lowdb file, PostgreSQL) checks the same way: ids, the shape of
 * a stored device or patient record, and the rules a write must pass. One place for each rule.
 */
import { z } from 'zod';
import { MedgwError } from '../../kernel/errors.ts';
import type { DeviceRecord, PatientRecord } from '../contracts.ts';
import { secretHashKind } from './secrets.ts';

export const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The whole registry file (gateway/registry/registry.ts), as its identity migration (migrate.ts) reads it too. */
export interface RegistryData {
  version: 1;
  devices: Record<string, DeviceRecord>;
  patients: Record<string, PatientRecord>;
  /** Named JSON sections owned by other components (for example `pairing`, `consents`). */
  sections: Record<string, unknown>;
}

/** A stored record as zod checks it when read back (unknown keys of a record are kept, not refused). */
const RECORD_ID = z.string().regex(ID);
const TIME = z.number().finite();
export const DEVICE = z.looseObject({
  id: RECORD_ID,
  transport: z.enum(['ble', 'mqtt']),
  driver: z.string().optional(),
  name: z.string().optional(),
  patientId: RECORD_ID.optional(),
  users: z.record(z.string().regex(/^[0-9]{1,3}$/), RECORD_ID).optional(),
  // DeviceIdentity: texts, and small records of texts (udi, knownAs).
  identity: z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())])).optional(),
  // `sha256$…` (current) or `scrypt$…` (older records, migrated at the device's next login): secrets.ts
  secretHash: z
    .string()
    .refine((h) => secretHashKind(h) !== undefined, 'not a sha256$ or scrypt$ secret hash')
    .optional(),
  bond: z.enum(['none', 'bonded']).optional(),
  createdAt: TIME,
});
export const PATIENT = z.looseObject({
  id: RECORD_ID,
  displayName: z.string().min(1).max(200),
  createdAt: TIME,
});

/** `devices."d1".transport`: where a zod issue sits in a record or a file. */
export function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the top level)';
  return path
    .map((k, i) =>
      typeof k === 'number'
        ? `[${k}]`
        : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(k))
          ? `${i ? '.' : ''}${String(k)}`
          : `${i ? '.' : ''}${JSON.stringify(String(k))}`,
    )
    .join('');
}

/** A null-prototype copy of a record map: an outside-chosen key (`__proto__`, `constructor`) is only a key. */
export function plainMap<T>(from: Readonly<Record<string, T>> | undefined): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of Object.entries(from ?? {})) out[k] = v;
  return out;
}

/**
 * The record stored under an outside-chosen key, or undefined: only own entries count, so
 * `__proto__`, `constructor` or `toString` never find Object.prototype or one of its methods.
 */
export function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

export function invalid(message: string): MedgwError {
  return new MedgwError('MEDGW_ERR_REGISTRY_INVALID', message);
}

export function checkId(what: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw invalid(`${what} "${String(id)}" is not a valid id: 1 to 128 letters, digits or . _ : -`);
  }
}

/** Freezes a plain JSON value and everything in it (idempotent, cheap once frozen). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/** Every patient a device points at (its own, and its household users'). */
export function devicePatients(device: DeviceRecord): string[] {
  return [
    ...(device.patientId !== undefined ? [device.patientId] : []),
    ...Object.values(device.users ?? {}),
  ];
}

/**
 * The rules a device record must pass before any registry stores it. `hasPatient` answers from the
 * implementation's copy; a shared store checks the patients again in its write transaction.
 */
export function checkDevice(device: DeviceRecord, hasPatient: (id: string) => boolean): void {
  const requirePatient = (id: string, where: string) => {
    if (!hasPatient(id)) {
      throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `${where}: no patient ${id} in the registry`);
    }
  };
  checkId('device id', device.id);
  if (device.transport !== 'ble' && device.transport !== 'mqtt') {
    throw invalid(`device ${device.id}: transport must be ble or mqtt`);
  }
  if (device.patientId !== undefined) requirePatient(device.patientId, `device ${device.id}`);
  for (const [user, patient] of Object.entries(device.users ?? {})) {
    if (!/^[0-9]{1,3}$/.test(user) || Number(user) > 255) {
      throw invalid(`device ${device.id}: household user index "${user}" must be 0 to 255`);
    }
    requirePatient(patient, `device ${device.id} user ${user}`);
  }
  if (device.secretHash !== undefined && secretHashKind(device.secretHash) === undefined) {
    throw invalid(
      `device ${device.id}: secretHash must be a sha256$ (or older scrypt$) hash, never the secret itself`,
    );
  }
  if (device.transport === 'mqtt' && device.secretHash === undefined) {
    throw invalid(
      `device ${device.id}: an MQTT device needs a credential (provision it with medgw devices add)`,
    );
  }
  if (!Number.isFinite(device.createdAt))
    throw invalid(`device ${device.id}: createdAt must be a time in ms`);
}

export function checkPatient(patient: PatientRecord): void {
  checkId('patient id', patient.id);
  if (typeof patient.displayName !== 'string' || patient.displayName.trim().length === 0) {
    throw invalid(`patient ${patient.id}: displayName must be a non-empty string`);
  }
  if (patient.displayName.length > 200)
    throw invalid(`patient ${patient.id}: displayName is over 200 characters`);
  if (!Number.isFinite(patient.createdAt))
    throw invalid(`patient ${patient.id}: createdAt must be a time in ms`);
}

/** The refusal of a put with `create` when the id is taken. */
export function alreadyExists(what: 'device' | 'patient', id: string): MedgwError {
  return new MedgwError('MEDGW_ERR_REGISTRY_EXISTS', `${what} ${id} already exists`);
}

/** The in-use refusal of removePatient, naming the devices that still point at the patient. */
export function patientInUse(id: string, devices: readonly string[]): MedgwError {
  return new MedgwError(
    'MEDGW_ERR_REGISTRY_IN_USE',
    `patient ${id} is still assigned to device(s) ${devices.join(', ')}`,
    { devices: [...devices] },
  );
}

/** Oldest first, then by id: the order listDevices and listPatients answer in. */
export function byCreation<T extends { readonly createdAt: number; readonly id: string }>(
  a: T,
  b: T,
): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
}
