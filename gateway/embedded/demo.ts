/**
 * Demo provisioning of `npm start`: one demo patient, the three simulated BLE devices of `--ble sim`
 * (gateway/ble/sim.ts) and one simulated MQTT thermometer, all belonging to the demo patient.
 * Idempotent: a later start finds them and changes nothing an operator set (a device assigned to
 * someone else stays so), except the MQTT thermometer's secret, which is new on every start because
 * only its hash is kept.
 */
import type { Clock, DeviceRecord, Registry } from '../contracts.ts';
import { generateSecret, hashSecret } from '../registry/secrets.ts';

/** The pre-paired simulated devices of `--ble sim` (addresses of gateway/ble/sim.ts; a test keeps them equal). */
export const DEMO_BLE_DEVICES: readonly { readonly address: string; readonly name: string }[] = [
  { address: 'C0:26:DA:00:00:01', name: 'Demo glucometer' },
  { address: 'C0:26:DA:00:00:02', name: 'Demo scale' },
  { address: 'C0:26:DA:00:00:03', name: 'Demo blood-pressure cuff' },
];

export const DEMO_MQTT_DEVICE_ID = 'demo-thermometer';

/** The sandbox test identity the demo patient signs in with (docs/sandbox.md, Test identities). */
export const DEMO_IDENTITY = { login: 'marie.martin', password: 'sandbox' } as const;

export interface DemoSeed {
  readonly patientId: string;
  /** What this start created (empty on a later start). */
  readonly created: readonly string[];
  /** Device ids that belong to the demo patient now. */
  readonly devices: readonly string[];
  /** The MQTT thermometer's credential for this run (undefined without the embedded broker). */
  readonly mqtt?: { readonly deviceId: string; readonly secret: string };
}

export interface SeedOptions {
  readonly patientId: string;
  /** Provision the simulated BLE devices (`ble.mode: sim`). */
  readonly ble: boolean;
  /** Provision the MQTT thermometer (embedded broker). */
  readonly mqtt: boolean;
}

/** Creates what is missing and returns what the demo uses; safe to run on every start. */
export async function seedDemo(registry: Registry, clock: Clock, o: SeedOptions): Promise<DemoSeed> {
  const created: string[] = [];
  const devices: string[] = [];
  if (!registry.getPatient(o.patientId)) {
    await registry.putPatient({
      id: o.patientId,
      displayName: `Demo patient (sandbox identity ${DEMO_IDENTITY.login})`,
      createdAt: clock.now(),
    });
    created.push(`patient ${o.patientId}`);
  }
  const own = async (wanted: DeviceRecord): Promise<void> => {
    const found = registry.getDevice(wanted.id);
    if (!found) {
      await registry.putDevice(wanted);
      created.push(`device ${wanted.id}`);
      devices.push(wanted.id);
      return;
    }
    // provisioned earlier (or pre-paired by the central before the demo existed): give it an owner
    if (found.patientId === undefined && found.transport === wanted.transport) {
      await registry.putDevice({ ...found, patientId: o.patientId });
    }
    const now = registry.getDevice(wanted.id);
    if (now?.patientId === o.patientId) devices.push(wanted.id);
  };
  if (o.ble) {
    for (const d of DEMO_BLE_DEVICES) {
      // bonded: the simulated devices are pre-paired in sim mode (gateway/ble/README.md)
      await own({
        id: d.address,
        transport: 'ble',
        name: d.name,
        patientId: o.patientId,
        bond: 'bonded',
        createdAt: clock.now(),
      });
    }
  }
  let mqtt: DemoSeed['mqtt'];
  if (o.mqtt) {
    const secret = generateSecret();
    const existing = registry.getDevice(DEMO_MQTT_DEVICE_ID);
    if (existing && existing.transport === 'mqtt') {
      await registry.putDevice({ ...existing, secretHash: hashSecret(secret) });
    }
    await own({
      id: DEMO_MQTT_DEVICE_ID,
      transport: 'mqtt',
      name: 'Demo thermometer (MQTT)',
      patientId: o.patientId,
      secretHash: hashSecret(secret),
      createdAt: clock.now(),
    });
    if (registry.getDevice(DEMO_MQTT_DEVICE_ID)?.transport === 'mqtt') {
      mqtt = { deviceId: DEMO_MQTT_DEVICE_ID, secret };
    }
  }
  return { patientId: o.patientId, created, devices, ...(mqtt ? { mqtt } : {}) };
}
