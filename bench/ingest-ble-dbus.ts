/**
 * First sync of a glucometer holding N stored records in `ble.mode: dbus`: the gateway's BLE central
 * on noble's D-Bus bindings and its pairing agent, against the fake BlueZ on a private dbus-daemon
 * (simulators/bluez), from `pair()` (Just Works bond, Pair() then Trusted) to `synced`. Every
 * notification is a D-Bus PropertiesChanged signal through the daemon, as with bluetoothd.
 * Reference, same run: the same central and meter model over the virtual radio (noble's bindings
 * interface, no D-Bus), so the ratio is the cost of the D-Bus path itself.
 *
 * Size: MEDGW_BENCH_BLE_DBUS_RECORDS (default 500).
 */
import { join } from 'node:path';
import type { Noble } from '@stoprocent/noble';
import { adapterNoble } from '../gateway/ble/bindings.ts';
import { BluezPairing } from '../gateway/ble/bluez/pairing.ts';
import { BleCentral, type BleCentralOptions, type BleStateChange } from '../gateway/ble/index.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../gateway/registry/index.ts';
import { mgdl, SimGlucometer } from '../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../simulators/ble/radio.ts';
import { startPrivateBus } from '../simulators/bluez/daemon.ts';
import { FakeBluez } from '../simulators/bluez/fake-bluez.ts';
import { envInt, ratio, round, silentLog, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const clock = { now: () => Date.now() };
const ADDRESS = 'C0:26:DA:0B:D0:01';

function meter(count: number): SimGlucometer {
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
      context: { meal: 1 + (i % 3) },
    };
  });
  return new SimGlucometer({ address: ADDRESS, records, requireBonding: true });
}

/** pair → synced through one central; seconds. */
async function sync(
  dir: string,
  count: number,
  noble: () => Noble,
  extra: Partial<BleCentralOptions>,
): Promise<number> {
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  await addPatient(registry, { id: 'bench-patient', displayName: 'Bench patient' }, clock);
  const journal = new SqliteJournal({ path: join(dir, 'journal.db'), clock });
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLog });
  await pipeline.start();
  const central = new BleCentral({
    noble,
    registry,
    journal,
    sink: pipeline,
    clock,
    log: silentLog,
    maxConnections: 3,
    timeZone: 'Europe/Paris',
    ...extra,
  });
  const changes: BleStateChange[] = [];
  central.feed.on('state', (c) => changes.push(c));
  const waitFor = async (state: BleStateChange['state'], timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (changes.some((c) => c.state === state)) return;
      const failed = changes.find((c) => c.state === 'failed');
      if (failed) throw new Error(`BLE D-Bus bench: sync failed with ${failed.code ?? 'no code'}`);
      if (Date.now() > until) throw new Error(`BLE D-Bus bench: no ${state} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    await central.start();
    await waitFor('discovered', 10_000);
    const start = performance.now();
    await central.pair(ADDRESS, { patientId: 'bench-patient' });
    await waitFor('synced', 120_000);
    const seconds = (performance.now() - start) / 1000;
    const stored = journal.list({ deviceId: ADDRESS, limit: count + 1 }).length;
    if (stored !== count) throw new Error(`BLE D-Bus bench: ${stored} records stored, ${count} expected`);
    return seconds;
  } finally {
    await central.stop();
    await pipeline.stop();
    journal.close();
  }
}

export async function ingestBleDbusBench(): Promise<BenchRow[]> {
  const count = envInt('MEDGW_BENCH_BLE_DBUS_RECORDS', 500);
  const radioDir = tempDir('ingest-ble-radio');
  const dbusDir = tempDir('ingest-ble-dbus');
  const bus = await startPrivateBus();
  const before = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  let bluez: FakeBluez | undefined;
  let pairing: BluezPairing | undefined;
  let dbusNoble: Noble | undefined;
  try {
    const radio = createVirtualRadio();
    radio.add(meter(count));
    const onRadio = await sync(radioDir.path, count, () => createSimNoble(radio), {});

    bluez = await FakeBluez.start({ busAddress: bus.address });
    bluez.add(meter(count));
    pairing = new BluezPairing({ log: silentLog });
    const overDbus = await sync(
      dbusDir.path,
      count,
      () => {
        dbusNoble = adapterNoble('dbus');
        return dbusNoble;
      },
      { bonding: pairing },
    );
    return [
      {
        name: `ingest-ble-dbus-glucometer-sync-${count}`,
        value: round(overDbus),
        unit: 's',
        reference: {
          name: 'the same central and meter over the virtual radio, no D-Bus (s)',
          value: round(onRadio),
        },
        ratio: ratio(overDbus, onRadio),
        recordsPerSecond: round(count / overDbus),
        records: count,
      },
    ];
  } finally {
    (dbusNoble as unknown as { _bindings?: { stop(): void } } | undefined)?._bindings?.stop();
    await pairing?.stop();
    await bluez?.stop();
    await bus.stop();
    if (before === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = before;
    radioDir.remove();
    dbusDir.remove();
  }
}
