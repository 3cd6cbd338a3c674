/**
 * What the national side expects per kind of reading: ANS "Mesures de santé" profile
 * (ans.fhir.fr.mesures), the code it files the reading under, and the PHD device specialization.
 */

import { CGM_INDICATORS, type CgmIndicator, TRE_R308_TAASIP } from '../drivers/normalize/cgm-summary.ts';
import type { Observation, ObservationKind } from '../drivers/types.ts';
import { VOCABULARY } from '../drivers/vocabulary.ts';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const MDC = 'urn:iso:std:iso:11073:10101';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** ans.fhir.fr.mesures canonical base (IG 3.1.x / 3.2.0). */
export const MESURES_BASE = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
/** HL7 PHD IG 1.0.0 PhdDevice profile. */
export const PHD_DEVICE_PROFILE = 'http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice';
export const PHD_DEVICE_IDENTIFIERS = 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers';
/** IEEE EUI-64 system id, PHD IG "Device identifiers". */
export const EUI64_SYSTEM = 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680';
export const BTMAC_SYSTEM = 'http://hl7.org/fhir/sid/eui-48/bluetooth';
/** TRE_A04-Loinc, the code system of JDV_J157-MomentGlucose-ENS (1.2.250.1.213.1.1.5.612). */
export const TRE_A04_LOINC = 'https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc';
export const MOMENT_EXTENSION = `${MESURES_BASE}mesures-moment-of-measurement`;
export const NUMBER_OF_DAYS_EXTENSION = `${MESURES_BASE}mesures-number-of-days`;

export interface KindProfile {
  /** Profile id under MESURES_BASE. */
  readonly profile: string;
  /** Code the national side files the reading under (first coding of Observation.code). */
  readonly code: { readonly system: string; readonly code: string; readonly display: string };
  /** Extra LOINC coding required by the HL7 vital-signs parent when it differs from the national code. */
  readonly extraCodes?: readonly { readonly system: string; readonly code: string }[];
  /** UCUM units the profile allows for valueQuantity. */
  readonly units: readonly string[];
  /** Glucose: the MesMomentOfMeasurement extension is mandatory (MES API Mesures 1.5.2 §2.2.6). */
  readonly moment?: boolean;
  /** CGM summaries: the MesNumberOfDays extension is mandatory (MES API Mesures 1.5.2 §2.2.6). */
  readonly numberOfDays?: boolean;
  /** The data kind the patient consents to (one OAuth scope each: `<scopePrefix><consentKind>`). */
  readonly consentKind: ConsentKind;
}

/** Data kinds the patient consents to, per kind (sandbox scopes `mesures.<kind>`; configurable prefix). */
export type ConsentKind = 'weight' | 'blood-pressure' | 'heart-rate' | 'glucose' | 'temperature' | 'spo2';
export const CONSENT_KINDS: readonly ConsentKind[] = [
  'weight',
  'blood-pressure',
  'heart-rate',
  'glucose',
  'temperature',
  'spo2',
];

/** The profile id and codes come from the one vocabulary table (drivers/vocabulary.ts). */
function fromVocabulary(
  kind: ObservationKind,
  rest: { consentKind: ConsentKind; units: readonly string[]; moment?: boolean },
): KindProfile {
  const v = VOCABULARY[kind];
  if (!v.ansProfile || !v.forwarded) throw new Error(`vocabulary: ${kind} has no ANS profile`);
  return {
    profile: v.ansProfile,
    code: { system: LOINC, code: v.loinc, display: v.loincDisplay },
    extraCodes: (v.extraLoinc ?? []).map((code) => ({ system: LOINC, code })),
    ...rest,
  };
}

/**
 * Kinds the national side accepts. BMI is absent on purpose: MES answers 422 "Bmi observation cannot
 * be created." (it computes BMI itself); lone panel components are sent only inside their panel; body
 * height is not among the codes of the MES search list (API Mesures 1.5.2 §2.3.1.1), so it stays local.
 */
export const KIND_PROFILES: Partial<Record<ObservationKind, KindProfile>> = {
  'body-weight': fromVocabulary('body-weight', { consentKind: 'weight', units: ['kg'] }),
  'blood-pressure': fromVocabulary('blood-pressure', { consentKind: 'blood-pressure', units: [] }),
  'heart-rate': fromVocabulary('heart-rate', { consentKind: 'heart-rate', units: ['/min'] }),
  'body-temperature': fromVocabulary('body-temperature', { consentKind: 'temperature', units: ['Cel'] }),
  // HL7 R4 oxygensat fixes 2708-6; the vocabulary adds 59408-5 (by pulse oximetry).
  spo2: fromVocabulary('spo2', { consentKind: 'spo2', units: ['%'] }),
  // JDV_J154-TypeGlucose-ENS (1.2.250.1.213.1.1.5.609) 2345-7 "Glucose sanguin"; units from
  // JDV_J163-GlucoseUnits-ENS (1.2.250.1.213.1.1.5.639).
  glucose: fromVocabulary('glucose', { consentKind: 'glucose', units: ['mg/dL'], moment: true }),
  // The CGM summaries: JDV_J154-TypeGlucose-ENS files them under TRE_R308-TAASIP MED-969 / MED-972, each
  // with the number of days it covers and no meal moment (MES API Mesures 1.5.2 §2.2.6). The LOINC of the
  // HL7 CGM IG follows as a second coding (codeOf in bundle.ts).
  'cgm-mean-glucose': cgmSummaryProfile('cgm-mean-glucose'),
  'glucose-management-indicator': cgmSummaryProfile('glucose-management-indicator'),
};

function cgmSummaryProfile(kind: CgmIndicator): KindProfile {
  const indicator = CGM_INDICATORS[kind];
  const v = VOCABULARY[kind];
  if (!v.ansProfile) throw new Error(`vocabulary: ${kind} has no ANS profile`);
  return {
    profile: v.ansProfile,
    code: { system: TRE_R308_TAASIP, code: indicator.code, display: indicator.display },
    units: [indicator.unit],
    numberOfDays: true,
    consentKind: 'glucose',
  };
}

/** Blood-pressure panel components (HL7 R4 bp profile slices SystolicBP / DiastolicBP, plus MAP). */
export const BP_COMPONENTS: Partial<Record<ObservationKind, { code: string; display: string }>> =
  Object.fromEntries(
    (['systolic', 'diastolic', 'mean-arterial'] as const).map((k) => [
      k,
      { code: VOCABULARY[k].loinc, display: VOCABULARY[k].loincDisplay },
    ]),
  );

/**
 * GLS meal context → JDV_J157-MomentGlucose-ENS code (TRE_A04-Loinc). Casual (snacks, drinks) and bedtime
 * are moments J157 does not name: "Autre" (LA46-8) is their faithful code. A reading with no meal context
 * has no code here: J157 has nothing for "unknown" and none is invented (the reading is held for a person
 * to state the moment; docs/clinical-mapping.md, Glucose).
 */
export const GLUCOSE_MOMENT: Readonly<Record<string, { code: string; display: string }>> = {
  preprandial: { code: '88365-2', display: 'Avant repas' },
  postprandial: { code: '16915-1', display: 'Glucose post prandial' },
  fasting: { code: '53049-3', display: 'Glucose à jeun' },
  exercise: { code: 'LA11865-5', display: 'Après exercice' },
  casual: { code: 'LA46-8', display: 'Autre' },
  bedtime: { code: 'LA46-8', display: 'Autre' },
  other: { code: 'LA46-8', display: 'Autre' },
};

/** ans.fhir.fr.mesures MesOriginalData (3.1.1, context Observation): the value before a unit conversion. */
export const ORIGINAL_DATA_EXTENSION = `${MESURES_BASE}mesures-original-data`;
/**
 * The LOINC of a value as the device measured it, for MesOriginalData `original-code`: a molar glucose
 * (mmol/L) is "Glucose [Moles/volume] in Serum or Plasma" 14749-6, the molar twin of 2345-7; any other
 * conversion keeps the property, so the code the reading is filed under.
 */
export function originalLoinc(observation: Observation, filedUnder: string): string {
  const molar = observation.original?.unit === 'mmol/L' || observation.original?.unit === 'mol/L';
  return observation.kind === 'glucose' && molar ? '14749-6' : filedUnder;
}

/** IEEE 11073-10101 device specializations (partition 8), PHD IG PhdDevice.specialization.systemType. */
export const SPECIALIZATION = {
  pulseOximeter: 528388,
  bloodPressure: 528391,
  thermometer: 528392,
  weightScale: 528399,
  glucose: 528401,
  /** MDC_DEV_SPEC_PROFILE_CGM (partition 8, term 4121): a continuous glucose monitor. */
  cgm: 528409,
} as const;

/** MDC heart rate from an oximeter (MDC_PULS_OXIM_PULS_RATE); a cuff's is 149546. */
const MDC_PULS_OXIM_PULS_RATE = '149530';

export function specializationFor(observation: Observation): number {
  switch (observation.kind) {
    case 'glucose':
      return SPECIALIZATION.glucose;
    case 'cgm-mean-glucose':
    case 'glucose-management-indicator':
      return SPECIALIZATION.cgm;
    case 'body-weight':
    case 'body-height':
    case 'bmi':
      return SPECIALIZATION.weightScale;
    case 'body-temperature':
      return SPECIALIZATION.thermometer;
    case 'spo2':
      return SPECIALIZATION.pulseOximeter;
    case 'heart-rate':
      return observation.mdc === MDC_PULS_OXIM_PULS_RATE
        ? SPECIALIZATION.pulseOximeter
        : SPECIALIZATION.bloodPressure;
    default:
      return SPECIALIZATION.bloodPressure;
  }
}
