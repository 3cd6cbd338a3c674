/**
 * The registry on PostgreSQL: the same conformance suite as the lowdb registry, then what several
 * instances sharing one database need: a change made on one reaches the others' copies through
 * LISTEN/NOTIFY (a device added on one authenticates and is attributed over MQTT on another), the
 * rows decide a removal another copy has not seen yet, and the periodic reload or a lost and
 * re-established listening connection bring back a change whose notification never came.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { EmbeddedBroker } from '../../gateway/mqtt/broker.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, assignDevice, removeDevice } from '../../gateway/registry/operations.ts';
import { PostgresRegistry } from '../../gateway/registry/postgres.ts';
import { openPool, type Pool } from '../../gateway/storage/postgres.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { registryConformance } from '../registry/conformance.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
const pools: Pool[] = [];
const registries: PostgresRegistry[] = [];
const clock = { now: () => 1_700_000_000_000 };

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(registries.map((r) => r.close()));
  await Promise.allSettled(pools.map((p) => p.end()));
  await server?.stop();
}, 30_000);

async function pool(url: string): Promise<Pool> {
  const p = await openPool(url, { max: 4 });
  pools.push(p);
  return p;
}

async function instance(
  url: string,
  options: Parameters<typeof PostgresRegistry.open>[1] = {},
): Promise<PostgresRegistry> {
  const r = await PostgresRegistry.open(await pool(url), options);
  registries.push(r);
  return r;
}

/** Resolves at the next change another instance made that reaches `r` and satisfies `test`. */
function changeReaches(r: PostgresRegistry, test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (test()) return resolve();
    const off = r.onChange(() => {
      if (test()) {
        off();
        resolve();
      }
    });
  });
}

registryConformance('postgres', async () => instance(server.database()));

describe('PostgreSQL registry shared by several instances', () => {
  it('a device added on one instance authenticates and is attributed over MQTT on another', async () => {
    const url = server.database();
    const a = await instance(url);
    const b = await instance(url);
    await addPatient(a, { id: 'alice', displayName: 'Alice' }, clock);
    await changeReaches(b, () => b.getPatient('alice') !== undefined);
    const { secret } = await addDevice(a, { id: 'bp-1', transport: 'mqtt', patientId: 'alice' }, clock);
    await changeReaches(b, () => b.getDevice('bp-1') !== undefined);
    expect(b.getDevice('bp-1')).toEqual(a.getDevice('bp-1'));
    // the secret itself is nowhere in the database
    const rows = await pools[pools.length - 1]!.query<{ text: string }>(
      'SELECT record::text AS text FROM medgw_registry_device',
    );
    expect(rows.rows.map((r) => r.text).join()).not.toContain(secret!);
    expect(rows.rows[0]?.text).toContain('sha256$');

    // instance b's broker and pipeline, with b's registry
    const log = pino({ level: 'silent' });
    const journal = new MemoryJournal({ clock: { now: () => Date.now() } });
    const pipeline = new Pipeline({ journal, registry: b, clock: { now: () => Date.now() }, log });
    await pipeline.start();
    const broker = new EmbeddedBroker({ registry: b, sink: pipeline, log }, { port: 0, host: '127.0.0.1' });
    await broker.start();
    const devices: SimulatedMqttDevice[] = [];
    try {
      const url = `mqtt://127.0.0.1:${broker.address().port}`;
      const device = new SimulatedMqttDevice({ url, deviceId: 'bp-1', secret: secret! });
      devices.push(device);
      await device.connect();
      const outcome = await device.publish(sampleReading('blood-pressure', 1, Date.now() - 60_000), 'json');
      expect(outcome.receipt.status).toBe('accepted');
      const stored = journal.list({ deviceId: 'bp-1' });
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.map((r) => r.patientId)).toEqual(stored.map(() => 'alice'));
      await device.close();

      // forgotten on a, refused on b once the notification arrived
      await removeDevice(a, 'bp-1');
      await changeReaches(b, () => b.getDevice('bp-1') === undefined);
      const again = new SimulatedMqttDevice({ url, deviceId: 'bp-1', secret: secret! });
      devices.push(again);
      await expect(again.connect()).rejects.toThrow();
    } finally {
      await Promise.allSettled(devices.map((d) => d.close()));
      await broker.stop();
      await pipeline.stop();
      journal.close();
    }
  }, 60_000);

  it('refuses to remove a patient another instance assigned, even before its copy heard of it', async () => {
    const url = server.database();
    const a = await instance(url);
    await addPatient(a, { id: 'p1', displayName: 'Alice' }, clock);
    await addPatient(a, { id: 'p2', displayName: 'Bob' }, clock);
    // another instance whose notification never reaches a (written straight into the table)
    const other = await pool(url);
    await other.query(
      `INSERT INTO medgw_registry_device (id, record, patient_ids, created_at) VALUES ($1, $2, $3, $4)`,
      [
        'scale-1',
        JSON.stringify({ id: 'scale-1', transport: 'ble', users: { '1': 'p2' }, createdAt: 5 }),
        ['p2'],
        5,
      ],
    );
    expect(a.getDevice('scale-1')).toBeUndefined();
    await expect(a.removePatient('p2')).rejects.toMatchObject({
      code: 'MEDGW_ERR_REGISTRY_IN_USE',
      message: expect.stringContaining('scale-1'),
    });
    expect(a.getPatient('p2')).toBeDefined();
    // and a device that names a patient another instance removed is refused by the rows
    await other.query("DELETE FROM medgw_registry_patient WHERE id = 'p1'");
    expect(a.getPatient('p1')).toBeDefined();
    await expect(
      addDevice(a, { id: 'bp-9', transport: 'mqtt', patientId: 'p1' }, clock),
    ).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
    expect(a.getDevice('bp-9')).toBeUndefined();
    // an id another instance took is refused to an add, even before this copy heard of it
    await other.query(`INSERT INTO medgw_registry_device (id, record, created_at) VALUES ($1, $2, $3)`, [
      'bp-taken',
      JSON.stringify({ id: 'bp-taken', transport: 'ble', createdAt: 6 }),
      6,
    ]);
    await expect(addDevice(a, { id: 'bp-taken', transport: 'mqtt' }, clock)).rejects.toMatchObject({
      code: 'MEDGW_ERR_REGISTRY_EXISTS',
    });
    // the reload is the truth: both changes are in the copy after it
    await a.reload();
    expect(a.getDevice('scale-1')?.users).toEqual({ '1': 'p2' });
    expect(a.getPatient('p1')).toBeUndefined();
  });

  it('the periodic reload brings a change whose notification was lost', async () => {
    const url = server.database();
    const a = await instance(url, { reloadIntervalMs: 200 });
    const other = await pool(url);
    await other.query(`INSERT INTO medgw_registry_patient (id, record, created_at) VALUES ($1, $2, $3)`, [
      'silent',
      JSON.stringify({ id: 'silent', displayName: 'Written without NOTIFY', createdAt: 3 }),
      3,
    ]);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (a.getPatient('silent')) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    expect(a.getPatient('silent')?.displayName).toBe('Written without NOTIFY');
  });

  it('listens again after its connection is cut, and reloads what changed meanwhile', async () => {
    const url = server.database();
    const a = await instance(url, { relistenMs: 50 });
    const b = await instance(url);
    const admin = await pool(url);
    // cut a's listening connection (the server restarted, a proxy dropped it…)
    const cut = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    expect(cut.rows[0]?.n).toBeGreaterThanOrEqual(2);
    await addPatient(b, { id: 'late', displayName: 'Added while a was deaf' }, clock);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (a.getPatient('late')) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    // and notifications flow again
    await addDevice(b, { id: 'after-cut', transport: 'ble' }, clock);
    await changeReaches(a, () => a.getDevice('after-cut') !== undefined);
    await assignDevice(b, 'after-cut', { patientId: 'late' });
    await changeReaches(a, () => a.getDevice('after-cut')?.patientId === 'late');
  }, 30_000);

  it('refuses a row that is not a registry record, naming it', async () => {
    const url = server.database();
    await instance(url);
    const other = await pool(url);
    await other.query(`INSERT INTO medgw_registry_device (id, record, created_at) VALUES ($1, $2, $3)`, [
      'bad',
      JSON.stringify({ id: 'bad', transport: 'zigbee', createdAt: 1 }),
      1,
    ]);
    await expect(PostgresRegistry.open(await pool(url))).rejects.toMatchObject({
      code: 'MEDGW_ERR_REGISTRY_CORRUPT',
      message: expect.stringContaining('devices.bad.transport'),
    });
  });

  it('sections (the BLE store) are shared too', async () => {
    const url = server.database();
    const a = await instance(url);
    const b = await instance(url);
    await a.putSection('ble', { devices: { x: { bond: 'bonded' } } });
    await changeReaches(b, () => b.getSection('ble') !== undefined);
    expect(b.getSection('ble')).toEqual({ devices: { x: { bond: 'bonded' } } });
  });
});
