/**
 * What the BLE benchmarks share: a simulated glucometer's records, the gateway path of one first sync
 * (registry, SQLite journal, pipeline, the BLE central from `pair()` to `synced`), and the bare noble
 * RACP transfer that serves as the reference.
 */
import { join } from 'node:path';
import type { Noble, Peripheral } from '@stoprocent/noble';
import { BleCentral, type BleCentralOptions, type BleStateChange } from '../gateway/ble/index.ts';
import type { Journal, Registry } from '../gateway/contracts.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../gateway/registry/index.ts';
import { mgdl, type SimGlucometer } from '../simulators/ble/glucometer.ts';
import { RACP } from '../simulators/ble/racp-select.ts';
import { createSimNoble, type createVirtualRadio } from '../simulators/ble/radio.ts';
import { silentLog } from './ingest-common.ts';

const clock = { now: () => Date.now() };

/** `count` glucometer records, one every 10 minutes from 1 October 2026, with the meal context `meal(i)` gives. */
export function glucoseRecords(
  count: number,
  meal: (i: number) => number | undefined,
): ConstructorParameters<typeof SimGlucometer>[0]['records'] {
  const start = Date.UTC(2026, 9, 1, 6, 0, 0);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(start + i * 600_000);
    const m = meal(i);
    return {
      baseTime: {
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
        hours: d.getUTCHours(),
        minutes: d.getUTCMinutes(),
        seconds: 0,
      },
      concentration: mgdl(80 + (i % 90)),
      ...(m !== undefined ? { context: { meal: m } } : {}),
    };
  });
}

/**
 * One first sync through the gateway: `pair()` → `synced` for the device at `address`, which must leave
 * `expected` readings in the journal. `after` runs on the stores before they close. Seconds of the sync.
 */
export async function centralSync(o: {
  readonly label: string;
  readonly dir: string;
  readonly noble: () => Noble;
  readonly address: string;
  readonly expected: number;
  /** The RACP cursor the sync must leave, when the device numbers its records. */
  readonly cursor?: number;
  readonly extra?: Partial<BleCentralOptions>;
  readonly after?: (stores: { journal: Journal; registry: Registry }) => void;
}): Promise<number> {
  const registry = await LowRegistry.open(join(o.dir, 'registry.json'));
  await addPatient(registry, { id: 'bench-patient', displayName: 'Bench patient' }, clock);
  const journal = new SqliteJournal({ path: join(o.dir, 'journal.db'), clock });
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLog, timeZone: 'Europe/Paris' });
  await pipeline.start();
  const central = new BleCentral({
    noble: o.noble,
    registry,
    journal,
    sink: pipeline,
    clock,
    log: silentLog,
    maxConnections: 3,
    timeZone: 'Europe/Paris',
    ...o.extra,
  });
  const changes: BleStateChange[] = [];
  central.feed.on('state', (c) => changes.push(c));
  const waitFor = async (state: BleStateChange['state'], timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (changes.some((c) => c.state === state)) return;
      const failed = changes.find((c) => c.state === 'failed');
      if (failed) throw new Error(`${o.label}: sync failed with ${failed.code ?? 'no code'}`);
      if (Date.now() > until) throw new Error(`${o.label}: no ${state} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    await central.start();
    await waitFor('discovered', 10_000);
    const start = performance.now();
    await central.pair(o.address, { patientId: 'bench-patient' });
    await waitFor('synced', 120_000);
    const seconds = (performance.now() - start) / 1000;
    const stored = journal.list({ deviceId: o.address, limit: o.expected + 1 }).length;
    if (stored !== o.expected)
      throw new Error(`${o.label}: ${stored} records stored, ${o.expected} expected`);
    if (o.cursor !== undefined && journal.cursor(o.address) !== o.cursor)
      throw new Error(`${o.label}: cursor ${journal.cursor(o.address)}, ${o.cursor} expected`);
    o.after?.({ journal, registry });
    return seconds;
  } finally {
    await central.stop();
    await pipeline.stop();
    journal.close();
  }
}

/**
 * The reference: noble alone connects to the device on `radio`, subscribes to `notified` and the RACP,
 * asks "report all records" and counts the notifications until the RACP answers. Seconds.
 */
export async function bareRacpTransfer(o: {
  readonly label: string;
  readonly radio: ReturnType<typeof createVirtualRadio>;
  readonly service: string;
  readonly notified: readonly string[];
  readonly racp: string;
  /** The characteristic whose notifications are the records. */
  readonly records: string;
  readonly expected: number;
}): Promise<number> {
  const noble = createSimNoble(o.radio);
  await noble.waitForPoweredOnAsync(5_000);
  // listening before the scan starts: the first advertisement may come before startScanningAsync resolves
  const discovered = new Promise<Peripheral>((resolve) => noble.once('discover', resolve));
  await noble.startScanningAsync([o.service], false);
  const peripheral = await discovered;
  await noble.stopScanningAsync();
  const start = performance.now();
  await peripheral.connectAsync();
  const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
    [o.service],
    [...o.notified, o.racp],
  );
  const find = (uuid: string) => {
    const c = characteristics.find((x) => x.uuid === uuid);
    if (!c) throw new Error(`${o.label}: the device has no characteristic ${uuid}`);
    return c;
  };
  let received = 0;
  find(o.records).on('data', () => {
    received += 1;
  });
  const racp = find(o.racp);
  const done = new Promise<Buffer>((resolve) => racp.once('data', resolve));
  for (const uuid of o.notified) await find(uuid).subscribeAsync();
  await racp.subscribeAsync();
  await racp.writeAsync(Buffer.from([RACP.REPORT, RACP.OP_ALL]), false);
  const answer = await done;
  const seconds = (performance.now() - start) / 1000;
  await peripheral.disconnectAsync();
  noble.stop();
  if (answer[0] !== RACP.RESPONSE || received !== o.expected) {
    throw new Error(`${o.label}: bare transfer got ${received} of ${o.expected} records`);
  }
  return seconds;
}
