/**
 * Prototype names as every id the outside can choose over MQTT and in the registry: client id, user
 * name, device id (in the topic too), patient id, household user index. Each is a plain key or a coded
 * refusal: never a match with Object.prototype or one of its methods, never a frozen or polluted
 * Object.prototype, and `constructor` does not pass the patient check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addDevice, addPatient, assignDevice, LowRegistry } from '../../gateway/registry/index.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { clock, type Harness, startHarness } from './harness.ts';

const NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'] as const;
const dir = mkdtempSync(join(tmpdir(), 'medgw-proto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function connack(url: string, clientId: string, username: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 5_000 });
    c.on('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.on('error', (err) => {
      c.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
  });
}

function prototypeIntact(): void {
  expect(Object.isFrozen(Object.prototype)).toBe(false);
  expect(Object.isFrozen(Object)).toBe(false);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(
    Object.getOwnPropertyNames(Object.getPrototypeOf({})).sort(),
  );
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof {}.toString).toBe('function');
}

describe('prototype names as outside-chosen ids', () => {
  it('over MQTT: as client id, user name and device id each one is refused like any unknown id', async () => {
    // no address back-off here: every attempt comes from 127.0.0.1 (auth-abuse.test.ts covers it)
    h = await startHarness({ broker: { authLimits: { failuresBeforeBackoff: 1_000 } } });
    const secret = h.secrets.get('bp-1') ?? '';
    for (const name of NAMES) {
      expect(await connack(h.url, name, name, 'guess')).toBe(4);
      expect(await connack(h.url, name, 'bp-1', secret)).toBe(5);
      expect(await connack(h.url, 'bp-1', name, secret)).toBe(5);
      expect(h.registry.getDevice(name)).toBeUndefined();
      expect(h.registry.getPatient(name)).toBeUndefined();
      expect(h.registry.knowsDeviceSecret(name, 'guess')).toBe(false);
    }
    expect(h.broker.counters.refused['unknown-device']).toBe(NAMES.length);
    prototypeIntact();
    // a registered device may not publish under those ids (the connection closes), and is served normally
    for (const name of NAMES) {
      const intruder = h.device('bp-1');
      await intruder.connect();
      await expect(
        intruder.publishRaw(`medgw/v1/devices/${name}/measurements/json`, Buffer.from('{}')),
      ).rejects.toThrow();
      await intruder.close();
    }
    expect(h.broker.counters.refused['publish-topic']).toBe(NAMES.length);
    const dev = h.device('bp-1');
    await dev.connect();
    expect((await dev.publish(sampleReading('glucose', 1, Date.now() - 60_000))).receipt.status).toBe(
      'accepted',
    );
    prototypeIntact();
  });

  it('in the registry: no patient check passes for a prototype name, an index is refused, keys stay keys', async () => {
    const registry = await LowRegistry.memory();
    await addPatient(registry, { id: 'alice', displayName: 'Alice' }, clock);
    for (const name of NAMES) {
      await expect(
        addDevice(
          registry,
          { id: `d-${name.length}-${NAMES.indexOf(name)}`, transport: 'ble', patientId: name },
          clock,
        ),
      ).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
    }
    await addDevice(registry, { id: 'scale-1', transport: 'ble', patientId: 'alice' }, clock);
    for (const name of NAMES) {
      await expect(assignDevice(registry, 'scale-1', { users: { [name]: 'alice' } })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_INVALID',
      });
      await expect(assignDevice(registry, 'scale-1', { users: { '1': name } })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_UNKNOWN',
      });
    }
    expect(registry.getDevice('scale-1')?.users).toBeUndefined();
    prototypeIntact();
  });

  it('a patient and a device really named so are ordinary records, also after a round trip through the file', async () => {
    const path = join(dir, 'registry.json');
    const registry = await LowRegistry.open(path);
    for (const name of NAMES) await addPatient(registry, { id: name, displayName: `Patient ${name}` }, clock);
    for (const name of NAMES)
      await addDevice(registry, { id: name, transport: 'ble', patientId: name }, clock);
    const again = await LowRegistry.open(path);
    for (const name of NAMES) {
      expect(again.getPatient(name)?.displayName).toBe(`Patient ${name}`);
      expect(again.getDevice(name)?.patientId).toBe(name);
    }
    expect(again.listPatients()).toHaveLength(NAMES.length);
    expect(again.getDevice('valueOf')).toBeUndefined();
    expect(await again.removeDevice('valueOf')).toBe(false);
    prototypeIntact();
  });

  it('an MQTT device named constructor, assigned to a patient named __proto__, is served like any other', async () => {
    h = await startHarness({ devices: { constructor: { patient: '__proto__' } } });
    const dev = h.device('constructor');
    await dev.connect();
    expect((await dev.publish(sampleReading('glucose', 1, Date.now() - 60_000))).receipt.status).toBe(
      'accepted',
    );
    const [stored] = h.journal.list({ deviceId: 'constructor' });
    expect(stored?.patientId).toBe('__proto__');
    prototypeIntact();
  });
});
