/**
 * The clinical vocabulary: ONE table, kind → LOINC, MDC (IEEE 11073-10101, decimal), canonical UCUM unit,
 * plausible range and display names. Normalization, the cloud-bridge and the generated docs read it;
 * nobody else spells a code.
 *
 * Where the national side (ANS "Mesures de santé" profiles, Mon espace santé code lists) and the HL7 PHD
 * IG disagree, the national side wins: it is the one that accepts or refuses a reading.
 */
import type { ObservationKind } from './types.ts';

export interface PlausibleRange {
  /** Inclusive bounds in the canonical unit. Outside them a reading is quarantined, never dropped. */
  readonly min: number;
  readonly max: number;
  /** Why these bounds: the clinical or device fact they come from. */
  readonly rationale: string;
}

export interface VocabularyEntry {
  readonly kind: ObservationKind;
  readonly loinc: string;
  readonly loincDisplay: string;
  /** Further LOINC codings a receiving profile expects beside the main one. */
  readonly extraLoinc?: readonly string[];
  /** IEEE 11073-10101 code as a decimal string (partition × 65536 + term). */
  readonly mdc: string;
  /** The MDC reference id, for people reading logs and docs. */
  readonly mdcRefId: string;
  /** Canonical UCUM unit; absent for panels (blood pressure) that carry components instead of a value. */
  readonly unit?: string;
  readonly plausible?: PlausibleRange;
  readonly display: { readonly fr: string; readonly en: string };
  /** False when the national side refuses the kind (BMI is computed there): kept locally, never sent. */
  readonly forwarded: boolean;
  /** The ANS profile id (ans.fhir.fr.mesures) the cloud-bridge builds for this kind, when one exists. */
  readonly ansProfile?: string;
}

/**
 * A body composition value kept on the gateway: no code is sent (Mon espace santé takes none), so it
 * carries none rather than a guessed one.
 */
function keptLocal(
  kind: ObservationKind,
  unit: string,
  plausible: PlausibleRange,
  display: VocabularyEntry['display'],
): VocabularyEntry {
  return {
    kind,
    loinc: '',
    loincDisplay: '',
    mdc: '',
    mdcRefId: '(none sent: kept local)',
    unit,
    plausible,
    display,
    forwarded: false,
  };
}

export const VOCABULARY: Readonly<Record<ObservationKind, VocabularyEntry>> = {
  'body-weight': {
    kind: 'body-weight',
    loinc: '29463-7',
    loincDisplay: 'Body weight',
    mdc: '188736',
    mdcRefId: 'MDC_MASS_BODY_ACTUAL',
    unit: 'kg', // ANS mesures-fr-observation-body-weight: valueQuantity pattern {system UCUM, code kg}
    plausible: {
      min: 0.5,
      max: 450,
      rationale:
        'a newborn weighs about 0.5 kg at the earliest viability; household scales stop at 150-300 kg (EN 45501 non-automatic weighing instruments), so more is a unit or device error',
    },
    display: { fr: 'Poids', en: 'Body weight' },
    forwarded: true,
    ansProfile: 'mesures-fr-observation-body-weight',
  },
  'body-height': {
    kind: 'body-height',
    loinc: '8302-2',
    loincDisplay: 'Body height',
    mdc: '188740',
    mdcRefId: 'MDC_LEN_BODY_ACTUAL',
    unit: 'cm',
    plausible: {
      min: 30,
      max: 260,
      rationale:
        'the shortest viable newborns measure about 30 cm; the tallest recorded adult measured 272 cm',
    },
    display: { fr: 'Taille', en: 'Body height' },
    forwarded: true,
    ansProfile: 'mesures-fr-observation-bodyheight',
  },
  bmi: {
    kind: 'bmi',
    loinc: '39156-5',
    loincDisplay: 'Body mass index (BMI) [Ratio]',
    mdc: '188752',
    mdcRefId: 'MDC_RATIO_MASS_BODY_LEN_SQ',
    unit: 'kg/m2',
    plausible: {
      min: 7,
      max: 150,
      rationale:
        'values below 10 kg/m2 or above 100 kg/m2 are at the edge of survival in published case series',
    },
    display: { fr: 'Indice de masse corporelle', en: 'Body mass index' },
    // Mon espace santé refuses BMI creation ("Bmi observation cannot be created."): it computes BMI itself.
    forwarded: false,
  },
  'blood-pressure': {
    kind: 'blood-pressure',
    loinc: '85354-9',
    loincDisplay: 'Blood pressure panel with all children optional',
    mdc: '150020',
    mdcRefId: 'MDC_PRESS_BLD_NONINV',
    display: { fr: 'Pression artérielle', en: 'Blood pressure' },
    forwarded: true,
    ansProfile: 'mesures-fr-observation-bp',
  },
  systolic: {
    kind: 'systolic',
    loinc: '8480-6',
    loincDisplay: 'Systolic blood pressure',
    mdc: '150021',
    mdcRefId: 'MDC_PRESS_BLD_NONINV_SYS',
    unit: 'mm[Hg]',
    plausible: {
      min: 50,
      max: 300,
      rationale:
        'automated cuffs measure about 60-260 mmHg systolic (IEC 80601-2-30 ranges); a systolic below 50 mmHg is shock, not a home reading, and 18.9 is a kPa value labelled mmHg',
    },
    display: { fr: 'Pression systolique', en: 'Systolic blood pressure' },
    forwarded: true,
  },
  diastolic: {
    kind: 'diastolic',
    loinc: '8462-4',
    loincDisplay: 'Diastolic blood pressure',
    mdc: '150022',
    mdcRefId: 'MDC_PRESS_BLD_NONINV_DIA',
    unit: 'mm[Hg]',
    plausible: {
      min: 20,
      max: 200,
      rationale: 'automated cuffs measure about 40-200 mmHg diastolic (IEC 80601-2-30 ranges)',
    },
    display: { fr: 'Pression diastolique', en: 'Diastolic blood pressure' },
    forwarded: true,
  },
  'mean-arterial': {
    kind: 'mean-arterial',
    loinc: '8478-0',
    loincDisplay: 'Mean blood pressure',
    mdc: '150023',
    mdcRefId: 'MDC_PRESS_BLD_NONINV_MEAN',
    unit: 'mm[Hg]',
    plausible: {
      min: 30,
      max: 250,
      rationale:
        'mean arterial pressure lies between diastolic and systolic; below 30 mmHg no cuff measures it',
    },
    display: { fr: 'Pression artérielle moyenne', en: 'Mean arterial pressure' },
    forwarded: true,
  },
  'heart-rate': {
    kind: 'heart-rate',
    loinc: '8867-4',
    loincDisplay: 'Heart rate',
    mdc: '149546', // from a cuff; an oximeter's pulse is MDC_PULS_OXIM_PULS_RATE (HEART_RATE_MDC.oximeter)
    mdcRefId: 'MDC_PULS_RATE_NON_INV',
    unit: '/min',
    plausible: {
      min: 20,
      max: 300,
      rationale:
        'pulse oximeters specify pulse rate over about 25-250 /min (ISO 80601-2-61); beyond 300 /min no human heart conducts',
    },
    display: { fr: 'Fréquence cardiaque', en: 'Heart rate' },
    forwarded: true,
    ansProfile: 'mesures-fr-observation-heartrate',
  },
  'body-temperature': {
    kind: 'body-temperature',
    loinc: '8310-5',
    loincDisplay: 'Body temperature',
    mdc: '150364',
    mdcRefId: 'MDC_TEMP_BODY',
    unit: 'Cel',
    plausible: {
      min: 25,
      max: 45,
      rationale:
        'clinical thermometers cover at least 35.5-42 °C (ISO 80601-2-56); below 25 °C is deep hypothermia and above 45 °C is not survivable',
    },
    display: { fr: 'Température corporelle', en: 'Body temperature' },
    forwarded: true,
    ansProfile: 'mesures-fr-observation-body-temperature',
  },
  spo2: {
    kind: 'spo2',
    // The FHIR R4 vital-signs oxygen saturation profile (parent of the ANS profile) fixes 2708-6;
    // 59408-5 (by pulse oximetry) is the more precise code and travels beside it.
    loinc: '2708-6',
    loincDisplay: 'Oxygen saturation in Arterial blood',
    extraLoinc: ['59408-5'],
    mdc: '150456',
    mdcRefId: 'MDC_PULS_OXIM_SAT_O2',
    unit: '%',
    plausible: {
      min: 50,
      max: 100,
      rationale:
        'pulse oximeter accuracy is specified over 70-100 % (ISO 80601-2-61); a saturation above 100 % is impossible and below 50 % is not a home reading',
    },
    display: { fr: 'Saturation en oxygène', en: 'Oxygen saturation' },
    forwarded: true,
    ansProfile: 'mesures-fr-observation-oxygen-sat',
  },
  glucose: {
    kind: 'glucose',
    // JDV_J154-TypeGlucose-ENS (1.2.250.1.213.1.1.5.609), the code list of the ANS glucose profile:
    // 2345-7 "Glucose sanguin". The PHD IG sends MDC only; 41653-7 (by glucometer) is not in that list.
    loinc: '2345-7',
    loincDisplay: 'Glucose sanguin',
    mdc: '160184',
    mdcRefId: 'MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD',
    unit: 'mg/dL', // JDV_J163-GlucoseUnits-ENS holds mg/dL; the ANS IG notes glucose in mg/dL or g/L
    plausible: {
      min: 10,
      max: 1000,
      rationale:
        'glucometers report about 10-600 mg/dL (ISO 15197 meters show LO/HI beyond); above 1000 mg/dL is a unit error',
    },
    display: { fr: 'Glycémie', en: 'Blood glucose' },
    forwarded: true,
    ansProfile: 'mesures-observation-glucose',
  },
  // The two CGM summaries (drivers/normalize/cgm-summary.ts). The national side files them under
  // TRE_R308-TAASIP MED-969 / MED-972 (JDV_J154-TypeGlucose-ENS; cloud-bridge/profiles.ts); the LOINC
  // here is the HL7 CGM IG 1.0.0's, carried as a second coding. IEEE 11073-10101 has no term for a
  // summary over days: `mdc` is empty, and no MDC coding is sent.
  'cgm-mean-glucose': {
    kind: 'cgm-mean-glucose',
    loinc: '97507-8',
    loincDisplay: 'Average glucose [Mass/volume] in Interstitial fluid during Reporting Period',
    mdc: '',
    mdcRefId: '(none: a summary over days)',
    unit: 'mg/dL',
    plausible: {
      min: 40,
      max: 400,
      rationale:
        'CGM sensors measure 40-400 mg/dL and report LO/HI beyond: a mean outside that range is a computation or unit error',
    },
    display: { fr: 'Glucose interstitiel moyen', en: 'Mean interstitial glucose' },
    forwarded: true,
    ansProfile: 'mesures-observation-glucose',
  },
  'glucose-management-indicator': {
    kind: 'glucose-management-indicator',
    loinc: '97506-0',
    loincDisplay: 'Glucose management indicator',
    mdc: '',
    mdcRefId: '(none: a summary over days)',
    unit: '%',
    plausible: {
      min: 4.2,
      max: 13,
      rationale:
        'GMI = 3.31 + 0.02392 × mean glucose (Bergenstal 2018) over the 40-400 mg/dL a sensor measures gives 4.3-12.9 %',
    },
    display: { fr: 'Indicateur de gestion du glucose (IGG)', en: 'Glucose management indicator (GMI)' },
    forwarded: true,
    ansProfile: 'mesures-observation-glucose',
  },
  // Body composition (BCS 0x2A9C), kept local: Mon espace santé has no profile for them (its code list,
  // MES API Mesures 1.5.2 §2.3.1.1, names none), so they are never sent. Only body fat has a code medgw
  // can source (IEEE 11073-10101 MDC_BODY_FAT, partition 2 term 57676; LOINC 41982-0); the others carry
  // no code rather than a guessed one.
  'body-fat-percentage': {
    kind: 'body-fat-percentage',
    loinc: '41982-0',
    loincDisplay: 'Percentage of body fat Measured',
    mdc: '188748',
    mdcRefId: 'MDC_BODY_FAT',
    unit: '%',
    plausible: {
      min: 1,
      max: 75,
      rationale:
        'bioimpedance scales report about 3-60 % body fat; outside 1-75 % the electrodes were not touched properly',
    },
    display: { fr: 'Masse grasse', en: 'Body fat' },
    forwarded: false,
  },
  'muscle-percentage': keptLocal(
    'muscle-percentage',
    '%',
    {
      min: 10,
      max: 90,
      rationale: 'muscle is about 25-60 % of body mass in adults; outside 10-90 % is a device error',
    },
    { fr: 'Pourcentage musculaire', en: 'Muscle percentage' },
  ),
  'muscle-mass': keptLocal(
    'muscle-mass',
    'kg',
    {
      min: 1,
      max: 200,
      rationale: 'a fraction of the body mass a household scale weighs (up to 150-300 kg)',
    },
    { fr: 'Masse musculaire', en: 'Muscle mass' },
  ),
  'fat-free-mass': keptLocal(
    'fat-free-mass',
    'kg',
    { min: 1, max: 250, rationale: 'body mass minus fat: below the body mass a household scale weighs' },
    { fr: 'Masse maigre', en: 'Fat-free mass' },
  ),
  'soft-lean-mass': keptLocal(
    'soft-lean-mass',
    'kg',
    { min: 1, max: 250, rationale: 'fat-free mass minus bone mineral: below the body mass' },
    { fr: 'Masse maigre molle', en: 'Soft lean mass' },
  ),
  'body-water-mass': keptLocal(
    'body-water-mass',
    'kg',
    { min: 1, max: 200, rationale: 'total body water is about 45-65 % of body mass' },
    { fr: 'Masse hydrique', en: 'Body water mass' },
  ),
  'body-impedance': keptLocal(
    'body-impedance',
    'Ohm',
    {
      min: 50,
      max: 3000,
      rationale:
        'foot-to-foot bioimpedance at 50 kHz is a few hundred ohms; outside 50-3000 Ω the contact was poor',
    },
    { fr: 'Impédance corporelle', en: 'Body impedance' },
  ),
  'basal-metabolism': keptLocal(
    'basal-metabolism',
    'kJ/d',
    {
      min: 1000,
      max: 25000,
      rationale: 'resting energy expenditure of about 4,000-12,000 kJ a day in adults (1,000-3,000 kcal)',
    },
    { fr: 'Métabolisme de base', en: 'Basal metabolism' },
  ),
};

/** Heart rate MDC by where the pulse came from (HL7 PHD IG: both map to LOINC 8867-4). */
export const HEART_RATE_MDC = { cuff: '149546', oximeter: '149530' } as const;

/**
 * MDC glucose codes by GLS sample type (GLS Glucose Measurement "Type" nibble 1-9), IEEE 11073-10101
 * partition 2. Type 10 (control solution) is never a patient result.
 */
export const GLUCOSE_MDC_BY_SAMPLE_TYPE: Readonly<
  Record<number, { name: string; mdc: string; refId: string }>
> = {
  1: { name: 'capillary-whole-blood', mdc: '160184', refId: 'MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD' },
  2: { name: 'capillary-plasma', mdc: '160188', refId: 'MDC_CONC_GLU_CAPILLARY_PLASMA' },
  3: { name: 'venous-whole-blood', mdc: '160192', refId: 'MDC_CONC_GLU_VENOUS_WHOLEBLOOD' },
  4: { name: 'venous-plasma', mdc: '160196', refId: 'MDC_CONC_GLU_VENOUS_PLASMA' },
  5: { name: 'arterial-whole-blood', mdc: '160200', refId: 'MDC_CONC_GLU_ARTERIAL_WHOLEBLOOD' },
  6: { name: 'arterial-plasma', mdc: '160204', refId: 'MDC_CONC_GLU_ARTERIAL_PLASMA' },
  7: { name: 'undetermined-whole-blood', mdc: '160364', refId: 'MDC_CONC_GLU_UNDETERMINED_WHOLEBLOOD' },
  8: { name: 'undetermined-plasma', mdc: '160368', refId: 'MDC_CONC_GLU_UNDETERMINED_PLASMA' },
  9: { name: 'interstitial-fluid', mdc: '160212', refId: 'MDC_CONC_GLU_ISF' },
};

/** The entry of a kind. */
export function vocabulary(kind: ObservationKind): VocabularyEntry {
  return VOCABULARY[kind];
}

/** Whether a value in the canonical unit lies in the kind's plausible range (true when no range). */
export function isPlausible(kind: ObservationKind, value: number): boolean {
  const range = VOCABULARY[kind].plausible;
  return !range || (value >= range.min && value <= range.max);
}
