/**
 * Quirks applied to the Measurements a codec produced (codec quirks act on bytes inside the codecs).
 * Each one names the capture that proved it.
 */
import type { Measurement } from '../types.ts';

export interface MeasurementQuirk {
  readonly name: string;
  readonly description: string;
  readonly apply: (m: Measurement) => Measurement;
}

/**
 * Beurer BM85 (derdilla/blood-pressure-monitor-fl ble_measurement_data_test.dart, "decodes beurer sample
 * data"): the mean arterial pressure slot is 0x0000 in every capture — the cuff does not compute it. A
 * mean arterial pressure of exactly 0 is dropped instead of quarantining the whole panel as implausible.
 */
export const meanArterialZeroUnset: MeasurementQuirk = {
  name: 'mean-arterial-zero-unset',
  description: 'a mean arterial pressure of exactly 0 means "not measured" and is left out',
  apply: (m) => ({
    ...m,
    components: m.components.filter(
      (c) => !(c.name === 'mean-arterial' && 'mantissa' in c.value && c.value.mantissa === 0),
    ),
  }),
};

export const MEASUREMENT_QUIRKS: readonly MeasurementQuirk[] = [meanArterialZeroUnset];

/** Applies the measurement quirks named in `quirks`. */
export function applyMeasurementQuirks(m: Measurement, quirks: ReadonlySet<string>): Measurement {
  let out = m;
  for (const q of MEASUREMENT_QUIRKS) if (quirks.has(q.name)) out = q.apply(out);
  return out;
}
