/**
 * A normalized reading → the Mon espace santé feeding Bundle: a FHIR R4 `transaction` with exactly
 * one Observation (ANS profile per kind) and its PhdDevice (conditional create by `ifNoneExist`).
 * Contract: MES "API Mesures" 1.5.2 §2.2 (POST [base]/fhir) and ans.fhir.fr.mesures
 * `mesures-bundle-flux-alimentation`. Under the `ans-3.2.0` generation a glucose reading goes in the
 * IG 3.2.0 biology Bundle instead (biology-bundle.ts).
 */
import { createHash } from 'node:crypto';
import { CGM_PERIODS, type CgmPeriodDays, TRE_R308_TAASIP } from '../drivers/normalize/cgm-summary.ts';
import type { Observation, ObservationTime } from '../drivers/types.ts';
import { MedgwError } from '../kernel/errors.ts';
import { biologyBundle, DEFAULT_PROFILE_GENERATION, type ProfileGeneration } from './biology-bundle.ts';
import { FhirDecimal, type FhirJson } from './fhir-json.ts';
import { type BridgeDevice, deviceIdentifier, phdDevice } from './phd-device.ts';
import {
  BP_COMPONENTS,
  GLUCOSE_MOMENT,
  KIND_PROFILES,
  LOINC,
  MDC,
  MESURES_BASE,
  MOMENT_EXTENSION,
  NUMBER_OF_DAYS_EXTENSION,
  OBSERVATION_CATEGORY,
  ORIGINAL_DATA_EXTENSION,
  originalLoinc,
  TRE_A04_LOINC,
  UCUM,
} from './profiles.ts';

/** The patient as the national side knows them: idPe and the assigning authority OID from pairing. */
export interface MesPatient {
  readonly idPe: string;
  readonly oid: string;
}

/** One normalized reading ready to leave the gateway. */
export interface BridgeReading {
  /** Deterministic reading id: the Observation.identifier value and the outbox key. */
  readonly id: string;
  readonly observation: Observation;
  readonly device: BridgeDevice;
  readonly patient: MesPatient;
}

export interface BundleOptions {
  /** OID of this solution (its instance), from pairing; meta.source and identifiers live under it. */
  readonly solutionOid: string;
  /** Profile canonical base; the default is the ans.fhir.fr.mesures one. */
  readonly profileBase?: string;
  /** Which contract shapes a glucose Bundle (biology-bundle.ts); default `mes-1.5.2`, the feeding Bundle. */
  readonly generation?: ProfileGeneration;
}

/** MDC_CONC_GLU_ISF (IEEE 11073-10101): glucose measured in interstitial fluid. */
const MDC_CONC_GLU_ISF = '160212';

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** A name-based UUID (RFC 9562 version 5 layout over SHA-1) so the same input always gives the same id. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update('medgw:').update(name).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The deterministic Observation.identifier of a reading. */
export function observationIdentifier(
  readingId: string,
  solutionOid: string,
): { system: string; value: string } {
  return { system: `urn:oid:${solutionOid}`, value: readingId };
}

function notSendable(reading: BridgeReading, why: string): MedgwError {
  return new MedgwError(
    'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
    `reading ${reading.id} (${reading.observation.kind}): ${why}`,
    {
      readingId: reading.id,
      kind: reading.observation.kind,
    },
  );
}

function quantity(reading: BridgeReading, obs: Observation, units: readonly string[]): FhirJson {
  if (obs.dataAbsentReason || obs.value === undefined) {
    // MES answers 422 "Observation value quantity not provided." to a data-absent value.
    throw notSendable(
      reading,
      `no value (${obs.dataAbsentReason ?? 'absent'}); the national side requires one`,
    );
  }
  if (!obs.unit || (units.length > 0 && !units.includes(obs.unit))) {
    throw notSendable(
      reading,
      `unit ${obs.unit ?? '(none)'} is not one the profile allows (${units.join(', ')})`,
    );
  }
  const decimals = obs.decimals ?? decimalsOf(obs.value);
  // A HI / LO result is the device's limit with its comparator (FHIR R4 Quantity.comparator).
  return {
    value: FhirDecimal.of(obs.value, decimals),
    ...(obs.comparator ? { comparator: obs.comparator } : {}),
    unit: obs.unit,
    system: UCUM,
    code: obs.unit,
  };
}

/**
 * ans.fhir.fr.mesures MesOriginalData: the value the device measured before a unit conversion
 * (has-been-converted, original-code, original-value; all three 1..1). The extension's context is the
 * Observation, so a panel whose parts were converted (a cuff in kPa) keeps its originals locally.
 */
function originalData(obs: Observation, filedUnder: string): FhirJson | undefined {
  const o = obs.original;
  if (!o) return undefined;
  return {
    url: ORIGINAL_DATA_EXTENSION,
    extension: [
      { url: 'has-been-converted', valueBoolean: true },
      {
        url: 'original-code',
        valueCodeableConcept: { coding: [{ system: LOINC, code: originalLoinc(obs, filedUnder) }] },
      },
      {
        url: 'original-value',
        valueQuantity: {
          value: FhirDecimal.of(o.value, o.decimals ?? decimalsOf(o.value)),
          unit: o.unit,
          system: UCUM,
          code: o.unit,
        },
      },
    ],
  };
}

/**
 * Device status bits carried in the record (drivers/normalize/status.ts), as the PHD IG codes them, in
 * `Observation.interpretation` (docs/clinical-mapping.md, Device status bits).
 */
function interpretationOf(obs: Observation): FhirJson[] {
  return (obs.deviceStatus ?? []).map((s) =>
    s.system && s.code
      ? { coding: [{ system: s.system, code: s.code, display: s.display }] }
      : { text: s.display },
  );
}

function decimalsOf(value: number): number {
  const s = String(value);
  const dot = s.indexOf('.');
  return dot < 0 || s.includes('e') ? 0 : s.length - dot - 1;
}

function codeOf(obs: Observation, national: { system: string; code: string; display: string }): FhirJson {
  const coding: FhirJson[] = [national];
  if (obs.loinc && obs.loinc !== national.code) coding.push({ system: LOINC, code: obs.loinc });
  if (obs.mdc) coding.push({ system: MDC, code: obs.mdc });
  return { coding };
}

/**
 * Observation.effectiveDateTime, a FHIR R4 dateTime (a time carries its zone; any fraction of a second is
 * allowed): in the UTC offset the device stated (MQTT), with its fraction of a second as it wrote it,
 * else the UTC instant. Both name the same instant.
 */
export function effectiveDateTime(utc: string, time: ObservationTime): string {
  const offset = time.utcOffsetMinutes;
  if (offset === undefined) return utc;
  const iso = new Date(Date.parse(utc) + offset * 60_000).toISOString();
  const wall = iso.slice(0, 19);
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  const local = time.device?.startsWith(wall) ? time.device : iso.endsWith('.000Z') ? wall : iso.slice(0, 23);
  return `${local}${zone}`;
}

/** Builds the transaction Bundle; throws MEDGW_ERR_BUNDLE_NOT_SENDABLE for a reading MES refuses by rule. */
export function buildBundle(reading: BridgeReading, options: BundleOptions): FhirJson {
  const { solutionOid } = options;
  const { kind, utc } = sendable(reading, solutionOid);
  const obs = reading.observation;

  const base = options.profileBase ?? MESURES_BASE;
  const ident = deviceIdentifier(reading.device, solutionOid);
  const deviceUuid = stableUuid(`device|${ident.system}|${ident.value}`);
  const observationUuid = stableUuid(`observation|${solutionOid}|${reading.id}`);

  const observation: Record<string, FhirJson> = {
    resourceType: 'Observation',
    meta: { profile: [`${base}${kind.profile}`], source: `urn:oid:${solutionOid}` },
  };
  const extension = extensionsOf(reading, kind);
  if (extension.length > 0) observation.extension = extension;
  observation.identifier = [observationIdentifier(reading.id, solutionOid)];
  observation.status = 'final';
  observation.category = [
    { coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs', display: 'vital-signs' }] },
  ];
  const code = codeOf(obs, kind.code) as { coding: FhirJson[] };
  if (kind.extraCodes) code.coding.splice(1, 0, ...kind.extraCodes.filter((c) => c.code !== obs.loinc));
  observation.code = code;
  observation.subject = {
    identifier: { system: `urn:oid:${reading.patient.oid}`, value: reading.patient.idPe },
  };
  observation.effectiveDateTime = effectiveDateTime(utc, obs.time);
  const interpretation = interpretationOf(obs);
  if (interpretation.length > 0) observation.interpretation = interpretation;

  if (obs.kind === 'blood-pressure') observation.component = bloodPressureComponents(reading);
  else observation.valueQuantity = quantity(reading, obs, kind.units);
  observation.device = { reference: `Device/${deviceUuid}` };

  const device = phdDevice(reading.device, ident, deviceUuid, obs);
  const deviceEntry: FhirJson = {
    fullUrl: `urn:uuid:${deviceUuid}`,
    resource: device,
    request: { method: 'POST', url: 'Device', ifNoneExist: `identifier=${ident.system}|${ident.value}` },
  };

  if (obs.kind === 'glucose' && (options.generation ?? DEFAULT_PROFILE_GENERATION) === 'ans-3.2.0') {
    // ans.fhir.fr.mesures 3.2.0: glucose is in no slice of the feeding Bundle, only in the biology one.
    return biologyBundle({
      base,
      observation,
      observationUuid,
      reportUuid: stableUuid(`diagnostic-report|${solutionOid}|${reading.id}`),
      deviceEntry,
    });
  }

  return {
    resourceType: 'Bundle',
    meta: { profile: [`${base}mesures-bundle-flux-alimentation`] },
    type: 'transaction',
    entry: [
      {
        fullUrl: `urn:uuid:${observationUuid}`,
        resource: observation,
        request: { method: 'POST', url: 'Observation' },
      },
      deviceEntry,
    ],
  };
}

type KindProfile = NonNullable<(typeof KIND_PROFILES)[keyof typeof KIND_PROFILES]>;

/**
 * The rules that keep a reading from the national side: OIDs, a kind it takes from devices, not in
 * quarantine, a trustworthy UTC time, no interstitial glucose filed as blood glucose. Returns its
 * profile and that time.
 */
function sendable(reading: BridgeReading, solutionOid: string): { kind: KindProfile; utc: string } {
  if (!OID.test(solutionOid)) throw notSendable(reading, `solution OID ${solutionOid} is not an OID`);
  if (!OID.test(reading.patient.oid))
    throw notSendable(reading, `pairing OID ${reading.patient.oid} is not an OID`);
  const obs = reading.observation;
  const kind = KIND_PROFILES[obs.kind];
  if (!kind) {
    throw notSendable(
      reading,
      obs.kind === 'bmi'
        ? 'BMI is computed by the national side and never sent'
        : obs.kind === 'body-height'
          ? 'the national side takes no body height from devices'
          : 'a panel component is sent only inside its panel',
    );
  }
  if (obs.quarantine) throw notSendable(reading, `quarantined (${obs.quarantine.code})`);
  if (!obs.time.utc) throw notSendable(reading, 'no trustworthy UTC time for the reading');
  if (obs.kind === 'glucose' && obs.mdc === MDC_CONC_GLU_ISF) {
    // Interstitial glucose is MED-969 with a number of days (MES API Mesures 1.5.2 §2.2.6), never 2345-7.
    throw notSendable(reading, 'an interstitial-fluid glucose is never filed as a blood glucose');
  }
  return { kind, utc: obs.time.utc };
}

/** The Observation's extensions: the glucose meal moment, a CGM summary's number of days, original data. */
function extensionsOf(reading: BridgeReading, kind: KindProfile): FhirJson[] {
  const obs = reading.observation;
  const extension: FhirJson[] = [];
  if (kind.moment) {
    const meal = obs.context?.meal;
    const moment =
      typeof meal === 'string' && Object.hasOwn(GLUCOSE_MOMENT, meal) ? GLUCOSE_MOMENT[meal] : undefined;
    if (!moment) {
      throw notSendable(
        reading,
        'no meal moment: JDV J157 has no code for an unknown moment and the national side requires one',
      );
    }
    extension.push({
      url: MOMENT_EXTENSION,
      valueCodeableConcept: { coding: [{ system: TRE_A04_LOINC, ...moment }] },
    });
  }
  if (kind.numberOfDays) {
    // mesures-number-of-days (valueCodeableConcept, TRE_R308-TAASIP): the period the summary covers.
    const days = obs.context?.periodDays;
    const period =
      typeof days === 'number' && Object.hasOwn(CGM_PERIODS, days)
        ? CGM_PERIODS[days as CgmPeriodDays]
        : undefined;
    if (!period)
      throw notSendable(reading, 'a CGM summary without the number of days it covers (7, 14, 30 or 90)');
    extension.push({
      url: NUMBER_OF_DAYS_EXTENSION,
      valueCodeableConcept: {
        coding: [{ system: TRE_R308_TAASIP, code: period.code, display: period.display }],
      },
    });
  }
  const original = originalData(obs, kind.code.code);
  if (original) extension.push(original);
  return extension;
}

/** The blood-pressure panel's components: systolic and diastolic required, the mean arterial when measured. */
function bloodPressureComponents(reading: BridgeReading): FhirJson[] {
  const parts = reading.observation.components ?? [];
  const component: FhirJson[] = [];
  for (const name of ['systolic', 'diastolic', 'mean-arterial'] as const) {
    const part = parts.find((p) => p.kind === name);
    const meta = BP_COMPONENTS[name];
    if (!meta) continue;
    if (!part) {
      if (name === 'mean-arterial') continue;
      throw notSendable(reading, `the blood-pressure panel has no ${name} value`);
    }
    if (name === 'mean-arterial' && (part.dataAbsentReason || part.value === undefined)) continue;
    component.push({
      code: codeOf(part, { system: LOINC, code: meta.code, display: meta.display }),
      valueQuantity: quantity(reading, part, ['mm[Hg]']),
    });
  }
  return component;
}
