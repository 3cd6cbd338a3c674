/**
 * What a person states when confirming a quarantined reading, applied once for every entrance (the
 * quarantine page, the admin API, `medgw quarantine confirm`):
 * - a glucose reading whose meter gave no meal moment needs one (JDV J157 has no code for "unknown",
 *   docs/clinical-mapping.md, Glucose): the person states it;
 * - a reading whose device time could not be checked against the gateway's clock (no coincident timestamp)
 *   is placed with the zone's rules at its own date, and keeps its `untrusted` quality;
 * - a reading held for a reason the catalogue marks `discard-only` (control solution, demonstration or
 *   test data, no value, interstitial fluid, HI/LO without a value) is refused: it can only be discarded;
 * - a reading that still cannot be sent is refused with the reason: it can only be discarded.
 */
import { buildBundle } from '../../cloud-bridge/bundle.ts';
import { GLUCOSE_MOMENT, KIND_PROFILES } from '../../cloud-bridge/profiles.ts';
import { wallToUtc } from '../../drivers/normalize/time.ts';
import type { Observation } from '../../drivers/types.ts';
import {
  ERROR_CATALOGUE,
  type ErrorEntry,
  isErrorCode,
  isMedgwError,
  MedgwError,
} from '../../kernel/errors.ts';

/** The moments a person may state (JDV J157 through GLUCOSE_MOMENT; "other" is J157 "Autre"). */
export const STATED_MOMENTS = ['preprandial', 'postprandial', 'fasting', 'exercise', 'other'] as const;
export type StatedMoment = (typeof STATED_MOMENTS)[number];

export interface Statement {
  readonly moment?: string;
}

const knownMoment = (meal: unknown): boolean =>
  typeof meal === 'string' && Object.hasOwn(GLUCOSE_MOMENT, meal);

/** Local device time text `YYYY-MM-DDThh:mm:ss(.f…)` → the wall clock as epoch ms read as UTC. */
function wallOf(device: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(device);
  if (!m) return undefined;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms);
}

/**
 * The observation as it will be sent once confirmed: unchanged, or with what the person stated. Throws
 * MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN when a moment is needed and not given (or not one of STATED_MOMENTS),
 * MEDGW_ERR_BUNDLE_NOT_SENDABLE when nothing a person can state makes it sendable.
 */
export function restate(
  readingId: string,
  o: Observation,
  statement: Statement,
  timeZone: string,
): Observation {
  // A person confirming the reading lifts its quarantine, unless the catalogue says the reason is
  // final (the device itself says it is no patient result); what remains must be sendable on its own.
  if (
    o.quarantine &&
    isErrorCode(o.quarantine.code) &&
    (ERROR_CATALOGUE[o.quarantine.code] as ErrorEntry).quarantine === 'discard-only'
  ) {
    throw new MedgwError(
      'MEDGW_ERR_QUARANTINE_DISCARD_ONLY',
      `reading ${readingId} is held as ${o.quarantine.code} (${o.quarantine.reason}): it can only be discarded`,
    );
  }
  const { quarantine, ...unheld } = o;
  let out: Observation = quarantine ? unheld : o;
  if (o.kind === 'glucose' && !knownMoment(o.context?.meal)) {
    const moment = statement.moment;
    if (moment === undefined || !(STATED_MOMENTS as readonly string[]).includes(moment)) {
      throw new MedgwError(
        'MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN',
        `reading ${readingId}: the meter gave no meal moment; state one of ${STATED_MOMENTS.join(', ')}` +
          (moment !== undefined ? ` (not "${moment}")` : ''),
      );
    }
    out = { ...out, context: { ...out.context, meal: moment } };
  }
  if (out.time.utc === undefined && out.time.device !== undefined) {
    const wall = wallOf(out.time.device);
    const utc = wall === undefined ? undefined : wallToUtc(timeZone, wall)[0];
    if (utc !== undefined) out = { ...out, time: { ...out.time, utc: new Date(utc).toISOString() } };
  }
  // A kind the national side never takes (BMI, height) stays local whatever a person states.
  if (KIND_PROFILES[out.kind] === undefined) return out;
  try {
    // The same rules the forwarder will apply, for a placeholder patient: refused now, not as a dead letter.
    buildBundle(
      {
        id: readingId,
        observation: out,
        device: { id: 'confirm' },
        patient: { idPe: 'confirm', oid: '2.25.1' },
      },
      { solutionOid: '2.25.1' },
    );
  } catch (e) {
    if (!isMedgwError(e)) throw e;
    throw new MedgwError(
      'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
      `reading ${readingId} cannot be sent even once confirmed (${e.message}); discard it`,
    );
  }
  return out;
}
