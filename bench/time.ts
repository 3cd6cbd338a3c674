/**
 * The time of a stored reading (drivers/normalize/time.ts): resolving a device time corrected by a
 * coincident timestamp with the zone's rules at the reading's own date (Europe/Paris, an August reading
 * read in November, so the rules differ), beside the same correction with the offset applied as it is
 * (no zone), measured in the same run; ratio = with zone / without. Row: `time-zone-rules`.
 */
import { resolveTime } from '../drivers/normalize/time.ts';
import type { CoincidentTime, Measurement } from '../drivers/types.ts';
import { type BenchRow, throughput } from './results.ts';

export function timeBench(ms = 500): BenchRow[] {
  const coincident: CoincidentTime = {
    device: { year: 2026, month: 11, day: 20, hours: 11, minutes: 3, seconds: 0 },
    gatewayMs: Date.UTC(2026, 10, 20, 10, 0),
  };
  // A RACP download: a reading every 8 hours from August onwards, each on its own date.
  const readings: Measurement[] = Array.from({ length: 300 }, (_, i) => {
    const at = new Date(Date.UTC(2026, 7, 1, 8) + i * 8 * 3_600_000);
    return {
      kind: 'glucose',
      source: '2A18',
      sequence: i,
      deviceTime: {
        year: at.getUTCFullYear(),
        month: at.getUTCMonth() + 1,
        day: at.getUTCDate(),
        hours: at.getUTCHours(),
        minutes: at.getUTCMinutes(),
        seconds: 0,
      },
      components: [{ name: 'glucose', value: { mantissa: 104, exponent: 0, value: 104 }, unit: 'mg/dL' }],
      final: true,
    };
  });
  let i = 0;
  let j = 0;
  const withZone = () =>
    resolveTime(readings[i++ % readings.length]!, { coincident, timeZone: 'Europe/Paris' });
  const asMeasured = () => resolveTime(readings[j++ % readings.length]!, { coincident });
  const rounds = 5;
  let zone = 0;
  let plain = 0;
  for (let k = 0; k < rounds; k++) {
    zone += throughput(withZone, ms / rounds) / rounds;
    plain += throughput(asMeasured, ms / rounds) / rounds;
  }
  return [
    {
      name: 'time-zone-rules',
      value: Math.round(zone),
      unit: 'readings/s',
      reference: {
        name: 'the same correction with the measured offset as it is (no zone)',
        value: Math.round(plain),
      },
      ratio: Math.round((zone / plain) * 100) / 100,
    },
  ];
}
