/**
 * The checks of `POST /fhir`, in the order docs/sandbox.md lists them, with the exact answers of the
 * MES "API Mesures" specification v1.5.2 §2.2.8 (error codes and the OperationOutcome table).
 */
import { requiredBindingIssues, structuralIssues } from './fhir-structure.ts';
import {
  BIOLOGY_BUNDLE_PROFILE,
  type ProfileIssue,
  validateMeasurementBundle,
  valueSetIncludes,
} from './profile-validator.ts';
import {
  BP_DIASTOLIC,
  BP_SYSTOLIC,
  biologyGlucose,
  type CodeRule,
  type ConsentKind,
  codeRule,
  feedingGlucose,
  J157,
  LOINC,
  MDC,
  MDC_DEV_SPEC_CGM,
  MDC_GLUCOSE_ISF,
  MOMENT_EXTENSIONS,
  NUMBER_OF_DAYS_EXTENSIONS,
  OBSERVATION_CATEGORY,
  PHD_DEVICE_PROFILE,
  type ProfileGeneration,
  profileKind,
  UCUM,
} from './profiles.ts';

export type IssueType =
  | 'invalid'
  | 'value'
  | 'not-supported'
  | 'incomplete'
  | 'structure'
  | 'forbidden'
  | 'security';

/** One refused request: HTTP status, OperationOutcome details.text, diagnostics, issue code. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly text: string,
    readonly diagnostics: string,
    readonly code: IssueType,
    readonly more: readonly { diagnostics: string; expression?: string }[] = [],
    /** Where the first issue is, as a FHIRPath (OperationOutcome.issue.expression). */
    readonly expression?: string,
  ) {}

  outcome(): Record<string, unknown> {
    return {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: this.code,
          details: { text: this.text },
          diagnostics: this.diagnostics,
          ...(this.expression ? { expression: [this.expression] } : {}),
        },
        ...this.more.map((m) => ({
          severity: 'error',
          code: this.code,
          details: { text: this.text },
          diagnostics: m.diagnostics,
          ...(m.expression ? { expression: [m.expression] } : {}),
        })),
      ],
    };
  }
}

// MES API Mesures v1.5.2 §2.2.8, "Codes d'erreur" and "Liste des erreurs de validation".
export const MSG = {
  idToken: 'HTTP code 400 : Bad request -> The ID_TOKEN value is not valid (invalid JWT)',
  idPe: 'idPe requested do not match authorized idPe.',
  consent: 'Consent not given, access refused.',
  noBundle: 'No bundle provided.',
  oidConflict:
    'HTTP code 409 :OID conflict between the one from id_token and the one in the system -> OID different between id_token and ecosystem',
  bundleNotValid: 'Bundle not valid.',
  linkNotValid: 'Observation and Device link not valid.',
  observationNotValid: 'Observation resource not valid.',
  deviceNotValid: 'Device resource not valid.',
  oneObservation: 'Bundle must contains one observation creation (POST)',
  ifNoneExist: 'Device request must have a valid IfNoneExist attribute : identifier=urn:oid:<OID>',
  deviceRefMandatory: 'Observation.device.reference is mandatory.',
  notLinked: 'Observation and device not linked by id (Observation.device.reference <-> Device.id)',
  obsProfile: 'Observation must provide meta.profile value.',
  valueQuantity: 'Observation value quantity not provided.',
  bmi: 'Bmi observation cannot be created.',
  subject: 'Observation.subject.identifier is mandatory.',
  momentMandatory: 'Observation.extension.moment is mandatory.',
  daysForbidden: 'Observation.extension.numberOfDays cannot be added.',
  momentForbidden: 'Observation.extension.moment cannot be added.',
  daysMandatory: 'Observation.extension.numberOfDays is mandatory.',
  deviceProfile: 'Device must provide meta.profile value.',
} as const;

export const sourceMsg = (oid: string): string =>
  `Solution oid contains in Observation.meta.source don't belong to root editor oid (${oid}).`;
export const notAcceptable = (type: string, method: string): string =>
  `Resource of type ${type} is not acceptable with method ${method}.`;

// MES API Mesures v1.5.2 §2.2.8: the published ifNoneExist pattern is Java syntax, where
// `[.[0-9]+]` is a class union; its JavaScript equivalent, matched on the whole value:
const IF_NONE_EXIST = /^identifier=urn:oid:([0-9]+[.0-9+]+)\|([a-zA-Z0-9]+[-a-zA-Z0-9+]+)$/;

type Json = Record<string, unknown>;

const OBSERVATION_STATUS = new Set([
  'registered',
  'preliminary',
  'final',
  'amended',
  'corrected',
  'cancelled',
  'entered-in-error',
  'unknown',
]);

export interface TransactionContext {
  readonly solutionOid: string;
  readonly pairingOid: string;
  readonly idPe: string;
  readonly generations: readonly ProfileGeneration[];
  readonly consented: ReadonlySet<ConsentKind>;
}

export interface AcceptedTransaction {
  readonly observation: Json;
  readonly kind: ConsentKind;
  readonly code: string;
  readonly effectiveMs: number;
  readonly device?: { readonly resource: Json; readonly key: string };
  /** The biology Bundle's report (ans.fhir.fr.mesures 3.2.0 mesures-diagnostic-report). */
  readonly report?: Json;
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const obsRefusal = (diag: string, code: IssueType = 'invalid'): Refusal =>
  new Refusal(422, MSG.observationNotValid, diag, code);
const profileRule = (diag: string): Refusal => obsRefusal(`Profile rule: ${diag}`, 'invalid');

/** Runs every check; returns what to store or throws the Refusal the national side would answer. */
export function checkTransaction(body: unknown, ctx: TransactionContext): AcceptedTransaction {
  if (!isObj(body) || Object.keys(body).length === 0)
    throw new Refusal(400, MSG.noBundle, MSG.noBundle, 'invalid');
  if (body.resourceType !== 'Bundle' || body.type !== 'transaction') {
    throw new Refusal(422, MSG.bundleNotValid, 'Bundle.type must be transaction.', 'invalid');
  }
  checkStructure(body);
  const { observationEntry, deviceEntry, reportEntry, bundleProfiles } = checkEntries(body, ctx);

  const device = deviceEntry ? checkDevice(deviceEntry) : undefined;
  const obs = observationEntry.resource as Json;
  const meta = isObj(obs.meta) ? obs.meta : {};
  const profiles = arr(meta.profile).filter((p): p is string => typeof p === 'string');
  if (profiles.length === 0) throw obsRefusal(MSG.obsProfile);
  checkDeviceLink(obs, device);
  checkSubject(obs, ctx);
  const biology = reportEntry !== undefined || bundleProfiles.includes(BIOLOGY_BUNDLE_PROFILE);
  const report = reportEntry && isObj(reportEntry.resource) ? reportEntry.resource : undefined;
  if (report) checkReport(report, observationEntry, ctx);
  checkSource(meta, ctx);

  const { kind, rule, code, codings } = checkKind(obs, profiles, biology, ctx);
  const effectiveMs = checkVitalSign(obs);
  if (!ctx.consented.has(kind)) throw new Refusal(403, MSG.consent, MSG.consent, 'forbidden');

  if (rule.glucose === 'blood') checkNotInterstitial(codings, device?.resource);
  checkValue(obs, kind, rule);
  if (kind === 'glucose' && rule.glucose) checkGlucoseExtensions(obs, rule.glucose);

  const profileIssues = validateMeasurementBundle(body, {
    glucoseInFeedingBundle: feedingGlucose(ctx.generations),
  });
  if (profileIssues.length > 0) throw profileRefusal(body, profileIssues);

  return {
    observation: obs,
    kind,
    code,
    effectiveMs,
    ...(device ? { device } : {}),
    ...(report ? { report } : {}),
  };
}

/** FHIR R4 structure and required bindings of every entry's resource, all issues in one refusal. */
function checkStructure(body: Json): void {
  const structure = structuralIssues(body);
  arr(body.entry).forEach((e, i) => {
    if (!isObj(e) || !isObj(e.resource)) return;
    for (const issue of requiredBindingIssues(e.resource)) {
      structure.push({ path: `Bundle.entry[${i}].resource.${issue.path}`, text: issue.text });
    }
  });
  if (structure.length > 0) {
    const [first, ...rest] = structure.map((i) => ({
      diagnostics: `${i.text}${i.path ? ` (${i.path})` : ''}`,
      expression: i.path,
    }));
    throw new Refusal(422, MSG.bundleNotValid, first?.diagnostics ?? 'invalid', 'structure', rest);
  }
}

interface Entries {
  readonly observationEntry: Json;
  readonly deviceEntry: Json | undefined;
  readonly reportEntry: Json | undefined;
  readonly bundleProfiles: unknown[];
}

/**
 * The Bundle's entries: each a POST of a resource the contract takes, one Observation with its fullUrl,
 * at most one Device and one DiagnosticReport, and the biology Bundle's profile only where it exists.
 */
function checkEntries(body: Json, ctx: TransactionContext): Entries {
  let observationEntry: Json | undefined;
  let observationCount = 0;
  let deviceEntry: Json | undefined;
  let reportEntry: Json | undefined;
  // A DiagnosticReport travels only in the ans.fhir.fr.mesures 3.2.0 biology Bundle: under MES API Mesures
  // 1.5.2 it is refused as any resource the contract does not take.
  const reports = biologyGlucose(ctx.generations);
  for (const e of arr(body.entry)) {
    const entry = isObj(e) ? e : {};
    const resource = isObj(entry.resource) ? entry.resource : {};
    const request = isObj(entry.request) ? entry.request : {};
    const type = str(resource.resourceType) ?? '';
    const method = str(request.method) ?? '';
    const takes = type === 'Observation' || type === 'Device' || (reports && type === 'DiagnosticReport');
    if (!takes || method !== 'POST' || request.url !== type) {
      throw new Refusal(422, MSG.bundleNotValid, notAcceptable(type, method), 'not-supported');
    }
    if (type === 'Observation') {
      observationCount += 1;
      observationEntry = entry;
    } else if (type === 'DiagnosticReport') {
      if (reportEntry)
        throw new Refusal(422, MSG.bundleNotValid, notAcceptable(type, method), 'not-supported');
      reportEntry = entry;
    } else if (deviceEntry) {
      throw new Refusal(422, MSG.bundleNotValid, notAcceptable(type, method), 'not-supported');
    } else {
      deviceEntry = entry;
    }
  }
  const bundleProfiles = isObj(body.meta) ? arr(body.meta.profile) : [];
  if (!reports && bundleProfiles.includes(BIOLOGY_BUNDLE_PROFILE)) {
    throw new Refusal(
      422,
      MSG.bundleNotValid,
      `Profile rule: Bundle.meta.profile: ${BIOLOGY_BUNDLE_PROFILE} is the ans.fhir.fr.mesures 3.2.0 biology Bundle, not a Bundle of MES API Mesures 1.5.2.`,
      'invalid',
    );
  }
  if (observationCount !== 1 || !observationEntry) {
    throw new Refusal(422, MSG.bundleNotValid, MSG.oneObservation, 'invalid');
  }
  if (!str(observationEntry.fullUrl)) {
    throw new Refusal(
      422,
      MSG.bundleNotValid,
      'Bundle.entry.fullUrl is mandatory for the Observation.',
      'invalid',
    );
  }
  return { observationEntry, deviceEntry, reportEntry, bundleProfiles };
}

/** Observation.device.reference names the Bundle's Device, and only when there is one. */
function checkDeviceLink(obs: Json, device: { readonly resource: Json } | undefined): void {
  const ref = isObj(obs.device) ? str(obs.device.reference) : undefined;
  if (device) {
    if (!ref) throw new Refusal(422, MSG.linkNotValid, MSG.deviceRefMandatory, 'invalid');
    if (ref !== `Device/${str(device.resource.id) ?? ''}`) {
      throw new Refusal(422, MSG.linkNotValid, MSG.notLinked, 'invalid');
    }
  } else if (ref) {
    throw new Refusal(422, MSG.linkNotValid, MSG.notLinked, 'invalid');
  }
}

/** Observation.subject.identifier is the patient the ID token names. */
function checkSubject(obs: Json, ctx: TransactionContext): void {
  const subject = isObj(obs.subject) ? obs.subject : {};
  const ident = isObj(subject.identifier) ? subject.identifier : undefined;
  if (!ident || !str(ident.system) || !str(ident.value)) throw obsRefusal(MSG.subject);
  if (ident.system !== `urn:oid:${ctx.pairingOid}` || ident.value !== ctx.idPe) {
    throw new Refusal(403, MSG.idPe, MSG.idPe, 'forbidden');
  }
}

/** meta.source, when given, is the solution's OID or one under it. */
function checkSource(meta: Json, ctx: TransactionContext): void {
  const source = str(meta.source);
  if (source !== undefined) {
    const oid = source.startsWith('urn:oid:') ? source.slice('urn:oid:'.length) : source;
    if (oid !== ctx.solutionOid && !oid.startsWith(`${ctx.solutionOid}.`)) {
      throw obsRefusal(sourceMsg(ctx.solutionOid), 'value');
    }
  }
}

interface Kind {
  readonly kind: ConsentKind;
  readonly rule: CodeRule;
  readonly code: string;
  readonly codings: Json[];
}

/**
 * The measurement kind: the code and meta.profile agree on one kind other than BMI, and the kind is in
 * the Bundle that carries it (glucose in the biology Bundle, every other kind in the feeding one).
 */
function checkKind(obs: Json, profiles: string[], biology: boolean, ctx: TransactionContext): Kind {
  const codings = isObj(obs.code) ? arr(obs.code.coding).filter(isObj) : [];
  const coded = codings
    .map((c) => ({ system: str(c.system), code: str(c.code) ?? '' }))
    .map((c) => ({ ...c, rule: codeRule(c.code) }))
    .find((c) => c.rule && (c.rule.system === undefined || c.rule.system === c.system));
  const profileKinds = profiles.map((p) => profileKind(p, ctx.generations));
  if (coded?.rule?.kind === 'bmi' || profileKinds.some((p) => p?.kind === 'bmi')) {
    throw obsRefusal(MSG.bmi, 'not-supported');
  }
  const profile = profileKinds.find((p) => p !== undefined);
  if (!profile) {
    throw profileRule(
      `meta.profile (${profiles.join(', ')}) names no measurement profile this service accepts.`,
    );
  }
  if (!coded?.rule) {
    throw profileRule(`code.coding has no code of the ${profile.kind} profile (LOINC ${LOINC}).`);
  }
  const rule = coded.rule;
  if (rule.kind !== profile.kind) {
    throw profileRule(
      `code ${coded.code} is a ${rule.kind} code but meta.profile is the ${profile.kind} profile.`,
    );
  }
  const kind = rule.kind as ConsentKind;
  // ans.fhir.fr.mesures 3.2.0: glucose only in the biology Bundle, every other kind only in the feeding one.
  if (biology && kind !== 'glucose') {
    throw new Refusal(
      422,
      MSG.bundleNotValid,
      `Profile rule: ${BIOLOGY_BUNDLE_PROFILE} takes a glucose Observation; a ${kind} Observation goes in mesures-bundle-flux-alimentation.`,
      'invalid',
    );
  }
  if (!biology && kind === 'glucose' && !feedingGlucose(ctx.generations)) {
    throw new Refusal(
      422,
      MSG.bundleNotValid,
      `Profile rule: a glucose Observation is in no slice of mesures-bundle-flux-alimentation (ans.fhir.fr.mesures 3.2.0); it goes in ${BIOLOGY_BUNDLE_PROFILE} with a mesures-diagnostic-report.`,
      'invalid',
    );
  }
  return { kind, rule, code: coded.code, codings };
}

/** The vital-signs category, a status of its required binding, an effectiveDateTime with a zone; its ms. */
function checkVitalSign(obs: Json): number {
  const vital = arr(obs.category)
    .filter(isObj)
    .some((c) =>
      arr(c.coding)
        .filter(isObj)
        .some((k) => k.system === OBSERVATION_CATEGORY && k.code === 'vital-signs'),
    );
  if (!vital) throw profileRule(`category must hold ${OBSERVATION_CATEGORY}#vital-signs.`);
  // FHIR R4 Observation.status: required binding to observation-status.
  if (!OBSERVATION_STATUS.has(str(obs.status) ?? '')) {
    throw obsRefusal(
      'Observation.status must be a code of http://hl7.org/fhir/ValueSet/observation-status (required binding).',
      'value',
    );
  }
  const effective = str(obs.effectiveDateTime);
  if (!effective || !/T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(effective)) {
    throw profileRule('effectiveDateTime is mandatory, with a time and a time zone.');
  }
  const effectiveMs = Date.parse(effective);
  if (Number.isNaN(effectiveMs)) throw profileRule('effectiveDateTime is not a valid date.');
  return effectiveMs;
}

/**
 * The biology Bundle's report: it holds the Bundle's Observation (`result` by the entry's fullUrl, or
 * `Observation/<id>`), and names the same patient when it names one (R4 DiagnosticReport.subject 0..1).
 */
function checkReport(report: Json, observationEntry: Json, ctx: TransactionContext): void {
  const subject = isObj(report.subject) ? report.subject : undefined;
  const ident = subject && isObj(subject.identifier) ? subject.identifier : undefined;
  if (subject && (ident?.system !== `urn:oid:${ctx.pairingOid}` || ident?.value !== ctx.idPe)) {
    throw new Refusal(403, MSG.idPe, MSG.idPe, 'forbidden');
  }
  const obs = isObj(observationEntry.resource) ? observationEntry.resource : {};
  const targets = [str(observationEntry.fullUrl), str(obs.id) ? `Observation/${str(obs.id)}` : undefined];
  const refs = arr(report.result)
    .filter(isObj)
    .map((r) => str(r.reference));
  if (!refs.some((r) => r !== undefined && targets.includes(r))) {
    throw new Refusal(
      422,
      MSG.bundleNotValid,
      "Profile rule: DiagnosticReport.result must refer to the Bundle's Observation (its fullUrl).",
      'invalid',
    );
  }
}

/**
 * The profile validator's issues as the answer of the resource the first one is in: 422 with the
 * failing element path in every diagnostics, one issue each.
 */
function profileRefusal(bundle: Json, issues: readonly ProfileIssue[]): Refusal {
  const entry = /^Bundle\.entry\[(\d+)\]\.resource/.exec(issues[0]?.path ?? '');
  const e = entry ? arr(bundle.entry)[Number(entry[1])] : undefined;
  const type = isObj(e) && isObj(e.resource) ? str(e.resource.resourceType) : undefined;
  const text =
    type === 'Observation'
      ? MSG.observationNotValid
      : type === 'Device'
        ? MSG.deviceNotValid
        : MSG.bundleNotValid;
  const [first, ...rest] = issues.map((i) => ({
    diagnostics: `Profile rule: ${i.path}: ${i.message}`,
    expression: i.path,
  }));
  return new Refusal(422, text, first?.diagnostics ?? 'Profile rule', 'invalid', rest, first?.expression);
}

/**
 * A blood glucose code on an interstitial-fluid reading: MES files interstitial glucose as MED-969 with
 * numberOfDays (API Mesures 1.5.2 §2.2.6, §2.3.1.1; JDV_J154-TypeGlucose-ENS, TRE_R308-TAASIP). The
 * reading says so by an MDC_CONC_GLU_ISF coding or by coming from a CGM (PhdDevice specialization).
 */
function checkNotInterstitial(codings: readonly Json[], device: Json | undefined): void {
  const isf = codings.some((c) => c.system === MDC && c.code === MDC_GLUCOSE_ISF);
  const cgm = arr(device?.specialization)
    .filter(isObj)
    .some((sp) =>
      arr(isObj(sp.systemType) ? sp.systemType.coding : [])
        .filter(isObj)
        .some((c) => c.system === MDC && c.code === MDC_DEV_SPEC_CGM),
    );
  if (isf || cgm) {
    throw profileRule(
      `an interstitial-fluid glucose (${isf ? `${MDC}#${MDC_GLUCOSE_ISF} MDC_CONC_GLU_ISF` : `a CGM Device, ${MDC}#${MDC_DEV_SPEC_CGM}`}) cannot be filed under a blood glucose code; interstitial glucose is MED-969 with numberOfDays.`,
    );
  }
}

function checkDevice(entry: Json): { resource: Json; key: string } {
  const resource = entry.resource as Json;
  const request = entry.request as Json;
  const ifNoneExist = str(request.ifNoneExist) ?? '';
  const m = IF_NONE_EXIST.exec(ifNoneExist);
  const key = m ? `urn:oid:${m[1]}|${m[2]}` : '';
  const identifiers = arr(resource.identifier)
    .filter(isObj)
    .map((i) => `${str(i.system) ?? ''}|${str(i.value) ?? ''}`);
  if (!m || !identifiers.includes(key))
    throw new Refusal(422, MSG.bundleNotValid, MSG.ifNoneExist, 'invalid');
  const meta = isObj(resource.meta) ? resource.meta : {};
  const profiles = arr(meta.profile);
  if (profiles.length === 0) throw new Refusal(422, MSG.deviceNotValid, MSG.deviceProfile, 'invalid');
  if (!profiles.includes(PHD_DEVICE_PROFILE)) {
    throw new Refusal(
      422,
      MSG.deviceNotValid,
      `Profile rule: Device meta.profile must be ${PHD_DEVICE_PROFILE}.`,
      'invalid',
    );
  }
  // PhdDevice: type is always MDC_MOC_VMS_MDS_SIMP (65573), HL7 PHD IG PhdDevice profile.
  const type = isObj(resource.type) ? arr(resource.type.coding).filter(isObj) : [];
  if (!type.some((c) => c.system === MDC && c.code === '65573')) {
    throw new Refusal(422, MSG.deviceNotValid, `Profile rule: Device.type must be ${MDC}#65573.`, 'invalid');
  }
  if (!str(resource.id)) {
    throw new Refusal(
      422,
      MSG.deviceNotValid,
      'Profile rule: Device.id is mandatory (the Observation refers to it).',
      'invalid',
    );
  }
  return { resource, key };
}

function quantityOk(q: unknown, units: readonly string[]): 'ok' | 'missing' | string {
  if (!isObj(q) || typeof q.value !== 'number') return 'missing';
  if (q.system !== UCUM || typeof q.code !== 'string' || !units.includes(q.code)) {
    return `valueQuantity must be in UCUM (${UCUM}) with code ${units.join(' or ')}.`;
  }
  return 'ok';
}

function checkValue(obs: Json, kind: ConsentKind, rule: CodeRule): void {
  if (kind === 'blood-pressure') {
    // mesures-fr-observation-bp: value[x] forbidden, systolic 8480-6 and diastolic 8462-4 components.
    if (obs.valueQuantity !== undefined)
      throw profileRule('blood pressure carries its values in component, not value[x].');
    const comps = arr(obs.component).filter(isObj);
    for (const code of [BP_SYSTOLIC, BP_DIASTOLIC]) {
      const comp = comps.find((c) =>
        arr(isObj(c.code) ? c.code.coding : [])
          .filter(isObj)
          .some((k) => k.system === LOINC && k.code === code),
      );
      const r = quantityOk(comp?.valueQuantity, rule.units);
      if (r === 'missing') throw obsRefusal(MSG.valueQuantity, 'value');
      if (r !== 'ok') throw profileRule(`component ${code}: ${r}`);
    }
    return;
  }
  const r = quantityOk(obs.valueQuantity, rule.units);
  if (r === 'missing') throw obsRefusal(MSG.valueQuantity, 'value');
  if (r !== 'ok') throw profileRule(r);
}

function hasExtension(obs: Json, urls: readonly string[]): Json | undefined {
  return arr(obs.extension)
    .filter(isObj)
    .find((e) => typeof e.url === 'string' && urls.includes(e.url));
}

function checkGlucoseExtensions(obs: Json, indicator: NonNullable<CodeRule['glucose']>): void {
  const moment = hasExtension(obs, MOMENT_EXTENSIONS);
  const days = hasExtension(obs, NUMBER_OF_DAYS_EXTENSIONS);
  // MES API Mesures v1.5.2 §2.2.6: blood glucose needs the moment; HbA1c neither; the others need days.
  const needMoment = indicator === 'blood';
  const needDays = indicator === 'interstitial' || indicator === 'management-index';
  if (needMoment && !moment) throw obsRefusal(MSG.momentMandatory, 'incomplete');
  if (!needMoment && moment) throw obsRefusal(MSG.momentForbidden);
  if (needDays && !days) throw obsRefusal(MSG.daysMandatory, 'incomplete');
  if (!needDays && days) throw obsRefusal(MSG.daysForbidden);
  if (moment) {
    // mesures-moment-of-measurement: valueCodeableConcept, coding ..1 with system and code.
    const cc = isObj(moment.valueCodeableConcept)
      ? arr(moment.valueCodeableConcept.coding).filter(isObj)
      : [];
    if (cc.length !== 1 || !str(cc[0]?.system) || !str(cc[0]?.code)) {
      throw profileRule('the moment extension needs valueCodeableConcept with one coding (system and code).');
    }
    // mesures-observation-glucose: the moment is bound (required) to JDV_J157-MomentGlucose-ENS, whose
    // codes are in TRE_A04-Loinc and TRE_R313-CISP2 (a http://loinc.org coding is not in it).
    if (valueSetIncludes(J157, cc[0]?.system, cc[0]?.code) !== true) {
      throw profileRule(
        `the moment ${String(cc[0]?.system)}#${String(cc[0]?.code)} is not in JDV_J157-MomentGlucose-ENS (required binding, ${J157}).`,
      );
    }
  }
}
