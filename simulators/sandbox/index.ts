/**
 * The Mon espace santé sandbox: an OpenID provider for pairing and consent, the measurements API
 * with its documented answers, a patient page, developer inspection and fault injection.
 * Contract: docs/sandbox.md.
 *
 * One HTTP server: the OpenID provider under /oidc (oidc.ts, interaction.ts), fault injection in front
 * of /fhir (faults.ts), fastify for the rest: the measurements API (api.ts), the patient page
 * (patient.ts, pairings.ts) and developer control under /_sandbox (control.ts, clients.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { MedgwError } from '../../kernel/errors.ts';
import { registerApi } from './api.ts';
import { addInitialClients, type ClientRegistration, OID, parseOrThrow, sandboxError } from './clients.ts';
import { clientRegistrar, registerControl } from './control.ts';
import { createCore, type SandboxCore } from './core.ts';
import { FaultInjector, type Faults, faultsSchema } from './faults.ts';
import { esc, page } from './html.ts';
import {
  DEFAULT_PAIRING_OID,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  GATEWAY_SOLUTION_OID,
  TEST_IDENTITIES,
} from './identities.ts';
import { registerInteractions } from './interaction.ts';
import { type ClaimNames, createProvider, DEFAULT_CLAIM_NAMES, type TokenTtl } from './oidc.ts';
import { pairings } from './pairings.ts';
import { registerPatientPage } from './patient.ts';
import {
  CONTRACT_GENERATIONS,
  type ConsentKind,
  PROFILE_GENERATIONS,
  type ProfileGeneration,
} from './profiles.ts';
import { type AuditEntry, SandboxStore, type StoredDevice, type StoredObservation } from './store.ts';

export type { ClientRegistration } from './clients.ts';
export type { Faults } from './faults.ts';
export type { ConsentKind } from './profiles.ts';
export { CONTRACT_GENERATIONS } from './profiles.ts';
export {
  DEFAULT_PAIRING_OID,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  GATEWAY_SOLUTION_OID,
  TEST_IDENTITIES,
};

export interface SandboxOptions {
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /** Public base URL when the sandbox sits behind a proxy; the issuer is `<issuerUrl>/oidc`. */
  readonly issuerUrl?: string;
  readonly faults?: Faults;
  /** Clock for received times, audit times and search (epoch ms). Token lifetimes use real time. */
  readonly clock?: { now(): number };
  readonly idTokenHeader?: string;
  readonly claimNames?: Partial<ClaimNames>;
  readonly pairingOid?: string;
  readonly clients?: readonly ClientRegistration[];
  /**
   * Canonical families and contract the measurements API takes (profiles.ts): default `['ans', 'mes',
   * 'ens']`, MES API Mesures 1.5.2 (glucose in the feeding Bundle); `['ans-3.2.0']`, ans.fhir.fr.mesures
   * 3.2.0 (glucose in the biology Bundle). docs/sandbox.md, Glucose Bundle generations.
   */
  readonly profileGenerations?: readonly ProfileGeneration[];
  readonly ttl?: Partial<TokenTtl>;
}

export interface Sandbox {
  readonly url: string;
  readonly issuer: string;
  readonly idTokenHeader: string;
  readonly claimNames: ClaimNames;
  readonly pairingOid: string;
  observations(): StoredObservation[];
  devices(): StoredDevice[];
  audit(): AuditEntry[];
  faults(): Faults;
  setFaults(f: Faults): void;
  clearFaults(): void;
  registerClient(c: ClientRegistration): Promise<void>;
  setSolutionOid(clientId: string, oid: string): void;
  /** Withdraws consent for kinds (as the patient page does). */
  revokeConsent(sub: string, clientId: string, kinds: readonly ConsentKind[]): void;
  close(): Promise<void>;
}

/** The options checked, with their defaults: what the provider and the API are built with. */
interface Settings {
  readonly claimNames: ClaimNames;
  readonly pairingOid: string;
  readonly idTokenHeader: string;
  readonly generations: readonly ProfileGeneration[];
  readonly baseTtl: TokenTtl;
}

function settingsOf(options: SandboxOptions): Settings {
  const pairingOid = options.pairingOid ?? DEFAULT_PAIRING_OID;
  if (!OID.test(pairingOid))
    throw new MedgwError('MEDGW_ERR_CONFIG', `sandbox pairingOid "${pairingOid}" is not an OID`);
  const generations = options.profileGenerations ?? CONTRACT_GENERATIONS['mes-1.5.2'];
  const unknownGeneration = generations.find((g) => !PROFILE_GENERATIONS.includes(g));
  if (generations.length === 0 || unknownGeneration !== undefined)
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      `sandbox profileGenerations: "${unknownGeneration ?? '(none)'}" is not one of ${PROFILE_GENERATIONS.join(', ')}`,
    );
  return {
    claimNames: { ...DEFAULT_CLAIM_NAMES, ...options.claimNames },
    pairingOid,
    idTokenHeader: options.idTokenHeader ?? 'X-Id-Token',
    generations,
    baseTtl: { accessToken: 3600, idToken: 3600, refreshToken: 30 * 86400, deviceCode: 600, ...options.ttl },
  };
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = settingsOf(options);
  const faults = new FaultInjector(parseOrThrow(faultsSchema, options.faults ?? {}, 'sandbox faults'));
  const store = new SandboxStore();
  addInitialClients(store, options.clients ?? []);
  const core = createCore(store, options.clock ?? { now: () => Date.now() }, faults);
  const consent = pairings(core);

  const app = Fastify({ logger: false, serverFactory: (handler) => createServer(dispatcher(core, handler)) });
  await app.register(formbody);
  app.setErrorHandler(errorHandler);
  registerHome(app);
  registerInteractions(app, { provider: core.provider, store, onPaired: consent.onPaired });
  registerPatientPage(app, { store, revoke: consent.revokeConsent, unpair: consent.unpair });
  registerApi(app, {
    provider: core.provider,
    publicKey: () => {
      if (!core.setup) throw sandboxError('the sandbox is not listening yet');
      return core.setup.publicKey;
    },
    issuer: () => core.issuer,
    store,
    claimNames: settings.claimNames,
    idTokenHeader: settings.idTokenHeader,
    generations: settings.generations,
    now: () => core.clock.now(),
    audit: core.audit,
  });
  registerControl(app, core);

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const server: Server = app.server;
  const url = listeningUrl(server, options.issuerUrl);
  startProvider(core, settings, `${url}/oidc`);
  return sandboxHandle(core, settings, url, consent.revokeConsent, async () => {
    server.closeAllConnections();
    await app.close();
  });
}

/**
 * The one server's request handler: the OpenID provider under /oidc, the faults in force in front of
 * /fhir, fastify for everything else.
 */
function dispatcher(
  core: SandboxCore,
  fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  let oidcHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (url === '/oidc' || url.startsWith('/oidc/') || url.startsWith('/oidc?')) {
      // oidc-provider derives its mount path from originalUrl (Express/Koa mount convention)
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
      req.url = url.slice('/oidc'.length) || '/';
      oidcHandler ??= core.provider().callback();
      oidcHandler(req, res);
      return;
    }
    if (url === '/fhir' || url.startsWith('/fhir/') || url.startsWith('/fhir?')) {
      if (await core.faults.answer(req, res)) return;
    }
    fastifyHandler(req, res);
  };
  return (req, res) => {
    dispatch(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
}

/** A sandbox refusal is a 400 with its code; pages for people get a plain page, the API JSON. */
function errorHandler(
  err: unknown,
  req: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[1],
  reply: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[2],
) {
  if (err instanceof MedgwError) return reply.code(400).send({ error: err.toJSON() });
  const e = err as {
    statusCode?: unknown;
    status?: unknown;
    error_description?: unknown;
    message?: unknown;
  };
  const code =
    typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : 500;
  const message = String(e.error_description ?? e.message ?? 'internal error');
  if (req.url.startsWith('/interaction/') || req.url.startsWith('/patient')) {
    // pages for people: an expired or unknown sign-in says so in plain words
    return reply
      .code(code)
      .type('text/html; charset=utf-8')
      .send(
        page(
          'Erreur',
          `<p class="error" role="alert">${esc(message)}</p><p><a href="/patient">Mon espace santé</a></p>`,
        ),
      );
  }
  return reply.code(code).send({ error: { message } });
}

function registerHome(app: FastifyInstance): void {
  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(
      page(
        'Bac à sable Mon espace santé',
        `<ul>
<li><a href="/patient">Espace patient</a> (connexion, solutions associées, accords, échanges)</li>
<li><a href="/oidc/device">Saisir un code d'appariement</a></li>
<li><a href="/oidc/.well-known/openid-configuration">OpenID discovery</a></li>
<li><a href="/_sandbox/observations">Mesures reçues (JSON)</a>, <a href="/_sandbox/audit">audit (JSON)</a>, <a href="/_sandbox/identities">identités de test (JSON)</a></li>
</ul>`,
      ),
    ),
  );
}

/** The public base URL: the one given (behind a proxy), else the address the server listens on. */
function listeningUrl(server: Server, issuerUrl: string | undefined): string {
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return (issuerUrl ?? `http://${hostForUrl}:${addr.port}`).replace(/\/$/, '');
}

/** The OpenID provider at its issuer URL, token lifetimes shortened by the faults in force, audited. */
function startProvider(core: SandboxCore, settings: Settings, issuer: string): void {
  const { faults, audit } = core;
  const setup = createProvider({
    issuer,
    store: core.store,
    claimNames: settings.claimNames,
    pairingOid: settings.pairingOid,
    ttl: () => ({
      ...settings.baseTtl,
      ...(faults.current.accessTokenTtlSeconds ? { accessToken: faults.current.accessTokenTtlSeconds } : {}),
      ...(faults.current.idTokenTtlSeconds ? { idToken: faults.current.idTokenTtlSeconds } : {}),
    }),
  });
  core.listening(setup, issuer);
  setup.provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token')
      audit({ event: 'token.refreshed', ...(ctx.oidc.client ? { clientId: ctx.oidc.client.clientId } : {}) });
  });
  setup.provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) => {
    // oidc-provider's refresh_token grant: InvalidGrant('refresh token already used') after revoking
    if (ctx.oidc.params?.grant_type === 'refresh_token' && /already used/.test(err.error_detail ?? ''))
      audit({
        event: 'token.reuse-revoked',
        ...(ctx.oidc.client ? { clientId: ctx.oidc.client.clientId } : {}),
        message: 'a rotated refresh token was used again: the grant is revoked',
      });
  });
  setup.provider.on('server_error', () => {
    // errors are rendered to the caller by renderError; nothing to log here (no token in logs)
  });
}

/** What a test or the CLI holds of a running sandbox. */
function sandboxHandle(
  core: SandboxCore,
  settings: Settings,
  url: string,
  revokeConsent: Sandbox['revokeConsent'],
  close: () => Promise<void>,
): Sandbox {
  const { store, faults } = core;
  const registerClient = clientRegistrar(core);
  return {
    url,
    issuer: core.issuer,
    idTokenHeader: settings.idTokenHeader,
    claimNames: settings.claimNames,
    pairingOid: settings.pairingOid,
    observations: () => [...store.observations],
    devices: () => [...store.devices.values()],
    audit: () => [...store.audit],
    faults: () => faults.current,
    setFaults: (f) => {
      faults.merge(parseOrThrow(faultsSchema, f, 'faults'));
    },
    clearFaults: () => {
      faults.clear();
    },
    registerClient: async (c) => {
      registerClient(c);
    },
    setSolutionOid: (clientId, oid) => {
      const c = store.clients.get(clientId);
      if (!c || !OID.test(oid)) throw sandboxError(`no client ${clientId} or "${oid}" is not an OID`);
      c.solutionOid = oid;
    },
    revokeConsent,
    close,
  };
}
