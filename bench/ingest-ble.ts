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
import { GLS, SimGlucometer } from '../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../simulators/ble/radio.ts';
import { bareRacpTransfer, centralSync, glucoseRecords } from './ble-common.ts';
import { envInt, ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

/** A meter with `count` records, one every 10 minutes, every third with a meal context. */
function meter(address: string, count: number): SimGlucometer {
  return new SimGlucometer({
    address,
    records: glucoseRecords(count, (i) => (i % 3 === 0 ? 1 + (i % 5) : undefined)),
  });
}

export async function ingestBleBench(): Promise<BenchRow[]> {
  const count = envInt('MEDGW_BENCH_BLE_RECORDS', 1000);
  const dir = tempDir('ingest-ble');
  try {
    const label = 'BLE bench';
    const bareRadio = createVirtualRadio();
    bareRadio.add(meter('C0:26:DA:0B:E0:02', count));
    const bare = await bareRacpTransfer({
      label,
      radio: bareRadio,
      service: GLS.service,
      notified: [GLS.measurement, GLS.context],
      records: GLS.measurement,
      racp: GLS.racp,
      expected: count,
    });
    const address = 'C0:26:DA:0B:E0:01';
    const radio = createVirtualRadio();
    radio.add(meter(address, count));
    const seconds = await centralSync({
      label,
      dir: dir.path,
      noble: () => createSimNoble(radio),
      address,
      expected: count,
      cursor: count,
    });
    return [
      {
        name: `ingest-ble-glucometer-sync-${count}`,
        value: round(seconds),
        unit: 's',
        reference: {
          name: 'bare noble RACP transfer of the same records over the same virtual radio (s)',
          value: round(bare),
        },
        ratio: ratio(seconds, bare),
        recordsPerSecond: round(count / seconds),
        records: count,
      },
    ];
  } finally {
    dir.remove();
  }
}
