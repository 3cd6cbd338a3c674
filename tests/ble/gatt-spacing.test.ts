/**
 * The link's minimum GATT spacing (definition `link.gattSpacingMs`): a simulated cuff that refuses a
 * request arriving sooner than 40 ms after the previous one is collected through the real session, the
 * real noble over the virtual radio, the pipeline and the SQLite journal — with a definition spacing
 * its operations 60 ms apart it syncs; with the same definition without spacing the first early request
 * is refused and the connection fails with MEDGW_ERR_BLE_ATT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { genericBloodPressure } from '../../drivers/definitions/generic.ts';
import type { DriverDefinition } from '../../drivers/definitions/index.ts';
import { Session } from '../../gateway/ble/session.ts';
import { BleStore } from '../../gateway/ble/store.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { discover } from './helpers.ts';

const clock = { now: () => Date.now() };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sync(definition: DriverDefinition) {
  const dir = mkdtempSync(join(tmpdir(), 'medgw-spacing-'));
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  await addPatient(registry, { id: 'alice', displayName: 'Alice' }, clock);
  const journal = new SqliteJournal({ path: join(dir, 'journal.db'), clock });
  const log = pino({ level: 'silent' });
  const pipeline = new Pipeline({ journal, registry, clock, log, timeZone: 'Europe/Paris' });
  await pipeline.start();
  const address = 'C0:26:DA:00:05:0A';
  const cuff = new SimCuff({ address, requestSpacingMs: 40 });
  const radio = createVirtualRadio();
  radio.add(cuff);
  await cuff.measure({ systolic: 124, diastolic: 79, pulse: 61 });
  await registry.putDevice({
    id: address,
    transport: 'ble',
    bond: 'bonded',
    driver: definition.id,
    patientId: 'alice',
    createdAt: clock.now(),
  });
  const noble = createSimNoble(radio);
  const peripheral = await discover(noble, ['1810']);
  const states: string[] = [];
  const session = new Session({
    deviceId: address,
    peripheral,
    definition,
    pairing: false,
    registry,
    journal,
    sink: pipeline,
    store: new BleStore(registry),
    clock,
    log,
    timeZone: 'Europe/Paris',
    timing: { connectTimeoutMs: 2_000, gattTimeoutMs: 2_000, racpIdleTimeoutMs: 2_000, quietMs: 150 },
    random: Math.random,
    setState: (s) => states.push(s),
    onLinkEnd: () => undefined,
  });
  cleanups.push(async () => {
    await session.release();
    noble.stop?.();
    await pipeline.stop();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const outcome = await session.run().then(
    () => 'synced',
    (e: { code?: string }) => e.code ?? 'unexpected',
  );
  return { outcome, cuff, journal, states, session };
}

describe('GATT spacing', () => {
  it('a definition that spaces its GATT operations syncs a device that refuses back-to-back requests', async () => {
    const spaced: DriverDefinition = { ...genericBloodPressure, link: { gattSpacingMs: 60 } };
    const r = await sync(spaced);
    expect(r.outcome).toBe('synced');
    expect(r.cuff.requestsTooSoon).toBe(0);
    expect(r.session.counters.committed).toBe(1);
    expect(r.journal.list({ deviceId: 'C0:26:DA:00:05:0A' }).map((x) => x.kind)).toEqual([
      'blood-pressure',
      'heart-rate',
    ]);
  });

  it('without the spacing the device refuses a request and the connection fails with MEDGW_ERR_BLE_ATT', async () => {
    const r = await sync(genericBloodPressure);
    expect(r.outcome).toBe('MEDGW_ERR_BLE_ATT');
    expect(r.cuff.requestsTooSoon).toBeGreaterThan(0);
    expect(r.journal.list({ deviceId: 'C0:26:DA:00:05:0A' })).toHaveLength(0);
  });
});
