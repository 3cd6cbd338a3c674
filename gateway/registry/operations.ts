/**
 * Registry operations shared by the admin API and the command line (which runs them directly on the
 * data directory when no gateway is running): provisioning, assignment, patient management.
 */
import { MedgwError } from '../../kernel/errors.ts';
import type { Clock, DeviceRecord, PatientRecord, Registry } from '../contracts.ts';
import { checkId } from './registry.ts';
import { generateSecret, hashSecret } from './secrets.ts';

export interface AddDeviceInput {
  readonly id: string;
  readonly transport: 'ble' | 'mqtt';
  readonly patientId?: string | undefined;
  readonly name?: string | undefined;
  readonly driver?: string | undefined;
}

/**
 * Provisions a device's credentials where they are checked outside the registry: the external broker's
 * dynamic-security plugin (gateway/mqtt/dynsec.ts). Both calls are idempotent; a failure throws a
 * coded error and the registry is then left as it was.
 */
export interface DeviceProvisioner {
  provision(deviceId: string, secret: string): Promise<void>;
  forget(deviceId: string): Promise<void>;
}

/**
 * Provisions a device. For MQTT returns the generated secret: it is shown once and never stored.
 *
 * The registry decides: its row is created first, under its uniqueness (on PostgreSQL the primary key
 * every instance shares), and only the instance whose row was created provisions the broker (with a
 * `provisioner`). Two instances adding one id at the same moment: one wins, the other gets
 * MEDGW_ERR_REGISTRY_EXISTS and never touches the broker, so the broker holds the winner's secret.
 * A broker that refuses or does not answer: the row is removed again and the coded error thrown.
 * A crash between the two steps leaves a registered device the broker does not know, whose secret
 * nobody was shown: `medgw devices add --again --id <id>` (reissueDeviceSecret) repairs it.
 */
export async function addDevice(
  registry: Registry,
  input: AddDeviceInput,
  clock: Clock,
  provisioner?: DeviceProvisioner,
): Promise<{ device: DeviceRecord; secret?: string }> {
  checkId('device id', input.id);
  if (registry.getDevice(input.id)) {
    throw new MedgwError('MEDGW_ERR_REGISTRY_EXISTS', `device ${input.id} already exists`);
  }
  const secret = input.transport === 'mqtt' ? generateSecret() : undefined;
  const device: DeviceRecord = {
    id: input.id,
    transport: input.transport,
    ...(input.driver !== undefined ? { driver: input.driver } : {}),
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.patientId !== undefined ? { patientId: input.patientId } : {}),
    ...(secret !== undefined ? { secretHash: hashSecret(secret) } : {}),
    ...(input.transport === 'ble' ? { bond: 'none' as const } : {}),
    createdAt: clock.now(),
  };
  await registry.putDevice(device, { create: true });
  if (provisioner !== undefined && secret !== undefined) {
    try {
      await provisioner.provision(device.id, secret);
    } catch (e) {
      // nothing half-done: the id is free again (a removal that fails too is repaired with --again)
      await registry.removeDevice(device.id).catch(() => undefined);
      throw e;
    }
  }
  return secret !== undefined ? { device, secret } : { device };
}

/**
 * Gives a registered MQTT device a new secret (`medgw devices add --again`): the repair of an add
 * interrupted between the registry and the broker, and the way to replace a lost or leaked secret.
 * The registry takes the new secret's hash first (the old secret stops working with the embedded
 * broker at once), then the broker's client is replaced (with a `provisioner`). A broker that refuses
 * or does not answer leaves the new hash in the registry: run it again. Two runs for one device at
 * the same moment may leave the registry and the broker holding different secrets: run it once more.
 */
export async function reissueDeviceSecret(
  registry: Registry,
  id: string,
  provisioner?: DeviceProvisioner,
): Promise<{ device: DeviceRecord; secret: string }> {
  const existing = registry.getDevice(id);
  if (!existing) throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${id} in the registry`);
  if (existing.transport !== 'mqtt') {
    throw new MedgwError(
      'MEDGW_ERR_ADMIN_BAD_REQUEST',
      `device ${id} is a Bluetooth device: only an MQTT device has a secret to issue again`,
    );
  }
  const secret = generateSecret();
  const device: DeviceRecord = { ...existing, secretHash: hashSecret(secret) };
  await registry.putDevice(device);
  if (provisioner) await provisioner.provision(id, secret);
  return { device, secret };
}

/**
 * Removes a device. An MQTT device loses its broker credentials first (with a `provisioner`), so a
 * broker that refuses or does not answer leaves the device registered: run it again.
 */
export async function removeDevice(
  registry: Registry,
  id: string,
  provisioner?: DeviceProvisioner,
): Promise<DeviceRecord> {
  const device = registry.getDevice(id);
  if (!device) throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${id} in the registry`);
  if (provisioner && device.transport === 'mqtt') await provisioner.forget(id);
  if (!(await registry.removeDevice(id))) {
    throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${id} in the registry`);
  }
  return device;
}

/**
 * Assigns a device to a patient (`patientId`, null to clear) and/or maps household user indexes to
 * patients (`users`, a patient id or null to clear one index).
 */
export async function assignDevice(
  registry: Registry,
  id: string,
  change: { patientId?: string | null; users?: Record<string, string | null> },
): Promise<DeviceRecord> {
  const device = registry.getDevice(id);
  if (!device) throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${id} in the registry`);
  const { patientId: _old, users: _oldUsers, ...rest } = device;
  let patientId = device.patientId;
  if (change.patientId !== undefined) patientId = change.patientId ?? undefined;
  // null-prototype: an outside-chosen index (`__proto__`) is a key like any other, then refused by putDevice
  const users: Record<string, string> = Object.assign(Object.create(null), device.users ?? {});
  for (const [index, patient] of Object.entries(change.users ?? {})) {
    if (patient === null) delete users[index];
    else users[index] = patient;
  }
  const next: DeviceRecord = {
    ...rest,
    ...(patientId !== undefined ? { patientId } : {}),
    ...(Object.keys(users).length > 0 ? { users } : {}),
  };
  await registry.putDevice(next);
  return next;
}

export async function addPatient(
  registry: Registry,
  input: { id: string; displayName: string },
  clock: Clock,
): Promise<PatientRecord> {
  checkId('patient id', input.id);
  if (registry.getPatient(input.id)) {
    throw new MedgwError('MEDGW_ERR_REGISTRY_EXISTS', `patient ${input.id} already exists`);
  }
  const patient: PatientRecord = { id: input.id, displayName: input.displayName, createdAt: clock.now() };
  await registry.putPatient(patient, { create: true });
  return patient;
}

/** A device as shown outside the gateway: never its credential hash. */
export function publicDevice(d: DeviceRecord): Omit<DeviceRecord, 'secretHash'> & { hasSecret: boolean } {
  const { secretHash, ...rest } = d;
  return { ...rest, hasSecret: secretHash !== undefined };
}
