import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bleDeviceId } from '../ble/central.ts';
import { kernelAdapters } from '../ble/probe.ts';
import { simEnvironment } from '../ble/sim.ts';
import { LowRegistry } from '../registry/index.ts';
import { DEMO_BLE_DEVICES, DEMO_MQTT_DEVICE_ID, seedDemo } from './demo.ts';

const clock = { now: () => Date.parse('2026-11-23T08:00:00Z') };
const all = { patientId: 'demo', ble: true, mqtt: true };
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('demo provisioning', () => {
  it('names the very devices `--ble sim` pre-pairs', () => {
    expect(DEMO_BLE_DEVICES.map((d) => d.address)).toEqual(simEnvironment().prePaired.map(bleDeviceId));
  });

  it('creates the patient and its four devices once; a later start creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-demo-'));
    dirs.push(dir);
    const registry = await LowRegistry.open(join(dir, 'registry.json'));
    const first = await seedDemo(registry, clock, all);
    expect(first.created).toHaveLength(5);
    expect(first.devices).toEqual([...DEMO_BLE_DEVICES.map((d) => d.address), DEMO_MQTT_DEVICE_ID]);
    for (const id of first.devices) expect(registry.getDevice(id)?.patientId).toBe('demo');
    expect(registry.getDevice('C0:26:DA:00:00:01')?.bond).toBe('bonded');

    const reopened = await LowRegistry.open(join(dir, 'registry.json'));
    const second = await seedDemo(reopened, clock, all);
    expect(second.created).toEqual([]);
    expect(second.devices).toEqual(first.devices);
    expect(reopened.listPatients()).toHaveLength(1);
    expect(reopened.listDevices()).toHaveLength(4);
  });

  it('gives the MQTT thermometer a new secret on every start and keeps only its hash', async () => {
    const registry = await LowRegistry.memory();
    const first = await seedDemo(registry, clock, all);
    const second = await seedDemo(registry, clock, all);
    if (!first.mqtt || !second.mqtt) throw new Error('the MQTT thermometer was not provisioned');
    expect(second.mqtt.secret).not.toBe(first.mqtt.secret);
    expect(registry.verifyDeviceSecret(DEMO_MQTT_DEVICE_ID, second.mqtt.secret)).toBe(true);
    expect(registry.verifyDeviceSecret(DEMO_MQTT_DEVICE_ID, first.mqtt.secret)).toBe(false);
    expect(JSON.stringify(registry.listDevices())).not.toContain(second.mqtt.secret);
  });

  it('leaves a device an operator gave to another patient; owns one pre-paired without a patient', async () => {
    const registry = await LowRegistry.memory();
    await registry.putPatient({ id: 'alice', displayName: 'Alice', createdAt: 1 });
    await registry.putDevice({
      id: 'C0:26:DA:00:00:01',
      transport: 'ble',
      patientId: 'alice',
      bond: 'bonded',
      createdAt: 1,
    });
    await registry.putDevice({ id: 'C0:26:DA:00:00:03', transport: 'ble', bond: 'bonded', createdAt: 1 });
    const seed = await seedDemo(registry, clock, { ...all, mqtt: false });
    expect(registry.getDevice('C0:26:DA:00:00:01')?.patientId).toBe('alice');
    expect(registry.getDevice('C0:26:DA:00:00:03')?.patientId).toBe('demo');
    expect(seed.devices).toEqual(['C0:26:DA:00:00:02', 'C0:26:DA:00:00:03']);
    expect(seed.mqtt).toBeUndefined();
    expect(registry.getDevice(DEMO_MQTT_DEVICE_ID)).toBeUndefined();
  });

  it('provisions nothing for Bluetooth outside sim mode', async () => {
    const registry = await LowRegistry.memory();
    const seed = await seedDemo(registry, clock, { patientId: 'p1', ble: false, mqtt: true });
    expect(seed.devices).toEqual([DEMO_MQTT_DEVICE_ID]);
    expect(registry.listDevices().map((d) => d.id)).toEqual([DEMO_MQTT_DEVICE_ID]);
  });

  it('lists Bluetooth adapters by their kernel names only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-bt-'));
    dirs.push(dir);
    expect(kernelAdapters(join(dir, 'absent'))).toEqual([]);
    for (const n of ['hci0', 'hci1', 'rfkill3', 'hcix']) writeFileSync(join(dir, n), '');
    expect(kernelAdapters(dir).sort()).toEqual(['hci0', 'hci1']);
  });
});
