/**
 * The pairing ("appariement") client, built on openid-client: the device authorization grant
 * (RFC 8628) for headless gateways, the authorization code flow with PKCE (RFC 7636) for the local
 * web page, refresh before expiry and revocation (RFC 7009) on unlink. The national side's grant
 * details are not public, so endpoints, client, scopes and claim names are configuration; the
 * defaults match the local sandbox (docs/sandbox.md).
 */
import * as oidc from 'openid-client';
import { isMedgwError, MedgwError } from '../kernel/errors.ts';
import type { MesCredentials, TokenSource } from './mes-client.ts';
import { CONSENT_KINDS, type ConsentKind } from './profiles.ts';
import type { LinkStore, PatientLink, RefreshLock } from './token-store.ts';

export interface PairingConfig {
  /** OpenID issuer (discovery at `<issuer>/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Scopes asked besides the per-kind ones. */
  readonly baseScopes?: readonly string[];
  /** Prefix of the per-kind consent scopes (`mesures.` → `mesures.glucose`). */
  readonly kindScopePrefix?: string;
  /** Names of the ID token claims that carry the idPe and the OIDs. */
  readonly claims?: { readonly idPe: string; readonly pairingOid: string; readonly solutionOid: string };
  /** Redirect URI of the authorization code flow (the gateway's local callback page). */
  readonly redirectUri?: string;
  /** Refresh this long before the access or ID token expires. */
  readonly refreshMarginMs?: number;
  /** Allow plain HTTP to the issuer; default: only for loopback hosts. */
  readonly allowInsecureHttp?: boolean;
}

/** Defaults that match the sandbox's pre-registered gateway client (docs/sandbox.md). */
export const SANDBOX_PAIRING: Omit<PairingConfig, 'issuer'> = {
  clientId: 'medgw-gateway',
  clientSecret: 'medgw-sandbox-secret',
  baseScopes: ['openid', 'offline_access'],
  kindScopePrefix: 'mesures.',
  claims: { idPe: 'idpe', pairingOid: 'pairing_oid', solutionOid: 'solution_oid' },
  refreshMarginMs: 60_000,
};

export interface DeviceLinkProgress {
  readonly polls: number;
  readonly lastAnswer?: string;
  readonly remainingMs: number;
  readonly intervalSeconds: number;
}

export interface DeviceLink {
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete?: string;
  readonly expiresAt: number;
  /** Polls until the patient approves; resolves to the stored link. */
  complete(options?: {
    signal?: AbortSignal;
    onProgress?: (p: DeviceLinkProgress) => void;
  }): Promise<PatientLink>;
}

interface PendingBrowserLink {
  readonly patientId: string;
  readonly verifier: string;
  readonly nonce: string;
  readonly kinds: readonly ConsentKind[];
  readonly createdAt: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const PENDING_TTL_MS = 10 * 60_000;

function oauthErrorCode(e: unknown): string | undefined {
  if (e instanceof oidc.ResponseBodyError || e instanceof oidc.AuthorizationResponseError) return e.error;
  return undefined;
}

function failure(e: unknown, what: string): MedgwError {
  if (isMedgwError(e)) return e;
  const code = oauthErrorCode(e);
  const text = e instanceof Error ? e.message : String(e);
  return new MedgwError('MEDGW_ERR_PAIRING_FAILED', `${what}: ${code ?? text}`);
}

export class PairingClient implements TokenSource {
  readonly #cfg: PairingConfig;
  readonly #store: LinkStore;
  readonly #lock: RefreshLock | undefined;
  readonly #now: () => number;
  #configuration: Promise<oidc.Configuration> | undefined;
  readonly #pending = new Map<string, PendingBrowserLink>();
  readonly #refreshing = new Map<string, Promise<MesCredentials>>();
  readonly #pollListeners = new Map<string, (answer: string) => void>();

  constructor(
    config: Pick<PairingConfig, 'issuer'> & Partial<PairingConfig>,
    store: LinkStore,
    options: {
      now?: () => number;
      /** Serializes refreshes across the processes sharing `store` (absent: this process only). */
      lock?: RefreshLock;
    } = {},
  ) {
    this.#cfg = { ...SANDBOX_PAIRING, ...config };
    this.#store = store;
    this.#lock = options.lock;
    this.#now = options.now ?? Date.now;
  }

  get store(): LinkStore {
    return this.#store;
  }

  #claims(): { idPe: string; pairingOid: string; solutionOid: string } {
    return (
      this.#cfg.claims ??
      (SANDBOX_PAIRING.claims as { idPe: string; pairingOid: string; solutionOid: string })
    );
  }

  scopeFor(kinds: readonly ConsentKind[] = CONSENT_KINDS): string {
    const prefix = this.#cfg.kindScopePrefix ?? 'mesures.';
    return [
      ...(this.#cfg.baseScopes ?? ['openid', 'offline_access']),
      ...kinds.map((k) => `${prefix}${k}`),
    ].join(' ');
  }

  configuration(): Promise<oidc.Configuration> {
    if (!this.#configuration) {
      const issuer = new URL(this.#cfg.issuer);
      const insecure =
        issuer.protocol === 'http:' && (this.#cfg.allowInsecureHttp ?? LOOPBACK.has(issuer.hostname));
      const auth = this.#cfg.clientSecret ? oidc.ClientSecretBasic(this.#cfg.clientSecret) : oidc.None();
      const customFetch: oidc.CustomFetch = async (url, options) => {
        const res = await fetch(url, options as RequestInit);
        const body = options.body;
        const deviceCode = body instanceof URLSearchParams ? body.get('device_code') : null;
        const listener = deviceCode ? this.#pollListeners.get(deviceCode) : undefined;
        if (listener) {
          const answer = res.ok
            ? 'approved'
            : await res
                .clone()
                .json()
                .then((j: unknown) => (j as { error?: string }).error ?? `HTTP ${res.status}`)
                .catch(() => `HTTP ${res.status}`);
          listener(answer);
        }
        return res;
      };
      this.#configuration = oidc
        .discovery(issuer, this.#cfg.clientId, undefined, auth, {
          execute: insecure ? [oidc.allowInsecureRequests] : [],
          [oidc.customFetch]: customFetch,
        })
        .catch((e: unknown) => {
          this.#configuration = undefined;
          throw failure(e, `discovery of ${issuer.href} failed`);
        });
    }
    return this.#configuration;
  }

  /** Device authorization grant: returns the code to show; `complete()` waits for the approval. */
  async startDeviceLink(
    patientId: string,
    options: { kinds?: readonly ConsentKind[] } = {},
  ): Promise<DeviceLink> {
    const config = await this.configuration();
    const kinds = options.kinds ?? CONSENT_KINDS;
    let answer: oidc.DeviceAuthorizationResponse;
    try {
      answer = await oidc.initiateDeviceAuthorization(config, { scope: this.scopeFor(kinds) });
    } catch (e) {
      throw failure(e, 'device authorization request refused');
    }
    const started = this.#now();
    const expiresAt = started + answer.expires_in * 1000;
    return {
      userCode: answer.user_code,
      verificationUri: answer.verification_uri,
      verificationUriComplete: answer.verification_uri_complete,
      expiresAt,
      complete: async ({ signal, onProgress } = {}) => {
        let polls = 0;
        let interval = answer.interval ?? 5;
        this.#pollListeners.set(answer.device_code, (last) => {
          polls++;
          if (last === 'slow_down') interval += 5;
          onProgress?.({
            polls,
            lastAnswer: last,
            remainingMs: Math.max(0, expiresAt - this.#now()),
            intervalSeconds: interval,
          });
        });
        const timeout = AbortSignal.timeout(Math.max(1, answer.expires_in) * 1000);
        const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
        try {
          const tokens = await oidc.pollDeviceAuthorizationGrant(config, answer, undefined, {
            signal: combined,
          });
          return this.#saveLink(patientId, tokens, kinds);
        } catch (e) {
          const code = oauthErrorCode(e);
          if (code === 'expired_token' || (timeout.aborted && !signal?.aborted)) {
            throw new MedgwError(
              'MEDGW_ERR_PAIRING_EXPIRED',
              `the code ${answer.user_code} expired before approval`,
            );
          }
          if (code === 'access_denied') throw new MedgwError('MEDGW_ERR_PAIRING_DENIED');
          if (signal?.aborted) throw new MedgwError('MEDGW_ERR_PAIRING_FAILED', 'pairing cancelled');
          throw failure(e, 'device flow failed');
        } finally {
          this.#pollListeners.delete(answer.device_code);
        }
      },
    };
  }

  /** Authorization code + PKCE: the URL to send the patient's browser to (state keyed in memory). */
  async startBrowserLink(
    patientId: string,
    options: { kinds?: readonly ConsentKind[]; redirectUri?: string } = {},
  ): Promise<{ url: string; state: string }> {
    const config = await this.configuration();
    const redirectUri = options.redirectUri ?? this.#cfg.redirectUri;
    if (!redirectUri)
      throw new MedgwError('MEDGW_ERR_CONFIG', 'cloud.pairing.redirectUri is required for the browser link');
    const kinds = options.kinds ?? CONSENT_KINDS;
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    this.#sweepPending();
    this.#pending.set(state, { patientId, verifier, nonce, kinds, createdAt: this.#now() });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.scopeFor(kinds),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // OpenID Connect Core §11: offline_access needs prompt=consent.
      prompt: 'consent',
    });
    return { url: url.href, state };
  }

  /** Handles the redirect back to the gateway (`?code=…&state=…`), checking state, nonce and PKCE. */
  async completeBrowserLink(callbackUrl: URL | string): Promise<PatientLink> {
    const url = new URL(String(callbackUrl));
    const state = url.searchParams.get('state') ?? '';
    this.#sweepPending();
    const pending = this.#pending.get(state);
    if (!pending)
      throw new MedgwError('MEDGW_ERR_PAIRING_STATE', 'unknown or expired state in the pairing answer');
    this.#pending.delete(state);
    if (url.searchParams.get('error') === 'access_denied') throw new MedgwError('MEDGW_ERR_PAIRING_DENIED');
    const config = await this.configuration();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      return this.#saveLink(pending.patientId, tokens, pending.kinds);
    } catch (e) {
      if (isMedgwError(e)) throw e;
      const code = oauthErrorCode(e);
      if (code === 'access_denied') throw new MedgwError('MEDGW_ERR_PAIRING_DENIED');
      if (code) throw failure(e, 'code exchange refused');
      if (e instanceof TypeError && /fetch/i.test(e.message)) throw failure(e, 'provider unreachable');
      throw new MedgwError(
        'MEDGW_ERR_PAIRING_STATE',
        `pairing answer rejected: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  #sweepPending(): void {
    const now = this.#now();
    for (const [k, p] of this.#pending) if (now - p.createdAt > PENDING_TTL_MS) this.#pending.delete(k);
  }

  #expiry(tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, idExp?: number): number {
    const access =
      tokens.expires_in !== undefined ? this.#now() + tokens.expires_in * 1000 : Number.POSITIVE_INFINITY;
    const id = idExp !== undefined ? idExp * 1000 : Number.POSITIVE_INFINITY;
    const at = Math.min(access, id);
    return Number.isFinite(at) ? at : this.#now() + 3600_000;
  }

  async #saveLink(
    patientId: string,
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
    kinds: readonly ConsentKind[],
  ): Promise<PatientLink> {
    const claims = tokens.claims();
    const names = this.#claims();
    const idPe = claims?.[names.idPe];
    const pairingOid = claims?.[names.pairingOid];
    const solutionOid = claims?.[names.solutionOid];
    if (
      !tokens.id_token ||
      typeof idPe !== 'string' ||
      typeof pairingOid !== 'string' ||
      typeof solutionOid !== 'string'
    ) {
      throw new MedgwError(
        'MEDGW_ERR_PAIRING_CLAIMS',
        `the ID token lacks ${
          [
            [names.idPe, idPe],
            [names.pairingOid, pairingOid],
            [names.solutionOid, solutionOid],
          ]
            .filter(([, v]) => typeof v !== 'string')
            .map(([n]) => n)
            .join(', ') || 'an id_token'
        }`,
      );
    }
    const granted = new Set((tokens.scope ?? this.scopeFor(kinds)).split(' '));
    const prefix = this.#cfg.kindScopePrefix ?? 'mesures.';
    const link: PatientLink = {
      patientId,
      idPe,
      pairingOid: pairingOid.replace(/^urn:oid:/, ''),
      solutionOid: solutionOid.replace(/^urn:oid:/, ''),
      accessToken: tokens.access_token,
      idToken: tokens.id_token,
      refreshToken: tokens.refresh_token,
      expiresAt: this.#expiry(tokens, typeof claims?.exp === 'number' ? claims.exp : undefined),
      scope: tokens.scope,
      linkedAt: this.#now(),
      status: 'linked',
      grantedKinds: CONSENT_KINDS.filter((k) => granted.has(`${prefix}${k}`)),
    };
    await this.#store.put(link);
    return link;
  }

  static #creds(link: PatientLink): MesCredentials {
    return {
      accessToken: link.accessToken,
      idToken: link.idToken,
      idPe: link.idPe,
      pairingOid: link.pairingOid,
      solutionOid: link.solutionOid,
    };
  }

  /** The patient's current credentials, refreshed first when they expire within the margin. */
  async credentials(patientId: string): Promise<MesCredentials> {
    const link = this.#store.get(patientId);
    if (!link) throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${patientId} is not linked`);
    if (link.status === 'reauth-required') {
      throw new MedgwError('MEDGW_ERR_REAUTH_REQUIRED', `patient ${patientId} must be linked again`);
    }
    if (link.expiresAt - (this.#cfg.refreshMarginMs ?? 60_000) <= this.#now()) return this.refresh(patientId);
    return PairingClient.#creds(link);
  }

  /**
   * Refreshes once per patient at a time. Refresh tokens rotate, and a provider that sees a rotated
   * one spent twice revokes the whole chain (RFC 9700 §4.14.2): two racing refreshes would unlink the
   * patient. In this process one refresh runs per patient and the others wait for it; across
   * processes sharing the store, the refresh lock serializes them and the link is read again under
   * it, so a process that finds the tokens already rotated by another uses them and does not spend
   * the refresh token again.
   */
  refresh(patientId: string): Promise<MesCredentials> {
    const running = this.#refreshing.get(patientId);
    if (running) return running;
    // the tokens this refresh replaces: changed under the lock means another process refreshed
    const seen = this.#store.get(patientId)?.accessToken;
    const run = () => this.#doRefresh(patientId, seen);
    const p = (this.#lock ? this.#lock.withLock(patientId, run) : run()).finally(() =>
      this.#refreshing.delete(patientId),
    );
    this.#refreshing.set(patientId, p);
    return p;
  }

  async #doRefresh(patientId: string, seen: string | undefined): Promise<MesCredentials> {
    const link = await this.#store.fresh(patientId);
    if (!link) throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${patientId} is not linked`);
    if (link.status === 'reauth-required') {
      throw new MedgwError('MEDGW_ERR_REAUTH_REQUIRED', `patient ${patientId} must be linked again`);
    }
    if (
      this.#lock &&
      link.accessToken !== seen &&
      link.expiresAt - (this.#cfg.refreshMarginMs ?? 60_000) > this.#now()
    ) {
      // another process refreshed while this one waited for the lock: its tokens are the current ones
      return PairingClient.#creds(link);
    }
    if (!link.refreshToken) {
      await this.#store.update(patientId, { status: 'reauth-required' });
      throw new MedgwError('MEDGW_ERR_REAUTH_REQUIRED', `patient ${patientId} has no refresh token`);
    }
    const config = await this.configuration();
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      tokens = await oidc.refreshTokenGrant(config, link.refreshToken);
    } catch (e) {
      const code = oauthErrorCode(e);
      if (code === 'invalid_grant' || code === 'unauthorized_client' || code === 'invalid_client') {
        await this.#store.update(patientId, { status: 'reauth-required' });
        throw new MedgwError(
          'MEDGW_ERR_REAUTH_REQUIRED',
          `refresh refused (${code}) for patient ${patientId}`,
        );
      }
      throw failure(e, 'token refresh failed');
    }
    const claims = tokens.id_token ? tokens.claims() : undefined;
    // durable before the lock is released: the next holder reads these tokens, never the spent ones
    const updated = await this.#store.update(patientId, {
      accessToken: tokens.access_token,
      idToken: tokens.id_token ?? link.idToken,
      refreshToken: tokens.refresh_token ?? link.refreshToken,
      expiresAt: this.#expiry(tokens, typeof claims?.exp === 'number' ? claims.exp : undefined),
      scope: tokens.scope ?? link.scope,
      status: 'linked',
    });
    return PairingClient.#creds(updated);
  }

  /** Revokes the tokens at the provider and forgets the link. Returns whether the provider confirmed. */
  async unlink(patientId: string): Promise<{ revoked: boolean; message?: string }> {
    const link = this.#store.get(patientId);
    if (!link) throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${patientId} is not linked`);
    let revoked = true;
    let message: string | undefined;
    try {
      const config = await this.configuration();
      if (link.refreshToken)
        await oidc.tokenRevocation(config, link.refreshToken, { token_type_hint: 'refresh_token' });
      await oidc.tokenRevocation(config, link.accessToken, { token_type_hint: 'access_token' });
    } catch (e) {
      revoked = false;
      message = failure(e, 'revocation failed').message;
    }
    await this.#store.remove(patientId);
    return message === undefined ? { revoked } : { revoked, message };
  }
}
