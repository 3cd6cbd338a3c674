/**
 * The Mon espace santé measurements API client ("API Mesures" 1.5.2): POST [base]/fhir with one
 * transaction Bundle per reading, every answer classified (delivered / dead letter / held / retry),
 * 401 answered by one refresh and one retry, a circuit breaker in front, and a search of the patient's
 * observations (GET [base]/fhir/Observation) to settle a send a crash interrupted.
 */
import {
  type Catalogue,
  ERROR_CATALOGUE,
  type ErrorCode,
  isMedgwError,
  MedgwError,
  nationalCodeFor,
  nationalOutcomeOf,
} from '../kernel/errors.ts';
import type { ProfileGeneration } from './biology-bundle.ts';
import {
  type BackoffPolicy,
  backoffDelay,
  CircuitBreaker,
  DEFAULT_BACKOFF,
  parseRetryAfter,
} from './breaker.ts';
import { type BridgeReading, buildBundle, observationIdentifier } from './bundle.ts';
import { toFhirJson } from './fhir-json.ts';
import { type HttpAnswer, HttpPool } from './http.ts';
import { KIND_PROFILES } from './profiles.ts';

/** Credentials of one linked patient, as the pairing client hands them out. */
export interface MesCredentials {
  readonly accessToken: string;
  readonly idToken: string;
  readonly idPe: string;
  readonly pairingOid: string;
  readonly solutionOid: string;
}

/** Where the client gets (and renews) a patient's tokens: the pairing client. */
export interface TokenSource {
  credentials(patientId: string): Promise<MesCredentials>;
  /** Forces a refresh; throws MEDGW_ERR_REAUTH_REQUIRED when the refresh token is refused. */
  refresh(patientId: string): Promise<MesCredentials>;
}

export type SendOutcome =
  | { readonly status: 'delivered'; readonly remoteId: string; readonly httpStatus: number }
  | {
      readonly status: 'dead-letter';
      readonly code: ErrorCode;
      readonly message: string;
      readonly httpStatus?: number;
      readonly nationalMessage?: string;
    }
  | {
      readonly status: 'held';
      readonly code: ErrorCode;
      readonly message: string;
      readonly httpStatus?: number;
    }
  | {
      readonly status: 'retry';
      readonly code: ErrorCode;
      readonly message: string;
      readonly retryAt: number;
      readonly httpStatus?: number;
    };

export interface MesClientOptions {
  /** Base URL of the national side; requests go to `<base>/fhir`. */
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  /** Header that carries the ID token beside `Authorization: Bearer <access token>`. */
  readonly idTokenHeader?: string;
  readonly maxConcurrency?: number;
  readonly timeoutMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly breaker?: { readonly failureThreshold?: number; readonly openMs?: number };
  readonly profileBase?: string;
  /** Which contract shapes a glucose Bundle (biology-bundle.ts); default mes-1.5.2, the feeding Bundle. */
  readonly generation?: ProfileGeneration;
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * Where each national answer's code and outcome come from (kernel/errors.ts: `answer`, `outcome`);
   * default the catalogue itself.
   */
  readonly catalogue?: Catalogue;
}

export const DEFAULT_ID_TOKEN_HEADER = 'x-id-token';

/** `diagnostics` of an OperationOutcome, or the plain body, cut to a readable length. */
export function nationalMessage(answer: HttpAnswer): string {
  try {
    const body = JSON.parse(answer.text) as {
      resourceType?: string;
      issue?: { diagnostics?: string; details?: { text?: string } }[];
    };
    if (body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) {
      const parts = body.issue.map((i) => i.diagnostics ?? i.details?.text).filter((t): t is string => !!t);
      if (parts.length > 0) return parts.join(' | ').slice(0, 500);
    }
  } catch {
    // not JSON: the plain text is the message
  }
  return answer.text.trim().slice(0, 500) || `HTTP ${answer.status}`;
}

/** Location of the Observation entry of a transaction-response: `Observation/<id>`. */
function remoteIdOf(answer: HttpAnswer): string | undefined {
  try {
    const body = JSON.parse(answer.text) as { entry?: { response?: { location?: string } }[] };
    for (const e of body.entry ?? []) {
      const m = /(?:^|\/)(Observation\/[^/]+)/.exec(e.response?.location ?? '');
      if (m?.[1]) return m[1];
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export class MesClient {
  readonly #opts: MesClientOptions;
  readonly #pool: HttpPool;
  readonly #breaker: CircuitBreaker;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy;
  readonly #catalogue: Catalogue;

  constructor(options: MesClientOptions) {
    this.#opts = options;
    this.#pool = new HttpPool({
      maxConcurrency: options.maxConcurrency ?? 4,
      timeoutMs: options.timeoutMs ?? 15_000,
    });
    this.#breaker = new CircuitBreaker(options.breaker);
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#catalogue = options.catalogue ?? ERROR_CATALOGUE;
  }

  get breakerState(): 'closed' | 'open' | 'half-open' {
    return this.#breaker.state(this.#now());
  }

  #url(path: string): URL {
    return new URL(`${this.#opts.baseUrl.replace(/\/+$/, '')}${path}`);
  }

  #headers(c: MesCredentials): Record<string, string> {
    return {
      authorization: `Bearer ${c.accessToken}`,
      [this.#opts.idTokenHeader ?? DEFAULT_ID_TOKEN_HEADER]: c.idToken,
      accept: 'application/fhir+json',
    };
  }

  #retry(
    code: ErrorCode,
    message: string,
    attempt: number,
    httpStatus?: number,
    retryAfterMs?: number,
  ): SendOutcome {
    const delay = Math.max(backoffDelay(attempt, this.#backoff, this.#random), retryAfterMs ?? 0);
    return { status: 'retry', code, message, retryAt: this.#now() + delay, httpStatus };
  }

  /** Builds the Bundle for a reading (exposed for tests and the property check). */
  bundleFor(reading: Omit<BridgeReading, 'patient'>, c: MesCredentials): string {
    return toFhirJson(
      buildBundle(
        { ...reading, patient: { idPe: c.idPe, oid: c.pairingOid } },
        {
          solutionOid: c.solutionOid,
          profileBase: this.#opts.profileBase,
          generation: this.#opts.generation,
        },
      ),
    );
  }

  /**
   * Sends one reading for a linked patient. `attempt` is the number of this attempt (1 for the first),
   * used for the backoff. Never throws for an answer of the national side: it returns the outcome.
   */
  async send(patientId: string, reading: Omit<BridgeReading, 'patient'>, attempt = 1): Promise<SendOutcome> {
    let creds: MesCredentials;
    try {
      creds = await this.#opts.tokens.credentials(patientId);
    } catch (e) {
      return this.#credentialFailure(e, attempt);
    }
    let body: string;
    try {
      body = this.bundleFor(reading, creds);
    } catch (e) {
      if (isMedgwError(e)) return { status: 'dead-letter', code: e.code, message: e.message };
      throw e;
    }
    if (!this.#breaker.allow(this.#now())) {
      const reopens = this.#breaker.reopensAt() ?? this.#now();
      return {
        status: 'retry',
        code: 'MEDGW_ERR_MES_CIRCUIT_OPEN',
        message: 'national side paused after repeated failures',
        retryAt: Math.max(reopens, this.#now() + backoffDelay(attempt, this.#backoff, this.#random)),
      };
    }
    let answer = await this.#post(body, creds);
    if (answer instanceof Error) return this.#networkFailure(answer, attempt);
    if (answer.status === 401 || (answer.status === 400 && /ID_TOKEN/i.test(answer.text))) {
      // Re-auth: refresh once, then retry once with the new tokens.
      try {
        creds = await this.#opts.tokens.refresh(patientId);
      } catch (e) {
        this.#breaker.success();
        return this.#credentialFailure(e, attempt);
      }
      answer = await this.#post(this.bundleFor(reading, creds), creds);
      if (answer instanceof Error) return this.#networkFailure(answer, attempt);
    }
    return this.#classify(answer, attempt);
  }

  async #post(body: string, c: MesCredentials): Promise<HttpAnswer | Error> {
    try {
      return await this.#pool.request(this.#url('/fhir'), {
        method: 'POST',
        headers: { ...this.#headers(c), 'content-type': 'application/fhir+json' },
        body,
      });
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  #networkFailure(e: Error, attempt: number): SendOutcome {
    this.#breaker.failure(this.#now());
    // Refused or unresolved: the request never left. Anything else (reset, timeout) may have arrived.
    const code = (e as NodeJS.ErrnoException).code;
    const neverSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
    return this.#retry(
      neverSent ? 'MEDGW_ERR_MES_UNAVAILABLE' : 'MEDGW_ERR_MES_NO_ANSWER',
      `network: ${e.message}`,
      attempt,
    );
  }

  #credentialFailure(e: unknown, attempt: number): SendOutcome {
    if (isMedgwError(e)) return this.#outcome(e.code, e.message, attempt);
    return this.#retry('MEDGW_ERR_PAIRING_FAILED', e instanceof Error ? e.message : String(e), attempt);
  }

  #classify(answer: HttpAnswer, attempt: number): SendOutcome {
    const s = answer.status;
    const msg = nationalMessage(answer);
    if (s >= 200 && s < 300) {
      this.#breaker.success();
      const remoteId = remoteIdOf(answer);
      if (remoteId) return { status: 'delivered', remoteId, httpStatus: s };
      return this.#retry('MEDGW_ERR_MES_PROTOCOL', `HTTP ${s} without an Observation location`, attempt, s);
    }
    // the breaker counts the national side's own failures (overload, 5xx), not its refusals
    const failing = s === 429 || s >= 500;
    if (failing) this.#breaker.failure(this.#now());
    else this.#breaker.success();
    // the code and what follows are the catalogue's (kernel/errors.ts: answer, outcome)
    const code =
      nationalCodeFor(s, msg, this.#catalogue) ??
      (failing ? 'MEDGW_ERR_MES_UNAVAILABLE' : 'MEDGW_ERR_MES_PROTOCOL');
    return this.#outcome(code, `HTTP ${s}: ${msg}`, attempt, {
      httpStatus: s,
      nationalMessage: msg,
      ...(failing ? { retryAfterMs: parseRetryAfter(answer.headers['retry-after'], this.#now()) } : {}),
    });
  }

  /** The outcome the catalogue gives `code`: a code without one (not a national answer) is retried. */
  #outcome(
    code: ErrorCode,
    message: string,
    attempt: number,
    answer: { httpStatus?: number; nationalMessage?: string; retryAfterMs?: number | undefined } = {},
  ): SendOutcome {
    const { httpStatus, nationalMessage: national } = answer;
    switch (nationalOutcomeOf(code, this.#catalogue)) {
      case 'dead-letter':
        return {
          status: 'dead-letter',
          code,
          message,
          ...(httpStatus !== undefined ? { httpStatus } : {}),
          ...(national !== undefined ? { nationalMessage: national } : {}),
        };
      case 'hold-reading':
      case 'hold-patient':
        // the national text alone: the pages show it as the reason the patient's readings wait
        return { status: 'held', code, message: national ?? message, httpStatus };
      default:
        return this.#retry(code, message, attempt, httpStatus, answer.retryAfterMs);
    }
  }

  /**
   * Searches the patient's observations for this reading's identifier (documented "all" mode:
   * subject.identifier + code + date window, paged by `_offset`). Returns the national id if the
   * reading already arrived, undefined if it did not; throws a coded error when the search fails.
   */
  async findDelivered(
    patientId: string,
    reading: Omit<BridgeReading, 'patient'>,
  ): Promise<string | undefined> {
    let creds = await this.#opts.tokens.credentials(patientId);
    let refreshed = false;
    const kind = KIND_PROFILES[reading.observation.kind];
    const utc = reading.observation.time.utc;
    if (!kind || !utc) return undefined;
    const wanted = observationIdentifier(reading.id, creds.solutionOid);
    const day = Date.parse(utc);
    const ge = new Date(day - 86_400_000).toISOString().slice(0, 10);
    const le = new Date(day + 86_400_000).toISOString().slice(0, 10);
    for (let offset = 0; offset < 50; offset++) {
      const url = this.#url('/fhir/Observation');
      url.searchParams.set('subject.identifier', `urn:oid:${creds.pairingOid}|${creds.idPe}`);
      url.searchParams.set('code', kind.code.code);
      url.searchParams.append('date', `ge${ge}`);
      url.searchParams.append('date', `le${le}`);
      url.searchParams.set('_count', '100');
      url.searchParams.set('_offset', String(offset));
      const answer = await this.#pool.request(url, { method: 'GET', headers: this.#headers(creds) });
      if ((answer.status === 401 || (answer.status === 400 && /ID_TOKEN/i.test(answer.text))) && !refreshed) {
        creds = await this.#opts.tokens.refresh(patientId);
        refreshed = true;
        offset--;
        continue;
      }
      if (answer.status === 403) {
        const msg = nationalMessage(answer);
        throw new MedgwError(nationalCodeFor(403, msg, this.#catalogue) ?? 'MEDGW_ERR_MES_CONSENT', msg);
      }
      if (answer.status !== 200) {
        throw new MedgwError(
          'MEDGW_ERR_MES_UNAVAILABLE',
          `search answered HTTP ${answer.status}: ${nationalMessage(answer)}`,
        );
      }
      const bundle = JSON.parse(answer.text) as {
        entry?: {
          resource?: {
            resourceType?: string;
            id?: string;
            identifier?: { system?: string; value?: string }[];
          };
        }[];
      };
      const entries = bundle.entry ?? [];
      for (const e of entries) {
        const r = e.resource;
        if (r?.resourceType !== 'Observation') continue;
        if (r.identifier?.some((i) => i.system === wanted.system && i.value === wanted.value)) {
          return `Observation/${r.id}`;
        }
      }
      if (entries.filter((e) => e.resource?.resourceType === 'Observation').length < 100) return undefined;
    }
    return undefined;
  }

  close(): void {
    this.#pool.close();
  }
}
