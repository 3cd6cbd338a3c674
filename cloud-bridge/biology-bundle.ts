/**
 * The glucose Bundle of ans.fhir.fr.mesures 3.2.0: `mesures-bundle-flux-alimentation-biologie`, one
 * `mesures-observation-glucose` (slice mes-observation-glycemie 0..1) and the `mesures-diagnostic-report`
 * that holds it (slice mes-diagnostic-report 1..1), beside the reading's PhdDevice.
 * Sources: IG 3.2.0 StructureDefinition-mesures-bundle-flux-alimentation-biologie and
 * StructureDefinition-mesures-diagnostic-report (simulators/sandbox/ans-profiles/SOURCES.md).
 */
import type { FhirJson } from './fhir-json.ts';
import { LOINC } from './profiles.ts';

/**
 * Which published contract shapes the Bundles: `mes-1.5.2`, the Mon espace santé API Mesures 1.5.2
 * contract (glucose in the feeding Bundle; what the production service documents), or `ans-3.2.0`, the
 * ans.fhir.fr.mesures 3.2.0 IG (glucose in the biology Bundle). Other kinds go in the feeding Bundle in both.
 */
export const PROFILE_GENERATIONS = ['mes-1.5.2', 'ans-3.2.0'] as const;
export type ProfileGeneration = (typeof PROFILE_GENERATIONS)[number];
export const DEFAULT_PROFILE_GENERATION: ProfileGeneration = 'mes-1.5.2';

/** MesDiagnosticReport: DiagnosticReport.code pattern, LOINC 11502-2 (IG 3.2.0). */
export const DIAGNOSTIC_REPORT_CODE = {
  system: LOINC,
  code: '11502-2',
  display: 'Compte rendu du laboratoire [Recherche] Patient ; Document',
} as const;

export interface BiologyParts {
  /** Profile canonical base (ans.fhir.fr.mesures). */
  readonly base: string;
  readonly observation: Record<string, FhirJson>;
  readonly observationUuid: string;
  readonly reportUuid: string;
  /** The PhdDevice entry, as in the feeding Bundle (conditional create). */
  readonly deviceEntry: FhirJson;
}

/**
 * The biology transaction Bundle. The report names the same patient and time as the reading and refers
 * to the Observation by its entry's fullUrl (FHIR R4 Bundle, resolving references in Bundles).
 */
export function biologyBundle(p: BiologyParts): FhirJson {
  const report: Record<string, FhirJson | undefined> = {
    resourceType: 'DiagnosticReport',
    meta: { profile: [`${p.base}mesures-diagnostic-report`] },
    status: 'final',
    code: { coding: [DIAGNOSTIC_REPORT_CODE] },
    subject: p.observation.subject,
    effectiveDateTime: p.observation.effectiveDateTime,
    result: [{ reference: `urn:uuid:${p.observationUuid}` }],
  };
  return {
    resourceType: 'Bundle',
    meta: { profile: [`${p.base}mesures-bundle-flux-alimentation-biologie`] },
    type: 'transaction',
    entry: [
      {
        fullUrl: `urn:uuid:${p.observationUuid}`,
        resource: p.observation,
        request: { method: 'POST', url: 'Observation' },
      },
      {
        fullUrl: `urn:uuid:${p.reportUuid}`,
        resource: report,
        request: { method: 'POST', url: 'DiagnosticReport' },
      },
      p.deviceEntry,
    ],
  };
}
