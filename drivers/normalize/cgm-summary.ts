/**
 * Continuous glucose summaries: what Mon espace santé takes from a CGM. It files no stream of points;
 * its glucose profile (ans.fhir.fr.mesures `mesures-observation-glucose`, JDV_J154-TypeGlucose-ENS) names
 * two CGM indicators, each over a number of days (extension `mesures-number-of-days`, TRE_R308-TAASIP
 * GEN-275 "7j", GEN-276 "14j", GEN-277 "30j", GEN-278 "90j"; MES API Mesures 1.5.2 §2.2.6: the number of
 * days is mandatory for both, the meal moment forbidden):
 * - MED-969 "Glucose interstitiel": the mean interstitial glucose over the period, mg/dL;
 * - MED-972 "Index de gestion de glycémie (IGG)": the glucose management indicator, %.
 *
 * Formulas and rules, with their sources:
 * - mean: the arithmetic mean of every valid sensor value in the period (HL7 CGM IG 1.0.0, "Mean Glucose",
 *   LOINC 97507-8 "Average glucose [Mass/volume] in Interstitial fluid during Reporting Period"),
 *   reported in whole mg/dL as CGM reports and the ambulatory glucose profile print it;
 * - GMI (%) = 3.31 + 0.02392 × mean glucose (mg/dL): Bergenstal RM et al., "Glucose Management Indicator
 *   (GMI): A New Term for Estimating A1C From Continuous Glucose Monitoring", Diabetes Care
 *   2018;41(11):2275-2280, reported to one decimal as there (LOINC 97506-0);
 * - sufficiency: at least 70 % of the readings the sensor should have taken in the period (Battelino T et
 *   al., "Clinical Targets for Continuous Glucose Monitoring Data Interpretation: Recommendations From
 *   the International Consensus on Time in Range", Diabetes Care 2019;42(8):1593-1603: "≥70% of data from
 *   14 days"). The consensus asks for 14 days; a provider may choose 7 (MES names both): the same 70 %
 *   rule applies to the days chosen, and the period is stated in the record. Below it nothing is sent:
 *   a mean over a few hours is not the patient's glucose over days (MEDGW_ERR_CGM_INSUFFICIENT_DATA).
 *
 * Choices the sources leave open, written down (docs/clinical-mapping.md, Continuous glucose):
 * - a HI or LO point (the sensor's range ends there) counts at its bound, as a sensor's own reports do;
 *   a point the sensor marked invalid (quarantined by the status table) does not count;
 * - the period is the `days` whole days that end at `endMs` (the gateway picks midnight in its zone);
 *   a point at `endMs` belongs to the next period, one at the start to this one;
 * - each summary has a deterministic id (device, indicator, days, end): computed twice, it is sent once.
 *
 * Pure: no clock, no I/O (node:crypto hashing only).
 */
import { hash } from 'node:crypto';
import type { Measurement, Observation, Quarantine, TimeQuality } from '../types.ts';
import { VOCABULARY } from '../vocabulary.ts';

/** CGM Measurement 0x2AA7 (CGMS v1.0.1): the characteristic a CGM's sensor values come from, and only them. */
export const CGM_MEASUREMENT_SOURCE = '2AA7';

/**
 * Whether a normalized value is a CGM sensor point the gateway keeps local for the summaries (journal
 * state `local`, MEDGW_ERR_CGM_POINT_LOCAL) rather than a reading to quarantine:
 * - it was measured by a CGM: decoded from a CGM Measurement 0x2AA7 record, which only the CGM
 *   collector reads (drivers/profiles/cgm.ts);
 * - its one reason not to be sent is that it is interstitial (MEDGW_ERR_GLUCOSE_INTERSTITIAL). A value the
 *   sensor status marks invalid, or one whose clock could not be checked, keeps that reason and stays in
 *   quarantine: the summaries would not count it either (summarizeCgm), and a sensor fault is worth a look.
 * An interstitial spot value from a meter (GLS sample type 9, 0x2A18) is not a sensor stream: it stays
 * quarantined, discard-only, as before.
 */
export function isCgmSensorPoint(
  measurement: Pick<Measurement, 'source'>,
  quarantine: Quarantine | undefined,
): boolean {
  return (
    measurement.source === CGM_MEASUREMENT_SOURCE && quarantine?.code === 'MEDGW_ERR_GLUCOSE_INTERSTITIAL'
  );
}

/** One valid sensor value: when it was taken (UTC ms) and the glucose in mg/dL. */
export interface CgmPoint {
  readonly utcMs: number;
  readonly mgdl: number;
  /**
   * How its time was established (drivers/normalize/time.ts). A point whose time is not trusted cannot
   * be placed in a period: it does not count.
   */
  readonly quality?: TimeQuality;
}

/** The periods MES names (TRE_R308-TAASIP) and their codes. */
export const CGM_PERIODS = {
  7: { code: 'GEN-275', display: '7j' },
  14: { code: 'GEN-276', display: '14j' },
  30: { code: 'GEN-277', display: '30j' },
  90: { code: 'GEN-278', display: '90j' },
} as const;
export type CgmPeriodDays = keyof typeof CGM_PERIODS;

/** TRE_R308-TAASIP (urn:oid:1.2.250.1.213.1.1.4.322), the code system of MED-969, MED-972 and the days. */
export const TRE_R308_TAASIP = 'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP';

/** The two indicators, as JDV_J154-TypeGlucose-ENS lists them. */
export const CGM_INDICATORS = {
  'cgm-mean-glucose': { code: 'MED-969', display: 'Glucose interstitiel', loinc: '97507-8', unit: 'mg/dL' },
  'glucose-management-indicator': {
    code: 'MED-972',
    display: 'Index de gestion de glycémie (IGG)',
    loinc: '97506-0',
    unit: '%',
  },
} as const;
export type CgmIndicator = keyof typeof CGM_INDICATORS;

/** Share of the expected readings a period needs (Battelino et al. 2019). */
export const CGM_MIN_COVERAGE = 0.7;

export interface CgmSummaryRequest {
  /** End of the period (exclusive), UTC ms. */
  readonly endMs: number;
  readonly days: CgmPeriodDays;
  /** Minutes between two sensor readings (CGM Communication Interval, 5 for most sensors). */
  readonly intervalMinutes: number;
}

export interface CgmSummary {
  readonly startMs: number;
  readonly endMs: number;
  readonly days: CgmPeriodDays;
  /** Valid points in the period. */
  readonly points: number;
  /** points / the readings the sensor should have taken, 0..1 (more than 1 is cut to 1). */
  readonly coverage: number;
  /** Mean glucose, whole mg/dL. */
  readonly meanMgdl: number;
  /** GMI, %, one decimal. */
  readonly gmiPercent: number;
}

export interface CgmSummaryRefusal {
  readonly code: 'MEDGW_ERR_CGM_INSUFFICIENT_DATA';
  readonly reason: string;
  readonly points: number;
  readonly coverage: number;
}

const DAY_MS = 86_400_000;

/** GMI (%) from the mean glucose in mg/dL, unrounded (Bergenstal et al. 2018). */
export function gmiFromMean(meanMgdl: number): number {
  return 3.31 + 0.02392 * meanMgdl;
}

/** Rounds half away from zero at `decimals` places, on the decimal text (no binary artefacts). */
function round(value: number, decimals: number): number {
  return Number(
    Math.sign(value) * Number(`${Math.round(Number(`${Math.abs(value)}e${decimals}`))}e-${decimals}`),
  );
}

/** Summarizes the points of one period, or says why the period cannot be summarized. */
export function summarizeCgm(
  points: readonly CgmPoint[],
  request: CgmSummaryRequest,
): CgmSummary | CgmSummaryRefusal {
  const { endMs, days, intervalMinutes } = request;
  if (!(intervalMinutes > 0)) throw new RangeError('intervalMinutes must be positive');
  const startMs = endMs - days * DAY_MS;
  let count = 0;
  let sum = 0;
  for (const p of points) {
    if (p.utcMs < startMs || p.utcMs >= endMs || !Number.isFinite(p.mgdl)) continue;
    if (p.quality === 'untrusted' || p.quality === 'received') continue;
    count += 1;
    sum += p.mgdl;
  }
  const expected = Math.floor((days * 1440) / intervalMinutes);
  const coverage = Math.min(1, count / expected);
  if (count === 0 || coverage < CGM_MIN_COVERAGE) {
    return {
      code: 'MEDGW_ERR_CGM_INSUFFICIENT_DATA',
      reason: `${count} of the ${expected} sensor readings expected over ${days} days (${Math.floor(coverage * 100)} %); at least ${CGM_MIN_COVERAGE * 100} % are needed for a summary`,
      points: count,
      coverage,
    };
  }
  const mean = sum / count;
  return {
    startMs,
    endMs,
    days,
    points: count,
    coverage,
    meanMgdl: round(mean, 0),
    // From the unrounded mean: rounding twice would move the GMI by up to 0.012 %.
    gmiPercent: round(gmiFromMean(mean), 1),
  };
}

export function isCgmSummary(r: CgmSummary | CgmSummaryRefusal): r is CgmSummary {
  return !('code' in r);
}

/**
 * The deterministic id of one indicator of one period of one device: the outbox key and the FHIR
 * Observation.identifier, so a summary computed again (a restart, another instance) collapses.
 */
export function cgmSummaryId(
  deviceKey: string,
  indicator: CgmIndicator,
  days: CgmPeriodDays,
  endMs: number,
): string {
  const material = `cgm-summary|${deviceKey}|${indicator}|${days}|${new Date(endMs).toISOString()}`;
  // The reading-id shape (drivers/reading-id.ts), with its own prefix: never equal to a reading's id.
  return `s1-${hash('sha256', material, 'hex').slice(0, 32)}`;
}

/**
 * The two Observations of a summary (MED-969 mean glucose, MED-972 GMI), as the cloud-bridge files them.
 * Their time is the end of the period (FHIR effectiveDateTime: the profile allows no Period; the number
 * of days says how far back it reaches), `synced` because the gateway's clock chose it.
 */
export function cgmSummaryObservations(summary: CgmSummary): Observation[] {
  const time = { utc: new Date(summary.endMs).toISOString(), quality: 'synced' as const };
  const context = { periodDays: summary.days, points: summary.points };
  const mean = VOCABULARY['cgm-mean-glucose'];
  const gmi = VOCABULARY['glucose-management-indicator'];
  return [
    {
      kind: 'cgm-mean-glucose',
      loinc: mean.loinc,
      mdc: mean.mdc,
      value: summary.meanMgdl,
      decimals: 0,
      unit: CGM_INDICATORS['cgm-mean-glucose'].unit,
      time,
      context,
    },
    {
      kind: 'glucose-management-indicator',
      loinc: gmi.loinc,
      mdc: gmi.mdc,
      value: summary.gmiPercent,
      decimals: 1,
      unit: CGM_INDICATORS['glucose-management-indicator'].unit,
      time,
      context,
    },
  ];
}
