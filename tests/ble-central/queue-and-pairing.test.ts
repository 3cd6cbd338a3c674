/**
 * Connection slots, pairing life cycle and the state feed of the BLE central: at most
 * `maxConnections` links at a time with the others queued, forget and re-pair, the async iterator
 * of state changes, backoff after failures, and sim mode's pre-paired devices.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BleCentral, type BleStateChange, createBleCentral, NEXT } from '../../gateway/ble/index.ts';
import { loadConfig } from '../../gateway/config/index.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { LowRegistry } from '../../gateway/registry/index.ts';
import { AesGcmSealer } from '../../gateway/secrets/index.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { clock, type Harness, harness, until } from './harness.ts';

function meter(address: string, count: number) {
  const records = Array.from({ length: count }, (_, i) => ({
    baseTime: { year: 2026, month: 11, day: 21, hours: 7, minutes: i, seconds: 0 },
    concentration: mgdl(100 + i),
    context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
  }));
  return new SimGlucometer({ address, records });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Most devices between `connecting` and the end of their connection at the same time, from the feed. */
function maxConcurrent(changes: readonly BleStateChange[]): number {
  const live = new Set<string>();
  let max = 0;
  for (const c of changes) {
    if (c.state === 'connecting') live.add(c.deviceId);
    if (c.state === 'synced' || c.state === 'failed') live.delete(c.deviceId);
    max = Math.max(max, live.size);
  }
  return max;
}

describe('BLE central: connection slots', () => {
  it('never holds more than maxConnections links; the others wait in the queue and all sync', async () => {
    const ids = [
      'C0:26:DA:00:01:01',
      'C0:26:DA:00:01:02',
      'C0:26:DA:00:01:03',
      'C0:26:DA:00:01:04',
      'C0:26:DA:00:01:05',
    ];
    const meters = ids.map((id) => meter(id, 25));
    let linked = 0;
    let peak = 0;
    for (const m of meters) {
      m.on('connect', () => {
        linked++;
        peak = Math.max(peak, linked);
      });
      m.on('disconnect', () => linked--);
    }
    h = await harness(meters, { maxConnections: 2 });
    for (const id of ids) await h.provision({ id, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await h.central.start();
    await until(() => h!.central.list().some((d) => d.queued), 'a queued device');
    for (const id of ids) await h.waitState(id, 'synced');
    // Seen from the devices' side and from the central's.
    expect(peak).toBe(2);
    expect(h.central.peakConnections).toBe(2);
    expect(maxConcurrent(h.changes)).toBeLessThanOrEqual(2);
    for (const id of ids) {
      expect(h.journal.list({ deviceId: id })).toHaveLength(25);
      expect(h.journal.cursor(id)).toBe(25);
    }
    // Every transition follows the state machine.
    for (const id of ids) {
      const seq = h.changes.filter((c) => c.deviceId === id);
      for (const c of seq.slice(1)) expect(NEXT[c.previous!]).toContain(c.state);
    }
  });

  it('a lingering synced device gives its slot to a queued one', async () => {
    const { SimCuff } = await import('../../simulators/ble/cuff.ts');
    const cuff = new SimCuff({ address: 'C0:26:DA:00:02:01' });
    const g = meter('C0:26:DA:00:02:02', 3);
    g.advertising = false;
    h = await harness([cuff, g], { maxConnections: 1 });
    await h.provision({ id: 'C0:26:DA:00:02:01', driver: 'generic-blood-pressure', patientId: 'carol' });
    await h.provision({ id: 'C0:26:DA:00:02:02', driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await h.central.start();
    await h.waitState('C0:26:DA:00:02:01', 'synced');
    expect(cuff.connected).toBe(true);
    g.advertise();
    await h.waitState('C0:26:DA:00:02:02', 'synced');
    expect(cuff.connected).toBe(false);
    expect(h.journal.list({ deviceId: 'C0:26:DA:00:02:02' })).toHaveLength(3);
  });
});

describe('BLE central: pairing life cycle', () => {
  it('forgets a device and pairs it again: bonding again, nothing duplicated', async () => {
    const ID = 'C0:26:DA:00:03:01';
    const g = meter(ID, 10);
    h = await harness([g]);
    await h.central.start();
    const ac = new AbortController();
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const c of h!.central.feed.changes(ac.signal)) if (c.deviceId === ID) seen.push(c.state);
    })();
    await h.waitState(ID, 'discovered');
    await h.central.pair(ID, { patientId: 'alice' });
    await h.waitState(ID, 'synced');
    expect(h.journal.list({ deviceId: ID })).toHaveLength(10);

    expect(await h.central.forget(ID)).toBe(true);
    expect(h.registry.getDevice(ID)).toBeUndefined();
    expect(g.connected).toBe(false);
    // The meter wakes up and advertises: listed again, as a device that is not paired.
    g.advertise();
    await h.waitState(ID, 'discovered', 2);
    expect(h.central.get(ID)).toMatchObject({ paired: false, state: 'discovered' });
    await new Promise((r) => setTimeout(r, 100));
    expect(g.connected).toBe(false);

    await h.central.pair(ID, { patientId: 'alice' });
    const again = await h.waitState(ID, 'synced', 2);
    // A fresh pairing fetches every record again; they collapse on their reading ids.
    expect(again.committed).toBe(10);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(10);
    expect(h.registry.getDevice(ID)?.bond).toBe('bonded');
    ac.abort();
    await iterating;
    expect(seen).toEqual([
      'discovered',
      'connecting',
      'bonding',
      'discovering',
      'subscribing',
      'syncing',
      'synced',
      'forgotten',
      'discovered',
      'connecting',
      'bonding',
      'discovering',
      'subscribing',
      'syncing',
      'synced',
    ]);
  });

  it('refuses to pair a device it has not seen, with a coded error', async () => {
    h = await harness([]);
    await h.central.start();
    await expect(h.central.pair('C0:26:DA:00:09:09')).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_NOT_DISCOVERED',
    });
    await expect(h.central.pair('not-an-address')).rejects.toMatchObject({ code: 'MEDGW_ERR_USAGE' });
  });

  it('retries with growing, jittered delays while the device drops the link, then syncs', async () => {
    const ID = 'C0:26:DA:00:04:01';
    const g = meter(ID, 5);
    h = await harness([g], { backoff: { baseMs: 40, maxMs: 400, maxAttempts: 10 } });
    await h.provision({ id: ID, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    // The meter drops every link right after it connects, three times.
    let drops = 3;
    g.on('connect', () => {
      if (drops-- > 0) setImmediate(() => g.disconnect(0x13));
    });
    await h.central.start();
    await h.waitState(ID, 'synced');
    const failures = h.changes.filter((c) => c.deviceId === ID && c.state === 'failed');
    expect(failures).toHaveLength(3);
    expect(failures.map((f) => f.attempt)).toEqual([1, 2, 3]);
    const waits = failures.map((f) => f.retryAt! - f.at);
    // Equal jitter: retry n waits between half and all of 40·2^(n-1) ms.
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(20 * 2 ** i);
      expect(w).toBeLessThanOrEqual(40 * 2 ** i);
    });
    expect(h.journal.list({ deviceId: ID })).toHaveLength(5);
  });
});

describe('BLE central: modes', () => {
  it('sim mode pre-pairs its simulated glucometer, scale and cuff and syncs them', async () => {
    const registry = await LowRegistry.memory();
    const journal = new MemoryJournal({ clock });
    const log = pino({ level: 'silent' });
    const pipeline = new Pipeline({ journal, registry, clock, log });
    await pipeline.start();
    const config = loadConfig({ overrides: { 'ble.mode': 'sim' } });
    const built = await createBleCentral(
      { config, log, clock, registry, journal, dataDir: '/nonexistent' },
      pipeline,
      { sealer: new AesGcmSealer(Buffer.alloc(32, 7)), timing: { quietMs: 100, cooldownMs: 60_000 } },
    );
    expect(built?.sim).toBeDefined();
    const { central, sim } = built!;
    await central.start();
    try {
      await until(
        () => central.list().filter((d) => d.state === 'synced').length === 3,
        'three synced devices',
      );
      expect(registry.listDevices().map((d) => d.bond)).toEqual(['bonded', 'bonded', 'bonded']);
      // Unassigned demo devices: their readings wait in quarantine until assigned to a patient.
      const rows = journal.list();
      expect(rows.filter((r) => r.deviceId === sim!.glucometer.address.toUpperCase())).toHaveLength(3);
      expect(
        rows.every((r) => r.state === 'quarantined' && r.reason?.code === 'MEDGW_ERR_DEVICE_UNASSIGNED'),
      ).toBe(true);
    } finally {
      await central.stop();
      await pipeline.stop();
    }
  });

  it('off mode builds no central; a missing adapter leaves the central idle instead of failing start', async () => {
    const registry = await LowRegistry.memory();
    const journal = new MemoryJournal({ clock });
    const log = pino({ level: 'silent' });
    const config = loadConfig({ overrides: { 'ble.mode': 'off' } });
    expect(
      await createBleCentral(
        { config, log, clock, registry, journal, dataDir: '/nonexistent' },
        { submit: async () => ({ status: 'accepted', ids: [] }) },
      ),
    ).toBeUndefined();
    const central = new BleCentral({
      noble: () => {
        throw new Error('no adapter');
      },
      registry,
      journal,
      sink: { submit: async () => ({ status: 'accepted', ids: [] }) },
      clock,
      log,
      maxConnections: 1,
      timeZone: 'Europe/Paris',
    });
    await central.start();
    expect(central.scanning).toBe(false);
    await central.stop();
    // A radio that is powered off: the central waits, then scans once powered on.
    const radio = createVirtualRadio();
    radio.powerOff();
    const waiting = new BleCentral({
      noble: () => createSimNoble(radio),
      registry,
      journal,
      sink: { submit: async () => ({ status: 'accepted', ids: [] }) },
      clock,
      log,
      maxConnections: 1,
      timeZone: 'Europe/Paris',
    });
    await waiting.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(waiting.scanning).toBe(false);
    radio.powerOn();
    await until(() => waiting.scanning, 'scanning after power on');
    await waiting.stop();
  });
});
