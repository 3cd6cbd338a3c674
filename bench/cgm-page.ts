/**
 * The device page's CGM section (gateway/web/cgm-view.ts): what one day of a sensor's values costs to
 * show, read from a SQLite journal holding `days` days of them (one every 5 minutes, state `local`):
 * the device's local rows read with `journal.list({ deviceId, state: 'local' })`, the day picked, the SVG,
 * the time in ranges and the table rendered. Reference, same run, same journal: the same section rendered
 * from that day's rows alone (what a journal query bounded to the day would hand it), so the ratio is
 * the price of reading every kept day to show one.
 */
import { dayNumberOf } from '../gateway/cgm/summaries.ts';
import type { NewReading } from '../gateway/contracts.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { cgmSection, cgmView } from '../gateway/web/cgm-view.ts';
import { translator } from '../gateway/web/i18n/index.ts';
import { ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const ZONE = 'Europe/Paris';
const STEP = 5 * 60_000;

function sensorValue(i: number, at: number): NewReading {
  return {
    id: `cgm-bench-${i}`,
    deviceId: 'cgm-1',
    patientId: 'p1',
    state: 'local',
    reason: { code: 'MEDGW_ERR_CGM_POINT_LOCAL', message: 'kept for the summaries' },
    observation: {
      kind: 'glucose',
      loinc: '2339-0',
      mdc: '160212',
      value: 100 + (i % 120),
      decimals: 0,
      unit: 'mg/dL',
      time: { utc: new Date(at).toISOString(), quality: 'synced' },
      context: { type: 'interstitial-fluid', timeOffset: i * 5, trend: 0.4 },
    },
  };
}

/** Milliseconds per render, median of `runs`. */
function timed(fn: () => unknown, runs: number): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(runs / 2)] ?? Number.NaN;
}

export async function cgmPageBench(daysKept: readonly number[] = [16, 92]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const ctx = { lang: 'fr' as const, t: translator('fr'), path: '/devices/cgm-1' };
  for (const days of daysKept) {
    const dir = tempDir('cgm-page');
    const journal = new SqliteJournal({ path: `${dir.path}/journal.db`, clock: { now: () => Date.now() } });
    try {
      const end = Date.now();
      const count = (days * 86_400_000) / STEP;
      const readings = Array.from({ length: count }, (_, i) => sensorValue(i, end - (count - i) * STEP));
      for (let i = 0; i < readings.length; i += 1000) journal.append(readings.slice(i, i + 1000));
      const all = () =>
        cgmSection(ctx, cgmView(journal.list({ deviceId: 'cgm-1', state: 'local' }), ZONE)!, '/x');
      const today = dayNumberOf(ZONE, end);
      const dayRows = journal
        .list({ deviceId: 'cgm-1', state: 'local' })
        .filter((r) => dayNumberOf(ZONE, Date.parse(r.observation?.time.utc ?? '')) === today);
      const oneDay = () => cgmSection(ctx, cgmView(dayRows, ZONE)!, '/x');
      const value = timed(all, 15);
      const reference = timed(oneDay, 15);
      rows.push({
        name: `web-cgm-day-of-${days}-days`,
        value: round(value),
        unit: 'ms per render',
        reference: { name: 'the same day rendered from its own rows only', value: round(reference) },
        ratio: ratio(value, reference),
        rowsKept: count,
        rowsShown: dayRows.length,
      });
    } finally {
      journal.close();
      dir.remove();
    }
  }
  return rows;
}
