/**
 * Normalization (pure): a Measurement in device units and device time → Observations in canonical UCUM
 * units with LOINC + MDC codes (drivers/vocabulary.ts), a time with a quality flag, a data-absent reason
 * for IEEE 11073 special values, and a quarantine reason for what must not be forwarded unseen.
 *
 * No clock: "now" comes in through the options (the coincident timestamp or the caller's clock).
 */
import type {
  Measurement,
  MeasurementComponent,
  Observation,
  ObservationKind,
  ObservationTime,
  Quarantine,
} from '../types.ts';
import { GLUCOSE_MDC_BY_SAMPLE_TYPE, HEART_RATE_MDC, VOCABULARY } from '../vocabulary.ts';
import { resolveTime, squash, type TimeOptions } from './time.ts';
import { toCanonical } from './units.ts';

export {
  DEFAULT_FUTURE_TOLERANCE_MS,
  EARLIEST_DEVICE_TIME_MS,
  resolveTime,
  type TimeOptions,
  type TimeResult,
} from './time.ts';

/** Options of normalization: the time options (time.ts) are all there is today. */
export interface NormalizeOptions extends TimeOptions {}

/**
 * Device status flags (named by the codecs, any case) that make a reading non-clinical: demonstration
 * or test data and measurements the device itself declares invalid (PLX Measurement Status bits 10, 11,
 * 13, 15; GLS Sensor Status Annunciation bits 1 and 10).
 */
const SUPPRESSING_FLAGS = new Set([
  'datafordemonstration',
  'datafortesting',
  'measurementunavailable',
  'invalidmeasurementdetected',
  'sensormalfunction',
  'generaldevicefault',
]);

type Spec = readonly [MeasurementComponent['name'], ObservationKind, string?];
const GLUCOSE: readonly Spec[] = [['glucose', 'glucose']];
const BODY_WEIGHT: readonly Spec[] = [
  ['weight', 'body-weight'],
  ['height', 'body-height'],
  ['bmi', 'bmi'],
];
const CUFF_PULSE: readonly Spec[] = [['pulse', 'heart-rate', HEART_RATE_MDC.cuff]];
const BODY_TEMPERATURE: readonly Spec[] = [['temperature', 'body-temperature']];
const SPO2: readonly Spec[] = [
  ['spo2', 'spo2'],
  ['pulse', 'heart-rate', HEART_RATE_MDC.oximeter],
];
/** The panel's parts, in the order they appear in it. */
const PANEL: readonly (readonly [MeasurementComponent['name'], ObservationKind])[] = [
  ['systolic', 'systolic'],
  ['diastolic', 'diastolic'],
  ['mean-arterial', 'mean-arterial'],
];

/** Observations are built here field by field; the type is the readonly Observation once returned. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Normalizes one measurement. Intermediate readings (final: false) produce no observation. */
export function normalize(m: Measurement, options: NormalizeOptions = {}): Observation[] {
  if (!m.final) return [];
  const { time, quarantine: timeQuarantine } = resolveTime(m, options);
  const squashedFlags = m.flags?.map(squash);
  const readingQuarantine = statusQuarantine(m, squashedFlags) ?? controlQuarantine(m) ?? timeQuarantine;
  const context = m.context ? { ...m.context } : undefined;
  const b = new Builder(m, time, context, squashedFlags);

  const out: Mutable<Observation>[] = [];
  switch (m.kind) {
    case 'glucose': {
      const mdc = glucoseMdc(m);
      b.quantities(out, mdc === undefined ? GLUCOSE : [['glucose', 'glucose', mdc]]);
      break;
    }
    case 'body-weight':
      b.quantities(out, BODY_WEIGHT);
      break;
    case 'blood-pressure':
      b.bloodPressure(out);
      b.quantities(out, CUFF_PULSE);
      break;
    case 'body-temperature':
      b.quantities(out, BODY_TEMPERATURE);
      break;
    case 'spo2':
      b.quantities(out, SPO2);
      break;
  }
  // What the device or its clock says outweighs an implausible value: one reason per observation.
  if (readingQuarantine) for (const o of out) o.quarantine = readingQuarantine;
  return out;
}

class Builder {
  /** GLS Sensor Status bits 5/6: the meter shows HI or LO; the number it sends is a bound, not a result. */
  private readonly beyond: 'positive-infinity' | 'negative-infinity' | undefined;
  /** The device's flags as they travel in an observation's context. */
  private readonly deviceFlags: string | undefined;

  constructor(
    private readonly m: Measurement,
    private readonly time: ObservationTime,
    private readonly context: Record<string, string | number | boolean> | undefined,
    squashedFlags: readonly string[] | undefined,
  ) {
    this.beyond = squashedFlags?.includes('resulthigherthandevicecanprocess')
      ? 'positive-infinity'
      : squashedFlags?.includes('resultlowerthandevicecanprocess')
        ? 'negative-infinity'
        : undefined;
    this.deviceFlags = m.flags && m.flags.length > 0 ? m.flags.join(',') : undefined;
  }

  private component(name: MeasurementComponent['name']): MeasurementComponent | undefined {
    for (const c of this.m.components) if (c.name === name) return c;
    return undefined;
  }

  /**
   * One observation of `kind` from a component, in the kind's canonical unit, with its own context
   * (`withContext`) or none (a panel's part). An implausible value sets `quarantine`.
   */
  observation(
    c: MeasurementComponent,
    kind: ObservationKind,
    mdc: string | undefined,
    withContext: boolean,
  ): Mutable<Observation> {
    const v = VOCABULARY[kind];
    const context = withContext ? this.contextFor(kind) : undefined;
    const value = c.value;
    let o: Mutable<Observation>;
    if ('absent' in value || this.beyond) {
      const reason = 'absent' in value ? value.absent : this.beyond;
      o = { kind, loinc: v.loinc, mdc: mdc ?? v.mdc, dataAbsentReason: reason, time: this.time };
    } else {
      const canonical = v.unit ?? c.unit;
      const converted = toCanonical(`${this.m.source} ${c.name}`, value, c.unit, canonical);
      o = {
        kind,
        loinc: v.loinc,
        mdc: mdc ?? v.mdc,
        value: converted.value,
        decimals: converted.decimals,
        unit: canonical,
        time: this.time,
      };
      if (converted.original) o.original = converted.original;
      const range = v.plausible;
      if (range && (converted.value < range.min || converted.value > range.max)) {
        o.quarantine = {
          code: 'MEDGW_ERR_IMPLAUSIBLE_VALUE',
          reason: `${v.display.en} is outside the plausible range ${range.min}-${range.max} ${canonical}`,
        };
      }
    }
    if (context) o.context = context;
    return o;
  }

  private contextFor(kind: ObservationKind): Record<string, string | number | boolean> | undefined {
    const neverSent = !VOCABULARY[kind].forwarded;
    const deviceFlags = this.deviceFlags;
    if (!this.context && !neverSent && deviceFlags === undefined) return undefined;
    const out: Record<string, string | number | boolean> = { ...this.context };
    if (neverSent) out.neverSent = true;
    if (deviceFlags !== undefined) out.deviceFlags = deviceFlags;
    return out;
  }

  /** Observations for the components present, in order; absent components are skipped. */
  quantities(out: Mutable<Observation>[], specs: readonly Spec[]): void {
    for (const [name, kind, mdc] of specs) {
      const c = this.component(name);
      if (c) out.push(this.observation(c, kind, mdc, true));
    }
  }

  /** ONE panel observation (85354-9) with systolic, diastolic and mean arterial components. */
  bloodPressure(out: Mutable<Observation>[]): void {
    const parts: Observation[] = [];
    let bad: Quarantine | undefined;
    for (const [name, kind] of PANEL) {
      const c = this.component(name);
      if (!c) continue;
      const part = this.observation(c, kind, undefined, false);
      if (part.quarantine) {
        // The panel carries the first part's reason; the parts themselves carry none.
        bad ??= part.quarantine;
        delete part.quarantine;
      }
      parts.push(part);
    }
    if (parts.length === 0) return;
    const v = VOCABULARY['blood-pressure'];
    const context = this.contextFor('blood-pressure');
    const panel: Mutable<Observation> = {
      kind: 'blood-pressure',
      loinc: v.loinc,
      mdc: v.mdc,
      components: parts,
      time: this.time,
    };
    if (context) panel.context = context;
    if (bad) panel.quarantine = bad;
    out.push(panel);
  }
}

/** GLS sample type names, squashed, → MDC code (the first entry wins, as in the table's order). */
const GLUCOSE_MDC_BY_SQUASHED_NAME: ReadonlyMap<string, string> = (() => {
  const byName = new Map<string, string>();
  for (const e of Object.values(GLUCOSE_MDC_BY_SAMPLE_TYPE)) {
    const key = squash(e.name);
    if (!byName.has(key)) byName.set(key, e.mdc);
  }
  return byName;
})();

/** MDC code of a glucose reading from its GLS sample type (capillary whole blood when unknown). */
function glucoseMdc(m: Measurement): string | undefined {
  const t = m.context?.sampleType ?? m.context?.type;
  if (typeof t === 'number') return GLUCOSE_MDC_BY_SAMPLE_TYPE[t]?.mdc;
  if (typeof t === 'string') return GLUCOSE_MDC_BY_SQUASHED_NAME.get(squash(t));
  return undefined;
}

function statusQuarantine(
  m: Measurement,
  squashedFlags: readonly string[] | undefined,
): Quarantine | undefined {
  if (!squashedFlags) return undefined;
  const i = squashedFlags.findIndex((f) => SUPPRESSING_FLAGS.has(f));
  return i >= 0
    ? {
        code: 'MEDGW_ERR_STATUS_SUPPRESSED',
        reason: `the device flagged the measurement "${m.flags?.[i]}": not a clinical reading`,
      }
    : undefined;
}

/** GLS Type 10 (control solution) or Sample Location 4 (control solution) is never a patient result. */
function controlQuarantine(m: Measurement): Quarantine | undefined {
  if (m.kind !== 'glucose' || !m.context) return undefined;
  const c = m.context;
  const control =
    c.sampleType === 10 ||
    c.type === 10 ||
    c.sampleLocation === 4 ||
    c.location === 4 ||
    c.controlSolution === true ||
    Object.values(c).some((v) => typeof v === 'string' && squash(v) === 'controlsolution');
  return control
    ? { code: 'MEDGW_ERR_CONTROL_SOLUTION', reason: 'the sample is a control solution, not a patient result' }
    : undefined;
}
