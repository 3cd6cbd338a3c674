/** Shared steps of the sandbox tests: real HTTP against a sandbox on a free port. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { approveDeviceCode, type PatientScript } from '../../simulators/sandbox/browser.ts';
import {
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  GATEWAY_SOLUTION_OID,
  type Sandbox,
} from '../../simulators/sandbox/index.ts';

export const ALL_KIND_SCOPES =
  'mesures.weight mesures.blood-pressure mesures.heart-rate mesures.glucose mesures.temperature mesures.spo2';

export interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

export function basic(id = GATEWAY_CLIENT_ID, secret = GATEWAY_CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function postForm(url: string, form: Record<string, string>, auth = basic()): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
    body: new URLSearchParams(form).toString(),
  });
}

export async function discovery(s: Sandbox): Promise<Record<string, string>> {
  const res = await fetch(`${s.issuer}/.well-known/openid-configuration`);
  return (await res.json()) as Record<string, string>;
}

/** Device flow end to end: device auth, scripted patient approval, one token request. */
export async function pairByDeviceFlow(
  s: Sandbox,
  who: PatientScript = { login: 'marie.martin' },
  scope = `openid offline_access ${ALL_KIND_SCOPES}`,
  client: { id: string; secret: string } = { id: GATEWAY_CLIENT_ID, secret: GATEWAY_CLIENT_SECRET },
): Promise<Tokens> {
  const meta = await discovery(s);
  const auth = basic(client.id, client.secret);
  const da = await postForm(meta.device_authorization_endpoint ?? '', { client_id: client.id, scope }, auth);
  if (da.status !== 200) throw new Error(`device authorization answered ${da.status}: ${await da.text()}`);
  const d = (await da.json()) as { device_code: string; user_code: string };
  await approveDeviceCode(s.url, d.user_code, who);
  const tok = await postForm(
    meta.token_endpoint ?? '',
    { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: d.device_code },
    auth,
  );
  if (tok.status !== 200) throw new Error(`token answered ${tok.status}: ${await tok.text()}`);
  return (await tok.json()) as Tokens;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export function headers(t: Pick<Tokens, 'access_token' | 'id_token'>, s: Sandbox): Record<string, string> {
  return {
    authorization: `Bearer ${t.access_token}`,
    [s.idTokenHeader]: t.id_token,
    'content-type': 'application/fhir+json',
  };
}

export async function postBundle(s: Sandbox, t: Pick<Tokens, 'access_token' | 'id_token'>, bundle: unknown) {
  const res = await fetch(`${s.url}/fhir`, {
    method: 'POST',
    headers: headers(t, s),
    body: JSON.stringify(bundle),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, res };
}

/** The first issue's diagnostics of an OperationOutcome answer. */
export function diagnostics(body: unknown): string | undefined {
  const issue = (body as { issue?: { diagnostics?: string }[] } | undefined)?.issue?.[0];
  return issue?.diagnostics;
}

export function detailsText(body: unknown): string | undefined {
  const issue = (body as { issue?: { details?: { text?: string } }[] } | undefined)?.issue?.[0];
  return issue?.details?.text;
}

const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
export const TRE_A04_LOINC = 'https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc';
export const TRE_R308_TAASIP = 'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP';
const SYSID_OID = '1.2.840.10004.1.1.1.0.0.1.0.0.1.2680';

export interface Patient {
  readonly idPe: string;
  readonly pairingOid: string;
}

export function patientOf(t: Tokens, s: Sandbox): Patient {
  const c = claimsOf(t.id_token);
  return { idPe: String(c[s.claimNames.idPe]), pairingOid: String(c[s.claimNames.pairingOid]) };
}

export function device(
  systemId = 'FE-ED-AB-AA-DE-AD-77-C5',
  specialization = '528399',
): Record<string, unknown> {
  return {
    resourceType: 'Device',
    id: randomUUID(),
    meta: { profile: ['http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice'] },
    identifier: [
      {
        type: {
          coding: [
            { system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' },
          ],
        },
        system: `urn:oid:${SYSID_OID}`,
        value: systemId,
      },
    ],
    manufacturer: 'Simulated',
    modelNumber: 'SIM-1',
    type: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '65573' }] },
    // PhdDevice 1.0.0: specialization.version 1..1.
    specialization: [
      {
        systemType: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: specialization }] },
        version: '1',
      },
    ],
  };
}

const vitalSigns = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
];

export function observation(
  p: Patient,
  kind: 'weight' | 'bp' | 'glucose',
  dev?: Record<string, unknown>,
  at = '2026-11-20T08:15:00+01:00',
): Record<string, unknown> {
  const base = {
    resourceType: 'Observation',
    status: 'final',
    category: vitalSigns,
    subject: { identifier: { system: `urn:oid:${p.pairingOid}`, value: p.idPe } },
    effectiveDateTime: at,
    identifier: [{ system: `urn:oid:${GATEWAY_SOLUTION_OID}.1`, value: randomUUID() }],
    meta: { profile: [] as string[], source: `urn:oid:${GATEWAY_SOLUTION_OID}` },
    ...(dev ? { device: { reference: `Device/${String(dev.id)}` } } : {}),
  };
  const q = (value: number, code: string) => ({
    value,
    unit: code,
    system: 'http://unitsofmeasure.org',
    code,
  });
  if (kind === 'weight') {
    return {
      ...base,
      meta: { ...base.meta, profile: [`${ANS}mesures-fr-observation-body-weight`] },
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      valueQuantity: q(71.2, 'kg'),
    };
  }
  if (kind === 'bp') {
    return {
      ...base,
      meta: { ...base.meta, profile: [`${ANS}mesures-fr-observation-bp`] },
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      component: [
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
          valueQuantity: q(128, 'mm[Hg]'),
        },
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
          valueQuantity: q(82, 'mm[Hg]'),
        },
      ],
    };
  }
  return {
    ...base,
    meta: { ...base.meta, profile: [`${ANS}mesures-observation-glucose`] },
    code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
    valueQuantity: q(104, 'mg/dL'),
    extension: [
      {
        url: `${ANS}mesures-moment-of-measurement`,
        // JDV_J157-MomentGlucose-ENS: the LOINC codes are under the NOS TRE_A04-Loinc system.
        valueCodeableConcept: { coding: [{ system: TRE_A04_LOINC, code: '16915-1' }] },
      },
    ],
  };
}

export function bundle(obs: Record<string, unknown>, dev?: Record<string, unknown>): Record<string, unknown> {
  const entry: Record<string, unknown>[] = [
    { fullUrl: `urn:uuid:${randomUUID()}`, resource: obs, request: { method: 'POST', url: 'Observation' } },
  ];
  if (dev) {
    const id = (dev.identifier as { system: string; value: string }[])[0];
    entry.push({
      fullUrl: `urn:uuid:${String(dev.id)}`,
      resource: dev,
      request: { method: 'POST', url: 'Device', ifNoneExist: `identifier=${id?.system}|${id?.value}` },
    });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/**
 * The ans.fhir.fr.mesures 3.2.0 biology Bundle (mesures-bundle-flux-alimentation-biologie): the glucose
 * Observation, the mesures-diagnostic-report that holds it (LOINC 11502-2), and the Device.
 */
export function biologyBundle(
  obs: Record<string, unknown>,
  dev?: Record<string, unknown>,
  report: Record<string, unknown> = {},
): Record<string, unknown> {
  const b = bundle(obs, dev);
  const entry = b.entry as Record<string, unknown>[];
  const observationUrl = String(entry[0]?.fullUrl);
  entry.splice(1, 0, {
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'DiagnosticReport',
      meta: { profile: [`${ANS}mesures-diagnostic-report`] },
      status: 'final',
      // MesDiagnosticReport: patternCodeableConcept with the display, so the display is required too.
      code: {
        coding: [
          {
            system: 'http://loinc.org',
            code: '11502-2',
            display: 'Compte rendu du laboratoire [Recherche] Patient ; Document',
          },
        ],
      },
      result: [{ reference: observationUrl }],
      ...report,
    },
    request: { method: 'POST', url: 'DiagnosticReport' },
  });
  return { ...b, meta: { profile: [`${ANS}mesures-bundle-flux-alimentation-biologie`] } };
}
