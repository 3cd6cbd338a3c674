/**
 * First sync of a continuous glucose monitor after a 14-day sensor session (4,033 records, one every 5
 * minutes) over the virtual radio: the gateway's BLE central with the generic CGM driver (real noble,
 * CGM Feature / Status / Session Start Time, the Specific Ops Control Point, RACP "report records after
 * the cursor", E2E-CRC checked on every record, decode, the pipeline, the SQLite journal commit with the
 * cursor) from `pair()` to `synced`, then the summaries of the closed periods (gateway/cgm/summaries.ts).
 * Reference, same run, same radio and sensor: the bare RACP transfer done with noble directly
 * (connect, discover, subscribe, "report all records", count the records until the RACP indication),
 * nothing decoded or stored.
 */
import { join } from 'node:path';
import type { Peripheral } from '@stoprocent/noble';
import { BleCentral, type BleStateChange } from '../gateway/ble/index.ts';
import { CgmSummaries } from '../gateway/cgm/summaries.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../gateway/registry/index.ts';
import { CGMS, SimCgm } from '../simulators/ble/cgm.ts';
import { RACP } from '../simulators/ble/racp-select.ts';
import { createSimNoble, createVirtualRadio } from '../simulators/ble/radio.ts';
import { ratio, round, silentLog, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const clock = { now: () => Date.now() };
const SESSION_MINUTES = 14 * 1440;
const RECORDS = SESSION_MINUTES / 5 + 1;

function sensor(address: string): SimCgm {
  return new SimCgm({ address, sessionMinutes: SESSION_MINUTES });
}

async function gatewaySync(dir: string): Promise<{ seconds: number; summarySeconds: number }> {
  const address = 'C0:26:DA:0C:E0:01';
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  await addPatient(registry, { id: 'bench-patient', displayName: 'Bench patient' }, clock);
  const journal = new SqliteJournal({ path: join(dir, 'journal.db'), clock });
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLog, timeZone: 'Europe/Paris' });
  await pipeline.start();
  const radio = createVirtualRadio();
  radio.add(sensor(address));
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
  const waitFor = async (state: BleStateChange['state'], timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (changes.some((c) => c.deviceId === address && c.state === state)) return;
      const failed = changes.find((c) => c.deviceId === address && c.state === 'failed');
      if (failed) throw new Error(`CGM bench: sync failed with ${failed.code ?? 'no code'}`);
      if (Date.now() > until) throw new Error(`CGM bench: no ${state} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    await central.start();
    await waitFor('discovered', 10_000);
    const start = performance.now();
    await central.pair(address, { patientId: 'bench-patient' });
    await waitFor('synced', 120_000);
    const seconds = (performance.now() - start) / 1000;
    const stored = journal.list({ deviceId: address }).length;
    if (stored !== RECORDS) throw new Error(`CGM bench: ${stored} records stored, ${RECORDS} expected`);
    const t = performance.now();
    const summaries = new CgmSummaries(journal, registry, {
      days: 14,
      intervalMinutes: 5,
      closeAfterHours: 24,
      timezone: 'Europe/Paris',
    });
    summaries.pass(clock.now());
    const summarySeconds = (performance.now() - t) / 1000;
    return { seconds, summarySeconds };
  } finally {
    await central.stop();
    await pipeline.stop();
    journal.close();
  }
}

async function bareTransfer(): Promise<number> {
  const address = 'C0:26:DA:0C:E0:02';
  const radio = createVirtualRadio();
  radio.add(sensor(address));
  const noble = createSimNoble(radio);
  await noble.waitForPoweredOnAsync(5_000);
  const discovered = new Promise<Peripheral>((resolve) => noble.once('discover', resolve));
  await noble.startScanningAsync([CGMS.service], false);
  const peripheral = await discovered;
  await noble.stopScanningAsync();
  const start = performance.now();
  await peripheral.connectAsync();
  const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
    [CGMS.service],
    [CGMS.measurement, CGMS.racp],
  );
  const find = (uuid: string) => {
    const c = characteristics.find((x) => x.uuid === uuid);
    if (!c) throw new Error(`CGM bench: the sensor has no characteristic ${uuid}`);
    return c;
  };
  const measurement = find(CGMS.measurement);
  const racp = find(CGMS.racp);
  let received = 0;
  measurement.on('data', () => {
    received += 1;
  });
  const done = new Promise<Buffer>((resolve) => racp.once('data', resolve));
  await measurement.subscribeAsync();
  await racp.subscribeAsync();
  await racp.writeAsync(Buffer.from([RACP.REPORT, RACP.OP_ALL]), false);
  const answer = await done;
  const seconds = (performance.now() - start) / 1000;
  await peripheral.disconnectAsync();
  noble.stop();
  if (answer[0] !== RACP.RESPONSE || received !== RECORDS) {
    throw new Error(`CGM bench: bare transfer got ${received} of ${RECORDS} records`);
  }
  return seconds;
}

export async function ingestBleCgmBench(): Promise<BenchRow[]> {
  const dir = tempDir('ingest-ble-cgm');
  try {
    const bare = await bareTransfer();
    const gateway = await gatewaySync(dir.path);
    return [
      {
        name: 'ingest-ble-cgm-14-days',
        value: round(gateway.seconds),
        unit: 's',
        reference: {
          name: 'bare noble RACP transfer of the same 4,033 records over the same virtual radio (s)',
          value: round(bare),
        },
        ratio: ratio(gateway.seconds, bare),
        recordsPerSecond: round(RECORDS / gateway.seconds),
        records: RECORDS,
        summarySeconds: round(gateway.summarySeconds),
      },
    ];
  } finally {
    dir.remove();
  }
}
