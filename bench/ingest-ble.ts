/**
 * First sync of a glucometer holding N stored records over the virtual radio: the gateway's BLE
 * central (real noble, pairing state machine, Device Information, Current Time, CCCDs, RACP "report
 * records after the cursor", decode, normalize, journal commit with the cursor) from `pair()` to
 * `synced`, with the central's production timings. Reference, same run, same radio and meter model:
 * the bare RACP transfer done with noble directly (connect, discover, subscribe, "report all
 * records", count the notifications until the RACP indication), nothing decoded or stored.
 *
 * Size: MEDGW_BENCH_BLE_RECORDS (default 1000).
 */
import { join } from 'node:path';
import type { Peripheral } from '@stoprocent/noble';
import { BleCentral, type BleStateChange } from '../gateway/ble/index.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../gateway/registry/index.ts';
import { GLS, mgdl, RACP, SimGlucometer } from '../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../simulators/ble/radio.ts';
import { envInt, ratio, round, silentLog, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const clock = { now: () => Date.now() };

/** A meter with `count` records, one every 10 minutes, every third with a meal context. */
function meter(address: string, count: number): SimGlucometer {
  const start = Date.UTC(2026, 9, 1, 6, 0, 0);
  const records = Array.from({ length: count }, (_, i) => {
    const d = new Date(start + i * 600_000);
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
      ...(i % 3 === 0 ? { context: { meal: 1 + (i % 5) } } : {}),
    };
  });
  return new SimGlucometer({ address, records });
}

/** The gateway path: pair → synced; seconds and records committed. */
async function gatewaySync(dir: string, count: number): Promise<{ seconds: number; committed: number }> {
  const address = 'C0:26:DA:0B:E0:01';
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  await addPatient(registry, { id: 'bench-patient', displayName: 'Bench patient' }, clock);
  const journal = new SqliteJournal({ path: join(dir, 'journal.db'), clock });
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLog });
  await pipeline.start();
  const radio = createVirtualRadio();
  radio.add(meter(address, count));
  const central = new BleCentral({
    noble: () => createSimNoble(radio),
    registry,
    journal,
    sink: pipeline,
    clock,
    log: silentLog,
    maxConnections: 3,
    timeZone: 'Europe/Paris',
  });
  const changes: BleStateChange[] = [];
  central.feed.on('state', (c) => changes.push(c));
  const waitFor = async (state: BleStateChange['state'], timeoutMs: number): Promise<BleStateChange> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = changes.find((c) => c.deviceId === address && c.state === state);
      if (hit) return hit;
      const failed = changes.find((c) => c.deviceId === address && c.state === 'failed');
      if (failed) throw new Error(`BLE bench: sync failed with ${failed.code ?? 'no code'}`);
      if (Date.now() > until) throw new Error(`BLE bench: no ${state} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    await central.start();
    await waitFor('discovered', 10_000);
    const start = performance.now();
    await central.pair(address, { patientId: 'bench-patient' });
    const synced = await waitFor('synced', 60_000);
    const seconds = (performance.now() - start) / 1000;
    const stored = journal.list({ deviceId: address }).length;
    if (stored !== count || journal.cursor(address) !== count) {
      throw new Error(
        `BLE bench: ${stored} records stored, cursor ${journal.cursor(address)}, ${count} expected`,
      );
    }
    return { seconds, committed: synced.committed ?? stored };
  } finally {
    await central.stop();
    await pipeline.stop();
    journal.close();
  }
}

/** The bare transfer with noble: connect, subscribe, RACP report all, count records; seconds. */
async function bareTransfer(count: number): Promise<number> {
  const address = 'C0:26:DA:0B:E0:02';
  const radio = createVirtualRadio();
  radio.add(meter(address, count));
  const noble = createSimNoble(radio);
  await noble.waitForPoweredOnAsync(5_000);
  // listening before the scan starts: the first advertisement may come before startScanningAsync resolves
  const discovered = new Promise<Peripheral>((resolve) => noble.once('discover', resolve));
  await noble.startScanningAsync([GLS.service], false);
  const peripheral = await discovered;
  await noble.stopScanningAsync();
  const start = performance.now();
  await peripheral.connectAsync();
  const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
    [GLS.service],
    [GLS.measurement, GLS.context, GLS.racp],
  );
  const find = (uuid: string) => {
    const c = characteristics.find((x) => x.uuid === uuid);
    if (!c) throw new Error(`BLE bench: the meter has no characteristic ${uuid}`);
    return c;
  };
  const measurement = find(GLS.measurement);
  const context = find(GLS.context);
  const racp = find(GLS.racp);
  let received = 0;
  measurement.on('data', () => {
    received += 1;
  });
  const done = new Promise<Buffer>((resolve) => racp.once('data', resolve));
  await measurement.subscribeAsync();
  await context.subscribeAsync();
  await racp.subscribeAsync();
  await racp.writeAsync(Buffer.from([RACP.REPORT, RACP.OP_ALL]), false);
  const answer = await done;
  const seconds = (performance.now() - start) / 1000;
  await peripheral.disconnectAsync();
  noble.stop();
  if (answer[0] !== RACP.RESPONSE || received !== count) {
    throw new Error(`BLE bench: bare transfer got ${received} of ${count} records`);
  }
  return seconds;
}

export async function ingestBleBench(): Promise<BenchRow[]> {
  const count = envInt('MEDGW_BENCH_BLE_RECORDS', 1000);
  const dir = tempDir('ingest-ble');
  try {
    const bare = await bareTransfer(count);
    const gateway = await gatewaySync(dir.path, count);
    return [
      {
        name: `ingest-ble-glucometer-sync-${count}`,
        value: round(gateway.seconds),
        unit: 's',
        reference: {
          name: 'bare noble RACP transfer of the same records over the same virtual radio (s)',
          value: round(bare),
        },
        ratio: ratio(gateway.seconds, bare),
        recordsPerSecond: round(count / gateway.seconds),
        records: count,
      },
    ];
  } finally {
    dir.remove();
  }
}
