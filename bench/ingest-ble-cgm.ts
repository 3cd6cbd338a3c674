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
import { CgmSummaries } from '../gateway/cgm/summaries.ts';
import { CGMS, SimCgm } from '../simulators/ble/cgm.ts';
import { createSimNoble, createVirtualRadio } from '../simulators/ble/radio.ts';
import { bareRacpTransfer, centralSync } from './ble-common.ts';
import { ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const SESSION_MINUTES = 14 * 1440;
const RECORDS = SESSION_MINUTES / 5 + 1;

export async function ingestBleCgmBench(): Promise<BenchRow[]> {
  const dir = tempDir('ingest-ble-cgm');
  const label = 'CGM bench';
  try {
    const bareRadio = createVirtualRadio();
    bareRadio.add(new SimCgm({ address: 'C0:26:DA:0C:E0:02', sessionMinutes: SESSION_MINUTES }));
    const bare = await bareRacpTransfer({
      label,
      radio: bareRadio,
      service: CGMS.service,
      notified: [CGMS.measurement],
      records: CGMS.measurement,
      racp: CGMS.racp,
      expected: RECORDS,
    });
    const address = 'C0:26:DA:0C:E0:01';
    const radio = createVirtualRadio();
    radio.add(new SimCgm({ address, sessionMinutes: SESSION_MINUTES }));
    let summarySeconds = 0;
    const seconds = await centralSync({
      label,
      dir: dir.path,
      noble: () => createSimNoble(radio),
      address,
      expected: RECORDS,
      after: ({ journal, registry }) => {
        const t = performance.now();
        new CgmSummaries(journal, registry, {
          days: 14,
          intervalMinutes: 5,
          closeAfterHours: 24,
          timezone: 'Europe/Paris',
        }).pass(Date.now());
        summarySeconds = (performance.now() - t) / 1000;
      },
    });
    return [
      {
        name: 'ingest-ble-cgm-14-days',
        value: round(seconds),
        unit: 's',
        reference: {
          name: 'bare noble RACP transfer of the same 4,033 records over the same virtual radio (s)',
          value: round(bare),
        },
        ratio: ratio(seconds, bare),
        recordsPerSecond: round(RECORDS / seconds),
        records: RECORDS,
        summarySeconds: round(summarySeconds),
      },
    ];
  } finally {
    dir.remove();
  }
}
