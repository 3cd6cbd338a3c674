/**
 * One BLE session with a given driver definition over the real noble and the virtual radio, into the
 * real pipeline and SQLite journal in a temp directory: for tests of the session's procedure (GATT
 * spacing, definition hooks) with definitions that are not in the registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
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

export const CUFF = 'C0:26:DA:00:05:0A';

/**
 * Runs one session of `definition` against a simulated cuff (`options` of SimCuff) holding one stored
 * reading; resolves with `synced` or the failure's code, the cuff, the journal, the states and the session.
 */
export async function syncCuff(
  definition: DriverDefinition,
  options: Omit<ConstructorParameters<typeof SimCuff>[0], 'address'> = {},
  reading: Parameters<SimCuff['measure']>[0] = { systolic: 124, diastolic: 79, pulse: 61 },
) {
  const dir = mkdtempSync(join(tmpdir(), 'medgw-spacing-'));
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  await addPatient(registry, { id: 'alice', displayName: 'Alice' }, clock);
  const journal = new SqliteJournal({ path: join(dir, 'journal.db'), clock });
  const log = pino({ level: 'silent' });
  const pipeline = new Pipeline({ journal, registry, clock, log, timeZone: 'Europe/Paris' });
  await pipeline.start();
  const address = CUFF;
  const cuff = new SimCuff({ address, ...options });
  const radio = createVirtualRadio();
  radio.add(cuff);
  await cuff.measure(reading);
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
  let failure: string | undefined;
  const outcome = await session.run().then(
    () => 'synced',
    (e: { code?: string; message?: string }) => {
      failure = e.message;
      return e.code ?? 'unexpected';
    },
  );
  return { outcome, failure, cuff, journal, states, session };
}
