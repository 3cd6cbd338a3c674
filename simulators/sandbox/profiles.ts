/**
 * The measurement profiles the sandbox accepts and the rules it checks on top of FHIR R4 structure:
 * profile canonical per generation, LOINC code, category, UCUM unit, glucose extensions.
 * Sources: ANS IG ans.fhir.fr.mesures (profiles and extensions), MES "API Mesures" spec v1.5.2
 * §2.1.1 (MES canonicals), §2.2.6 (glucose rules), §2.3.1.1 (search codes).
 */

/** The data kinds a patient consents to, one scope each (`mesures.<kind>`). */
export const CONSENT_KINDS = [
  'weight',
  'blood-pressure',
  'heart-rate',
  'glucose',
  'temperature',
  'spo2',
] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

export const KIND_LABELS: Record<ConsentKind, string> = {
  weight: 'Poids (weight)',
  'blood-pressure': 'Pression artérielle (blood pressure)',
  'heart-rate': 'Fréquence cardiaque (heart rate)',
  glucose: 'Glycémie (glucose)',
  temperature: 'Température (temperature)',
  spo2: 'Saturation en oxygène (SpO2)',
};

export function kindScope(kind: ConsentKind): string {
  return `mesures.${kind}`;
}

export function kindFromScope(scope: string): ConsentKind | undefined {
  const k = scope.startsWith('mesures.') ? scope.slice('mesures.'.length) : '';
  return (CONSENT_KINDS as readonly string[]).includes(k) ? (k as ConsentKind) : undefined;
}

/**
 * Which canonicals and which contract the measurements API takes. `ans`, `mes`, `ens`: the canonical
 * families MES API Mesures 1.5.2 accepts (glucose in the feeding Bundle). `ans-3.2.0`: the ans.fhir.fr.mesures
 * 3.2.0 IG (ANS canonicals; glucose only in `mesures-bundle-flux-alimentation-biologie` with its
 * `mesures-diagnostic-report`). A sandbox listing both kinds takes both glucose forms.
 */
export type ProfileGeneration = 'ans' | 'mes' | 'ens' | 'ans-3.2.0';
export const PROFILE_GENERATIONS: readonly ProfileGeneration[] = ['ans', 'mes', 'ens', 'ans-3.2.0'];

/** The contracts a gateway names in `national.profileGeneration`, and the generations that play each. */
export const CONTRACT_GENERATIONS: Readonly<Record<'mes-1.5.2' | 'ans-3.2.0', readonly ProfileGeneration[]>> =
  {
    'mes-1.5.2': ['ans', 'mes', 'ens'],
    'ans-3.2.0': ['ans-3.2.0'],
  };

/** Whether the generations take glucose in the feeding Bundle (MES API Mesures 1.5.2). */
export const feedingGlucose = (generations: readonly ProfileGeneration[]): boolean =>
  generations.some((g) => g !== 'ans-3.2.0');
/** Whether the generations take the biology Bundle (ans.fhir.fr.mesures 3.2.0). */
export const biologyGlucose = (generations: readonly ProfileGeneration[]): boolean =>
  generations.includes('ans-3.2.0');

const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const MES = 'https://fhir.monespacesante.fr/ref/mesure/StructureDefinition/';
const ENS = 'http://esante.gouv.fr/ci-sis/fhir/StructureDefinition/';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const PHD_DEVICE_PROFILE = 'http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice';
export const MDC = 'urn:iso:std:iso:11073:10101';

/** Glucose indicator kinds of the MES glucose rules (spec v1.5.2 §2.2.6). */
export type GlucoseIndicator = 'blood' | 'hba1c' | 'interstitial' | 'management-index';

export interface ProfileRule {
  readonly kind: ConsentKind | 'bmi';
  /** Profile canonical per generation (absent: that generation has no such profile). */
  readonly urls: Partial<Record<ProfileGeneration, string>>;
}

export const PROFILES: readonly ProfileRule[] = [
  {
    kind: 'weight',
    urls: {
      ans: `${ANS}mesures-fr-observation-body-weight`,
      mes: `${MES}mes-observation-bodyweight`,
      ens: `${ENS}ENS_FrObservationBodyWeight`,
    },
  },
  {
    kind: 'blood-pressure',
    urls: {
      ans: `${ANS}mesures-fr-observation-bp`,
      mes: `${MES}mes-observation-bp`,
      ens: `${ENS}ENS_FrObservationBp`,
    },
  },
  {
    kind: 'heart-rate',
    urls: { ans: `${ANS}mesures-fr-observation-heartrate`, mes: `${MES}mes-observation-heartrate` },
  },
  {
    kind: 'temperature',
    urls: {
      ans: `${ANS}mesures-fr-observation-body-temperature`,
      mes: `${MES}mes-observation-bodytemperature`,
    },
  },
  { kind: 'spo2', urls: { ans: `${ANS}mesures-fr-observation-oxygen-sat` } },
  {
    kind: 'glucose',
    urls: {
      ans: `${ANS}mesures-observation-glucose`,
      mes: `${MES}mes-observation-glucose`,
      ens: `${ENS}ENS_ObservationGlucose`,
    },
  },
  { kind: 'bmi', urls: { ans: `${ANS}mesures-fr-observation-bmi`, mes: `${MES}mes-observation-bmi` } },
];

export interface CodeRule {
  readonly kind: ConsentKind | 'bmi';
  /** Accepted UCUM codes for valueQuantity (BP: for the components). */
  readonly units: readonly string[];
  /** Code system required (undefined: the MES-specific codes, any system). */
  readonly system?: string;
  readonly glucose?: GlucoseIndicator;
}

/** LOINC (and MES-specific) codes → kind and units. */
export const CODES: Readonly<Record<string, CodeRule>> = {
  '29463-7': { kind: 'weight', units: ['kg'], system: LOINC },
  '85354-9': { kind: 'blood-pressure', units: ['mm[Hg]'], system: LOINC },
  '8867-4': { kind: 'heart-rate', units: ['/min'], system: LOINC },
  // ans.fhir.fr.mesures 3.2.0 mesures-fr-observation-body-temperature: valueQuantity pattern UCUM Cel.
  '8310-5': { kind: 'temperature', units: ['Cel'], system: LOINC },
  '59408-5': { kind: 'spo2', units: ['%'], system: LOINC },
  '2708-6': { kind: 'spo2', units: ['%'], system: LOINC },
  // mesures-observation-glucose: valueQuantity.code required from JDV_J163-GlucoseUnits-ENS (mg/dL, %).
  '2339-0': { kind: 'glucose', units: ['mg/dL'], system: LOINC, glucose: 'blood' },
  '2345-7': { kind: 'glucose', units: ['mg/dL'], system: LOINC, glucose: 'blood' },
  '41653-7': { kind: 'glucose', units: ['mg/dL'], system: LOINC, glucose: 'blood' },
  '4548-4': { kind: 'glucose', units: ['%'], system: LOINC, glucose: 'hba1c' },
  'MED-969': { kind: 'glucose', units: ['mg/dL'], glucose: 'interstitial' },
  'MED-972': { kind: 'glucose', units: ['%'], glucose: 'management-index' },
  '39156-5': { kind: 'bmi', units: ['kg/m2'], system: LOINC },
};

/** JDV_J157-MomentGlucose-ENS, the required binding of the glucose moment (ans-profiles/). */
export const J157 =
  'https://mos.esante.gouv.fr/NOS/JDV_J157-MomentGlucose-ENS/FHIR/JDV-J157-MomentGlucose-ENS';
/** IEEE 11073-10101 MDC_CONC_GLU_ISF (partition 2, term 29140): glucose in interstitial fluid. */
export const MDC_GLUCOSE_ISF = '160212';
/** IEEE 11073-10101 MDC_DEV_SPEC_PROFILE_CGM (partition 8, term 4121), HL7 PHD IG specialization: a continuous glucose monitor. */
export const MDC_DEV_SPEC_CGM = '528409';

export const BP_SYSTOLIC = '8480-6';
export const BP_DIASTOLIC = '8462-4';

const EXT_ANS = ANS;
export const MOMENT_EXTENSIONS = [`${EXT_ANS}mesures-moment-of-measurement`, `${ENS}ENS_MomentOfMeasurement`];
export const NUMBER_OF_DAYS_EXTENSIONS = [`${EXT_ANS}mesures-number-of-days`, `${ENS}ENS_NumberOfDays`];

export function profileKind(url: string, generations: readonly ProfileGeneration[]): ProfileRule | undefined {
  // ans-3.2.0 names its Observations with the ANS canonicals.
  const families = generations.map((g) => (g === 'ans-3.2.0' ? 'ans' : g));
  return PROFILES.find((p) => families.some((g) => p.urls[g] === url));
}

/** The kind a search or an Observation code belongs to. */
export function codeRule(code: string): CodeRule | undefined {
  return Object.hasOwn(CODES, code) ? CODES[code] : undefined;
}
