/**
 * The measurements API: `POST /fhir` (transaction Bundle) and `GET /fhir/Observation` (search "all"
 * and "last"), with the authentication, identity and consent answers of MES "API Mesures" v1.5.2.
 */
import { createVerify, type KeyObject, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { ClaimNames } from './oidc.ts';
import { type ConsentKind, codeRule, type ProfileGeneration } from './profiles.ts';
import { checkTransaction, MSG, Refusal } from './rules.ts';
import type { AuditEntry, Pairing, SandboxStore, StoredObservation } from './store.ts';

export interface ApiDeps {
  readonly provider: () => Provider;
  readonly publicKey: () => KeyObject;
  readonly issuer: () => string;
  readonly store: SandboxStore;
  readonly claimNames: ClaimNames;
  readonly idTokenHeader: string;
  readonly generations: readonly ProfileGeneration[];
  readonly now: () => number;
  readonly audit: (e: Omit<AuditEntry, 'at'>) => void;
}

interface Auth {
  readonly sub: string;
  readonly clientId: string;
  readonly idPe: string;
  readonly pairingOid: string;
  readonly solutionOid: string;
  readonly pairing: Pairing;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function b64json(part: string | undefined): Record<string, unknown> | undefined {
  if (!part) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies an RS256 compact JWS with the sandbox's key; returns its claims or undefined. */
export function verifyJwt(jwt: string, key: KeyObject): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = b64json(h);
  if (header?.alg !== 'RS256') return undefined;
  const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, Buffer.from(s, 'base64url'));
  return ok ? b64json(p) : undefined;
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  app.register(async (scope) => {
    fhirAnswers(scope);
    scope.post('/fhir', (req, reply) => postTransaction(deps, req, reply));
    scope.get('/fhir/Observation', (req, reply) => getObservations(deps, req, reply));
  });
}

/** The bearer token, the ID token's claims, the client's solution and the patient's pairing and consent. */
async function authenticate(deps: ApiDeps, req: FastifyRequest): Promise<Auth> {
  const { store, claimNames: cn } = deps;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const provider = deps.provider();
  const token = m?.[1] ? await provider.AccessToken.find(m[1]) : undefined;
  const grant = token?.grantId ? await provider.Grant.find(token.grantId) : undefined;
  if (!token || token.isExpired || !grant || !token.accountId || !token.clientId) {
    throw new Refusal(401, 'Unauthorized', 'Unauthorized', 'security');
  }
  const raw = req.headers[deps.idTokenHeader.toLowerCase()];
  const idToken = typeof raw === 'string' ? raw.trim() : '';
  const claims = idToken ? verifyJwt(idToken, deps.publicKey()) : undefined;
  const aud = claims?.aud;
  const audOk = aud === token.clientId || (Array.isArray(aud) && aud.includes(token.clientId));
  const exp = typeof claims?.exp === 'number' ? claims.exp : 0;
  if (
    !claims ||
    claims.iss !== deps.issuer() ||
    !audOk ||
    exp * 1000 <= Date.now() ||
    claims.sub !== token.accountId
  ) {
    throw new Refusal(400, 'Bad Request', MSG.idToken, 'invalid');
  }
  const idPe = claims[cn.idPe];
  const pairingOid = claims[cn.pairingOid];
  const solutionOid = claims[cn.solutionOid];
  if (typeof idPe !== 'string' || typeof pairingOid !== 'string' || typeof solutionOid !== 'string') {
    throw new Refusal(400, 'Bad Request', MSG.idToken, 'invalid');
  }
  const client = store.clients.get(token.clientId);
  if (!client || client.solutionOid !== solutionOid)
    throw new Refusal(409, 'Conflict', MSG.oidConflict, 'invalid');
  const pairing = store.pairing(token.accountId, token.clientId);
  if (!pairing) throw new Refusal(401, 'Unauthorized', 'Unauthorized', 'security');
  if (pairing.kinds.size === 0) throw new Refusal(403, 'Forbidden', MSG.consent, 'forbidden');
  return { sub: token.accountId, clientId: token.clientId, idPe, pairingOid, solutionOid, pairing };
}

function refuse(reply: FastifyReply, r: Refusal) {
  if (r.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
  return reply.code(r.status).type(FHIR_JSON).send(r.outcome());
}

/**
 * The FHIR scope's error handler and body parser: every answer is an OperationOutcome, framework
 * refusals (415, 413…) included, and a body that is not JSON reaches the rules as `undefined`.
 */
function fhirAnswers(scope: FastifyInstance): void {
  scope.setErrorHandler((err, _req, reply) => {
    const e = err as { statusCode?: unknown; message?: unknown };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
    const message = typeof e.message === 'string' ? e.message : 'internal error';
    const r = new Refusal(status, status >= 500 ? 'Internal error' : 'Request not valid', message, 'invalid');
    return reply.code(status).type(FHIR_JSON).send(r.outcome());
  });
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser(
    ['application/json', 'application/fhir+json'],
    { parseAs: 'string' },
    (_req, body, done) => {
      let parsed: unknown;
      try {
        parsed = body === '' ? undefined : JSON.parse(String(body));
      } catch {
        parsed = undefined;
      }
      done(null, parsed);
    },
  );
}

/** `POST /fhir`: authenticate, check the transaction Bundle, store it; a refusal is audited. */
async function postTransaction(deps: ApiDeps, req: FastifyRequest, reply: FastifyReply) {
  let auth: Auth | undefined;
  try {
    auth = await authenticate(deps, req);
    const accepted = checkTransaction(req.body, {
      solutionOid: auth.solutionOid,
      pairingOid: auth.pairingOid,
      idPe: auth.idPe,
      generations: deps.generations,
      consented: auth.pairing.kinds,
    });
    return reply
      .code(200)
      .type(FHIR_JSON)
      .send(commit(deps, auth, accepted));
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    deps.audit({
      event: 'observation.refused',
      ...(auth ? { clientId: auth.clientId, solutionOid: auth.solutionOid, idPe: auth.idPe } : {}),
      status: e.status,
      message: e.diagnostics,
    });
    return refuse(reply, e);
  }
}

type Accepted = ReturnType<typeof checkTransaction>;

/** The transaction's Device: the one already stored under its key (200) or a new one (201). */
function commitDevice(
  deps: ApiDeps,
  auth: Auth,
  device: NonNullable<Accepted['device']>,
  receivedAt: string,
): { deviceId: string; entry: Record<string, unknown> } {
  const { store } = deps;
  const existing = store.deviceByKey(device.key);
  if (existing) {
    return {
      deviceId: existing.id,
      entry: { response: { status: '200 OK', location: `Device/${existing.id}` } },
    };
  }
  const wanted = String(device.resource.id);
  const deviceId = store.devices.has(wanted) ? randomUUID() : wanted;
  store.addDevice({
    id: deviceId,
    key: device.key,
    createdAt: receivedAt,
    clientId: auth.clientId,
    resource: { ...device.resource, id: deviceId },
  });
  return { deviceId, entry: { response: { status: '201 Created', location: `Device/${deviceId}` } } };
}

/** Stores an accepted transaction and answers its transaction-response Bundle. */
function commit(deps: ApiDeps, auth: Auth, accepted: Accepted): Record<string, unknown> {
  const { store } = deps;
  const receivedAt = new Date(deps.now()).toISOString();
  const entries: Record<string, unknown>[] = [];
  let deviceId: string | undefined;
  if (accepted.device) {
    const d = commitDevice(deps, auth, accepted.device, receivedAt);
    deviceId = d.deviceId;
    entries.push(d.entry);
  }
  const id = randomUUID();
  const obs = accepted.observation;
  const meta = (typeof obs.meta === 'object' && obs.meta ? obs.meta : {}) as Record<string, unknown>;
  const resource: Record<string, unknown> = {
    ...obs,
    id,
    meta: { ...meta, source: meta.source ?? `urn:oid:${auth.solutionOid}`, lastUpdated: receivedAt },
    ...(deviceId ? { device: { reference: `Device/${deviceId}` } } : {}),
  };
  const ident = Array.isArray(obs.identifier)
    ? (obs.identifier[0] as Record<string, unknown> | undefined)
    : undefined;
  const identifier = ident ? `${String(ident.system ?? '')}|${String(ident.value ?? '')}` : undefined;
  const earlier = identifier ? store.firstWithIdentifier(auth.sub, identifier) : undefined;
  // ans.fhir.fr.mesures 3.2.0 biology Bundle: the report is kept with its reading, result pointing at it.
  const reportId = randomUUID();
  const report = accepted.report
    ? {
        id: reportId,
        resource: { ...accepted.report, id: reportId, result: [{ reference: `Observation/${id}` }] },
      }
    : undefined;
  const stored: StoredObservation = {
    id,
    receivedAt,
    clientId: auth.clientId,
    solutionOid: auth.solutionOid,
    idPe: auth.idPe,
    sub: auth.sub,
    kind: accepted.kind,
    code: accepted.code,
    identifier,
    deviceId,
    duplicateOf: earlier,
    effectiveMs: accepted.effectiveMs,
    resource,
    ...(report ? { report } : {}),
  };
  store.addObservation(stored);
  deps.audit({
    event: 'observation.created',
    clientId: auth.clientId,
    solutionOid: auth.solutionOid,
    idPe: auth.idPe,
    kind: accepted.kind,
    status: 201,
    observationId: id,
    ...(deviceId ? { deviceId } : {}),
  });
  // MES API Mesures v1.5.2 §2.2.8: the Observation's response first, then the Device's (a biology
  // Bundle's report between them).
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'transaction-response',
    entry: [
      { response: { status: '201 Created', location: `Observation/${id}` } },
      ...(report ? [{ response: { status: '201 Created', location: `DiagnosticReport/${report.id}` } }] : []),
      ...entries,
    ],
  };
}

/** `GET /fhir/Observation`: authenticate, search, audit the search. */
async function getObservations(deps: ApiDeps, req: FastifyRequest, reply: FastifyReply) {
  try {
    const auth = await authenticate(deps, req);
    const result = search(deps, req, auth);
    deps.audit({
      event: 'search',
      clientId: auth.clientId,
      solutionOid: auth.solutionOid,
      idPe: auth.idPe,
      status: 200,
    });
    return reply.code(200).type(FHIR_JSON).send(result);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    return refuse(reply, e);
  }
}

const invalid = (d: string) => new Refusal(400, 'Request not valid', d, 'invalid');

/** A search's validated parameters (MES API Mesures v1.5.2 §2.3.1.1). */
interface SearchQuery {
  readonly code: string;
  readonly dates: string[];
  readonly sort: string | null;
  readonly count: number;
  readonly offset: number;
}

/** Checks the subject, the code and its consent, and the paging parameters of a search. */
function searchQuery(q: URLSearchParams, auth: Auth): SearchQuery {
  const subject = q.get('subject.identifier') ?? '';
  const bar = subject.lastIndexOf('|');
  const sys = bar >= 0 ? subject.slice(0, bar) : '';
  const value = bar >= 0 ? subject.slice(bar + 1) : subject;
  const oid = sys.startsWith('urn:oid:') ? sys.slice('urn:oid:'.length) : sys;
  if (oid !== auth.pairingOid || value !== auth.idPe)
    throw new Refusal(403, 'Forbidden', MSG.idPe, 'forbidden');
  const code = q.get('code') ?? '';
  const rule = codeRule(code);
  if (!code) throw invalid('Search parameter code is mandatory.');
  if (!rule || rule.kind === 'bmi')
    throw invalid(`Search parameter code ${code} is not a supported measurement code.`);
  if (!auth.pairing.kinds.has(rule.kind as ConsentKind))
    throw new Refusal(403, 'Forbidden', MSG.consent, 'forbidden');

  const dates = q.getAll('date');
  const sort = q.get('_sort');
  const countRaw = q.get('_count');
  const offsetRaw = q.get('_offset');
  const count = countRaw === null ? 50 : Number(countRaw);
  const offset = offsetRaw === null ? 0 : Number(offsetRaw);
  if (!Number.isInteger(count) || count < 1)
    throw invalid(`_count must be a positive integer. Actual : ${countRaw}`);
  if (!Number.isInteger(offset) || offset < 0)
    throw invalid(`_offset must be a page index from 0. Actual : ${offsetRaw}`);
  // MES API Mesures v1.5.2 §2.3.1.1: _count at most 100.
  if (count > 100) throw invalid(`Maximum page size allowed is 100. Actual : ${count}`);
  if (sort !== null && (dates.length > 0 || offsetRaw !== null)) {
    throw invalid('Paged search and search last cannot be requested concurrently');
  }
  return { code, dates, sort, count, offset };
}

/** The patient's readings that match: search "last" (`_sort=-date&_count=1`) or search "all" by dates. */
function searchMatches(
  deps: ApiDeps,
  auth: Auth,
  sq: SearchQuery,
): { mode: 'all' | 'last'; matches: StoredObservation[] } {
  const mine = deps.store.observations.filter((o) => o.sub === auth.sub && o.code === sq.code);
  if (sq.sort !== null) {
    if (sq.sort !== '-date' || sq.count !== 1) {
      throw invalid(
        'Sort parameter must be equals to -date (date DESC) with _count equals to 1 to retrieve last observation',
      );
    }
    return { mode: 'last', matches: [...mine].sort((a, b) => b.effectiveMs - a.effectiveMs).slice(0, 1) };
  }
  const range = parseRange(sq.dates);
  if (!range) throw invalid('No search mode detected');
  return {
    mode: 'all',
    matches: mine
      .filter((o) => range.lower(o.effectiveMs) && range.upper(o.effectiveMs))
      .sort((a, b) => b.effectiveMs - a.effectiveMs),
  };
}

/** The searchset Bundle: one page of matches, their devices when included, self/next/previous links. */
function search(deps: ApiDeps, req: FastifyRequest, auth: Auth): Record<string, unknown> {
  const { store } = deps;
  const url = new URL(req.url, 'http://sandbox.invalid');
  const q = url.searchParams;
  const sq = searchQuery(q, auth);
  const { count, offset } = sq;
  const { mode, matches } = searchMatches(deps, auth, sq);
  const page = mode === 'all' ? matches.slice(offset * count, offset * count + count) : matches;
  const include = q.getAll('_include').some((v) => v === 'Observation:device' || v === 'Observation.device');
  const devices = include
    ? [...new Set(page.map((o) => o.deviceId).filter((d): d is string => d !== undefined))]
        .map((id) => store.devices.get(id))
        .filter((d) => d !== undefined)
    : [];
  const base = `${deps.issuer().replace(/\/oidc$/, '')}/fhir/Observation`;
  const link = (off: number) => {
    const p = new URLSearchParams(q);
    p.set('_offset', String(off));
    return `${base}?${p.toString()}`;
  };
  const links: { relation: string; url: string }[] = [{ relation: 'self', url: `${base}${url.search}` }];
  if (mode === 'all') {
    if ((offset + 1) * count < matches.length) links.push({ relation: 'next', url: link(offset + 1) });
    if (offset > 0) links.push({ relation: 'previous', url: link(offset - 1) });
  }
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date(deps.now()).toISOString() },
    type: 'searchset',
    total: matches.length,
    link: links,
    entry: [
      ...page.map((o) => ({ resource: o.resource, search: { mode: 'match' } })),
      ...devices.map((d) => ({ resource: d.resource, search: { mode: 'include' } })),
    ],
  };
}

interface Range {
  lower(ms: number): boolean;
  upper(ms: number): boolean;
}

/** `date=geX&date=leY` (ge/gt/le/lt); both bounds are required (MES API Mesures v1.5.2 §2.3.1.1). */
function parseRange(dates: string[]): Range | undefined {
  let lower: ((ms: number) => boolean) | undefined;
  let upper: ((ms: number) => boolean) | undefined;
  for (const d of dates) {
    const m = /^(ge|gt|le|lt)(\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?)$/.exec(d);
    if (!m?.[1] || !m[2]) return undefined;
    const dayOnly = m[2].length === 10;
    const start = Date.parse(dayOnly ? `${m[2]}T00:00:00Z` : m[2]);
    if (Number.isNaN(start)) return undefined;
    const end = dayOnly ? start + 86_400_000 : start;
    if (m[1] === 'ge') lower = (ms) => ms >= start;
    if (m[1] === 'gt') lower = (ms) => ms >= end;
    if (m[1] === 'le') upper = (ms) => (dayOnly ? ms < end : ms <= start);
    if (m[1] === 'lt') upper = (ms) => ms < start;
  }
  return lower && upper ? { lower, upper } : undefined;
}
