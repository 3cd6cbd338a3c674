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
  StatusCoding,
} from '../types.ts';
import { GLUCOSE_MDC_BY_SAMPLE_TYPE, HEART_RATE_MDC, VOCABULARY } from '../vocabulary.ts';
import { statusDecision, statusOutcome } from './status.ts';
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

type Spec = readonly [MeasurementComponent['name'], ObservationKind, string?];
const GLUCOSE: readonly Spec[] = [['glucose', 'glucose']];
const BODY_WEIGHT: readonly Spec[] = [
  ['weight', 'body-weight'],
  ['height', 'body-height'],
  ['bmi', 'bmi'],
];
const CUFF_PULSE: readonly Spec[] = [['pulse', 'heart-rate', HEART_RATE_MDC.cuff]];
const BODY_COMPOSITION: readonly Spec[] = [
  ['body-fat', 'body-fat-percentage'],
  ['muscle-percentage', 'muscle-percentage'],
  ['muscle-mass', 'muscle-mass'],
  ['fat-free-mass', 'fat-free-mass'],
  ['soft-lean-mass', 'soft-lean-mass'],
  ['body-water-mass', 'body-water-mass'],
  ['impedance', 'body-impedance'],
  ['basal-metabolism', 'basal-metabolism'],
];
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

/**
 * Normalizes one measurement. Intermediate readings (final: false, or a status bit that says the value is
 * not final) produce no observation.
 */
export function normalize(m: Measurement, options: NormalizeOptions = {}): Observation[] {
  if (!m.final) return [];
  const status = statusOutcome(m.flags);
  if (status.notFinal) return [];
  const { time, quarantine: timeQuarantine } = resolveTime(m, options);
  // What the device or its clock says outweighs an implausible value: one reason per observation.
  const readingQuarantine =
    status.quarantine ?? controlQuarantine(m) ?? interstitialQuarantine(m) ?? timeQuarantine;
  const context = m.context ? { ...m.context } : undefined;
  const b = new Builder(m, time, context, status.carried);

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
    case 'body-composition':
      b.quantities(out, BODY_COMPOSITION);
      break;
  }
  for (const o of out) {
    const q =
      readingQuarantine ??
      o.quarantine ??
      valueQuarantine(o) ??
      uncheckedTime(m, o, options) ??
      momentQuarantine(o);
    if (q) o.quarantine = q;
  }
  return out;
}

class Builder {
  /**
   * GLS Sensor Status bits 5/6: the meter shows HI or LO; the number it sends is its range's end, a bound,
   * not a result: `>` / `<` that number (FHIR Quantity.comparator).
   */
  private readonly beyond: '>' | '<' | undefined;
  /** The device's flags as they travel in an observation's local context. */
  private readonly deviceFlags: string | undefined;

  constructor(
    private readonly m: Measurement,
    private readonly time: ObservationTime,
    private readonly context: Record<string, string | number | boolean> | undefined,
    /** Status bits carried in every observation of the reading (status.ts). */
    private readonly carried: readonly StatusCoding[],
  ) {
    const flags = m.flags?.map(squash);
    this.beyond = flags?.includes('resulthigherthandevicecanprocess')
      ? '>'
      : flags?.includes('resultlowerthandevicecanprocess')
        ? '<'
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
    if ('absent' in value) {
      o = { kind, loinc: v.loinc, mdc: mdc ?? v.mdc, dataAbsentReason: value.absent, time: this.time };
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
    if (this.beyond && kind === 'glucose') o.comparator = this.beyond;
    if (withContext && this.carried.length > 0) o.deviceStatus = this.carried;
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
    if (this.carried.length > 0) panel.deviceStatus = this.carried;
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

/** GLS Type 9: interstitial fluid (a CGM or an ISF meter), never blood glucose. */
const ISF_SAMPLE_TYPE = 9;

/**
 * An interstitial-fluid value is not a blood glucose: MES files interstitial glucose as MED-969 with a
 * number of days and no moment (API Mesures 1.5.2 §2.2.6), a summary over days, not a spot value. Until the
 * gateway builds that summary, an ISF spot value is held with the reason.
 */
function interstitialQuarantine(m: Measurement): Quarantine | undefined {
  if (m.kind !== 'glucose') return undefined;
  const t = m.context?.sampleType ?? m.context?.type;
  const isf =
    t === ISF_SAMPLE_TYPE ||
    (typeof t === 'string' && squash(t) === squash(GLUCOSE_MDC_BY_SAMPLE_TYPE[ISF_SAMPLE_TYPE]?.name ?? ''));
  return isf
    ? {
        code: 'MEDGW_ERR_GLUCOSE_INTERSTITIAL',
        reason:
          'interstitial-fluid glucose (a sensor, not a blood sample) is not a blood glucose; the health record takes it only as a summary over days',
      }
    : undefined;
}

/** A forwarded observation without a value to send: held, with what the device said, never dropped. */
function valueQuarantine(o: Observation): Quarantine | undefined {
  if (!VOCABULARY[o.kind].forwarded) return undefined;
  const absent =
    o.kind === 'blood-pressure'
      ? o.components?.find((p) => p.kind !== 'mean-arterial' && p.value === undefined)
      : o.value === undefined
        ? o
        : undefined;
  if (!absent) return undefined;
  if (o.comparator) {
    return {
      code: 'MEDGW_ERR_GLUCOSE_BEYOND_RANGE',
      reason: `the meter shows ${o.comparator === '>' ? 'HI (above' : 'LO (below'} its range) and sent no limit value: a critical reading to check with the patient`,
    };
  }
  return {
    code: 'MEDGW_ERR_VALUE_ABSENT',
    reason: `the device sent no ${VOCABULARY[absent.kind].display.en.toLowerCase()} value (${absent.dataAbsentReason ?? 'absent'})`,
  };
}

/**
 * A forwarded reading whose time could not be placed in UTC (the device says its clock is not set or at
 * fault, or a skipped civil hour with no clock to read): held for a person, who confirms it with
 * the time read in the gateway's zone or discards it, rather than sent undated or dropped.
 */
function uncheckedTime(m: Measurement, o: Observation, options: NormalizeOptions): Quarantine | undefined {
  // Only a caller that places times (the pipeline, `decode --fhir`: a zone or a clock reading) holds them;
  // a bare decode shows the device time as it is.
  if (options.timeZone === undefined && options.coincident === undefined) return undefined;
  if (!VOCABULARY[o.kind].forwarded || o.time.utc !== undefined) return undefined;
  const flagged = m.flags?.find((f) => statusDecision(f)?.decision === 'time');
  return {
    code: 'MEDGW_ERR_TIME_UNCHECKED',
    reason: flagged
      ? `the device says its clock cannot be trusted (${flagged}): the time ${o.time.device ?? ''} of this reading is unchecked`
      : `the time ${o.time.device ?? ''} of this reading could not be placed against the gateway's clock`,
  };
}

/**
 * Blood glucose needs its moment (MES API Mesures 1.5.2 §2.2.6: the moment extension is mandatory) and
 * JDV J157 has no code for "unknown": a reading whose meter stated no meal context is held for a person to
 * state the moment rather than filed under an invented one (docs/clinical-mapping.md, Glucose).
 */
function momentQuarantine(o: Observation): Quarantine | undefined {
  if (o.kind !== 'glucose' || !VOCABULARY.glucose.forwarded) return undefined;
  if (typeof o.context?.meal === 'string') return undefined;
  return {
    code: 'MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN',
    reason:
      'the meter did not say when the sample was taken relative to a meal; state the moment (before a meal, after a meal, fasting, other) to send it',
  };
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
