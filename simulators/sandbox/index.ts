/**
 * The Mon espace santé sandbox: an OpenID provider for pairing and consent, the measurements API
 * with its documented answers, a patient page, developer inspection and fault injection.
 * Contract: docs/sandbox.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import type { KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { z } from 'zod';
import { MedgwError } from '../../kernel/errors.ts';
import { registerApi } from './api.ts';
import { esc, page } from './html.ts';
import {
  DEFAULT_PAIRING_OID,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  GATEWAY_SOLUTION_OID,
  identityBySub,
  TEST_IDENTITIES,
} from './identities.ts';
import { registerInteractions } from './interaction.ts';
import {
  type ClaimNames,
  clientMetadata,
  createProvider,
  DEFAULT_CLAIM_NAMES,
  type ProviderSetup,
  type TokenTtl,
} from './oidc.ts';
import { registerPatientPage } from './patient.ts';
import {
  CONTRACT_GENERATIONS,
  type ConsentKind,
  PROFILE_GENERATIONS,
  type ProfileGeneration,
} from './profiles.ts';
import {
  type AuditEntry,
  type ClientRecord,
  SandboxStore,
  type StoredDevice,
  type StoredObservation,
} from './store.ts';

export type { ConsentKind } from './profiles.ts';
export { CONTRACT_GENERATIONS } from './profiles.ts';
export {
  DEFAULT_PAIRING_OID,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  GATEWAY_SOLUTION_OID,
  TEST_IDENTITIES,
};

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

const faultsSchema = z
  .object({
    status: z
      .object({ code: z.number().int().min(500).max(599), times: z.number().int().positive().optional() })
      .strict(),
    rateLimit: z
      .object({ retryAfterSeconds: z.number().int().min(0), times: z.number().int().positive().optional() })
      .strict(),
    latencyMs: z.number().int().min(0).max(60_000),
    drop: z.object({ times: z.number().int().positive().optional() }).strict(),
    accessTokenTtlSeconds: z.number().int().positive(),
    idTokenTtlSeconds: z.number().int().positive(),
  })
  .partial()
  .strict();

export type Faults = z.infer<typeof faultsSchema>;

const clientSchema = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9._-]{3,64}$/),
    client_secret: z.string().min(16),
    redirect_uris: z.array(z.string().url()).min(1),
    solution_oid: z.string().regex(OID),
    client_name: z.string().min(1).max(100).optional(),
    application_type: z.enum(['web', 'native']).optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  })
  .strict();

export type ClientRegistration = z.infer<typeof clientSchema>;

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

function sandboxError(message: string): MedgwError {
  return new MedgwError('MEDGW_ERR_SANDBOX_REQUEST', message);
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw sandboxError(
      `${what}: ${first ? `${first.path.join('.') || '(body)'}: ${first.message}` : 'invalid'}`,
    );
  }
  return r.data;
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const store = new SandboxStore();
  const clock = options.clock ?? { now: () => Date.now() };
  const claimNames: ClaimNames = { ...DEFAULT_CLAIM_NAMES, ...options.claimNames };
  const pairingOid = options.pairingOid ?? DEFAULT_PAIRING_OID;
  if (!OID.test(pairingOid))
    throw new MedgwError('MEDGW_ERR_CONFIG', `sandbox pairingOid "${pairingOid}" is not an OID`);
  const idTokenHeader = options.idTokenHeader ?? 'X-Id-Token';
  const generations = options.profileGenerations ?? CONTRACT_GENERATIONS['mes-1.5.2'];
  const unknownGeneration = generations.find((g) => !PROFILE_GENERATIONS.includes(g));
  if (generations.length === 0 || unknownGeneration !== undefined)
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      `sandbox profileGenerations: "${unknownGeneration ?? '(none)'}" is not one of ${PROFILE_GENERATIONS.join(', ')}`,
    );
  const baseTtl: TokenTtl = {
    accessToken: 3600,
    idToken: 3600,
    refreshToken: 30 * 86400,
    deviceCode: 600,
    ...options.ttl,
  };
  let faults: Faults = parseOrThrow(faultsSchema, options.faults ?? {}, 'sandbox faults');

  const addClient = (c: ClientRegistration): ClientRecord => {
    const rec: ClientRecord = {
      clientId: c.client_id,
      clientSecret: c.client_secret,
      clientName: c.client_name ?? c.client_id,
      redirectUris: c.redirect_uris,
      applicationType: c.application_type ?? 'web',
      authMethod: c.token_endpoint_auth_method ?? 'client_secret_basic',
      solutionOid: c.solution_oid,
    };
    store.clients.set(rec.clientId, rec);
    return rec;
  };
  addClient({
    client_id: GATEWAY_CLIENT_ID,
    client_secret: GATEWAY_CLIENT_SECRET,
    client_name: 'medgw gateway',
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'],
    solution_oid: GATEWAY_SOLUTION_OID,
  });
  for (const c of options.clients ?? []) addClient(parseOrThrow(clientSchema, c, 'sandbox client'));

  const audit = (e: Omit<AuditEntry, 'at'>) => {
    store.audit.push({ at: new Date(clock.now()).toISOString(), ...e });
  };
  const idPeOf = (sub: string) => identityBySub(sub)?.idPe;

  let setup: ProviderSetup | undefined;
  let oidcHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let issuer = '';
  const provider = (): Provider => {
    if (!setup) throw sandboxError('the sandbox is not listening yet');
    return setup.provider;
  };

  // --- one HTTP server: the OpenID provider under /oidc, faults on /fhir, fastify for the rest ----
  const takeTimes = <K extends 'status' | 'rateLimit' | 'drop'>(key: K): Faults[K] | undefined => {
    const f = faults[key];
    if (!f) return undefined;
    if (f.times !== undefined) {
      const left = f.times - 1;
      faults = left > 0 ? { ...faults, [key]: { ...f, times: left } } : { ...faults, [key]: undefined };
    }
    return f;
  };

  const dispatch = async (
    req: IncomingMessage,
    res: ServerResponse,
    fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<void> => {
    const url = req.url ?? '/';
    if (url === '/oidc' || url.startsWith('/oidc/') || url.startsWith('/oidc?')) {
      // oidc-provider derives its mount path from originalUrl (Express/Koa mount convention)
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
      req.url = url.slice('/oidc'.length) || '/';
      oidcHandler ??= provider().callback();
      oidcHandler(req, res);
      return;
    }
    if (url === '/fhir' || url.startsWith('/fhir/') || url.startsWith('/fhir?')) {
      if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (takeTimes('drop')) {
        req.socket.destroy();
        return;
      }
      const status = takeTimes('status');
      if (status) {
        req.resume();
        res.writeHead(status.code, { 'content-type': 'application/fhir+json; charset=utf-8' });
        res.end(
          JSON.stringify({
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'error',
                code: 'transient',
                diagnostics: `Service unavailable (sandbox fault ${status.code}).`,
              },
            ],
          }),
        );
        return;
      }
      const limit = takeTimes('rateLimit');
      if (limit) {
        req.resume();
        res.writeHead(429, {
          'content-type': 'application/fhir+json; charset=utf-8',
          'retry-after': String(limit.retryAfterSeconds),
        });
        res.end(
          JSON.stringify({
            resourceType: 'OperationOutcome',
            issue: [
              { severity: 'error', code: 'throttled', diagnostics: 'Too many requests (sandbox fault 429).' },
            ],
          }),
        );
        return;
      }
    }
    fastifyHandler(req, res);
  };

  const app = Fastify({
    logger: false,
    serverFactory: (handler) =>
      createServer((req, res) => {
        dispatch(req, res, handler).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      }),
  });
  await app.register(formbody);

  app.setErrorHandler((err, req, reply) => {
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
  });

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

  registerInteractions(app, {
    provider,
    store,
    onPaired: (sub, clientId, grantId, kinds) => {
      const existing = store.pairing(sub, clientId);
      const at = new Date(clock.now()).toISOString();
      store.setPairing({
        sub,
        clientId,
        kinds: new Set(kinds),
        pairedAt: at,
        grantIds: new Set([...(existing?.grantIds ?? []), grantId]),
      });
      const solutionOid = store.clients.get(clientId)?.solutionOid;
      const idPe = idPeOf(sub);
      audit({
        event: 'pairing',
        clientId,
        ...(solutionOid ? { solutionOid } : {}),
        ...(idPe ? { idPe } : {}),
      });
      for (const kind of kinds) {
        audit({
          event: 'consent',
          clientId,
          ...(solutionOid ? { solutionOid } : {}),
          ...(idPe ? { idPe } : {}),
          kind,
        });
      }
    },
  });

  const revokeConsent = (sub: string, clientId: string, kinds: readonly ConsentKind[]) => {
    const p = store.pairing(sub, clientId);
    if (!p) throw sandboxError(`no pairing of ${sub} with client ${clientId}`);
    const idPe = idPeOf(sub);
    for (const k of kinds) {
      if (!p.kinds.delete(k)) continue;
      audit({
        event: 'consent.revoked',
        clientId,
        solutionOid: store.clients.get(clientId)?.solutionOid ?? '',
        ...(idPe ? { idPe } : {}),
        kind: k,
      });
    }
  };

  const unpair = async (sub: string, clientId: string) => {
    const p = store.removePairing(sub, clientId);
    if (!p) throw sandboxError(`no pairing of ${sub} with client ${clientId}`);
    for (const grantId of p.grantIds) {
      const grant = await provider().Grant.find(grantId);
      await grant?.destroy();
      setup?.db.revokeByGrantId(grantId);
    }
    const idPe = idPeOf(sub);
    audit({
      event: 'unpaired',
      clientId,
      solutionOid: store.clients.get(clientId)?.solutionOid ?? '',
      ...(idPe ? { idPe } : {}),
    });
  };

  registerPatientPage(app, { store, revoke: revokeConsent, unpair });

  registerApi(app, {
    provider,
    publicKey: () => {
      if (!setup) throw sandboxError('the sandbox is not listening yet');
      return setup.publicKey;
    },
    issuer: () => issuer,
    store,
    claimNames,
    idTokenHeader,
    generations,
    now: () => clock.now(),
    audit,
  });

  // --- developer inspection and control ------------------------------------------------------
  const publicClient = (c: ClientRecord) => ({
    client_id: c.clientId,
    client_name: c.clientName,
    redirect_uris: c.redirectUris,
    application_type: c.applicationType,
    token_endpoint_auth_method: c.authMethod,
    solution_oid: c.solutionOid,
  });
  app.get('/_sandbox/observations', async () => store.observations);
  app.get('/_sandbox/devices', async () => [...store.devices.values()]);
  app.get('/_sandbox/audit', async () => store.audit);
  app.get('/_sandbox/identities', async () => TEST_IDENTITIES);
  app.get('/_sandbox/clients', async () => [...store.clients.values()].map(publicClient));
  app.get('/_sandbox/faults', async () => faults);
  app.post('/_sandbox/faults', async (req) => {
    faults = { ...faults, ...parseOrThrow(faultsSchema, req.body, 'faults') };
    return faults;
  });
  app.delete('/_sandbox/faults', async () => {
    faults = {};
    return faults;
  });

  const registerClient = async (body: unknown) => {
    const c = parseOrThrow(clientSchema, body, 'client registration');
    if (store.clients.has(c.client_id)) throw sandboxError(`client ${c.client_id} is already registered`);
    const rec = addClient(c);
    // a client added at run time lives in the provider's Client adapter model
    setup?.db
      .model('Client')
      .set(rec.clientId, { payload: { ...clientMetadata(rec) }, expiresAt: undefined });
    return rec;
  };
  app.post('/_sandbox/clients', async (req, reply) => {
    const rec = await registerClient(req.body);
    return reply.code(201).send(publicClient(rec));
  });
  app.patch<{ Params: { clientId: string } }>('/_sandbox/clients/:clientId', async (req) => {
    const body = parseOrThrow(
      z.object({ solution_oid: z.string().regex(OID) }).strict(),
      req.body,
      'client update',
    );
    const c = store.clients.get(req.params.clientId);
    if (!c) throw sandboxError(`no client ${req.params.clientId}`);
    c.solutionOid = body.solution_oid;
    return publicClient(c);
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const server: Server = app.server;
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = (options.issuerUrl ?? `http://${hostForUrl}:${addr.port}`).replace(/\/$/, '');
  issuer = `${url}/oidc`;
  setup = createProvider({
    issuer,
    store,
    claimNames,
    pairingOid,
    ttl: () => ({
      ...baseTtl,
      ...(faults.accessTokenTtlSeconds ? { accessToken: faults.accessTokenTtlSeconds } : {}),
      ...(faults.idTokenTtlSeconds ? { idToken: faults.idTokenTtlSeconds } : {}),
    }),
  });
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

  return {
    url,
    issuer,
    idTokenHeader,
    claimNames,
    pairingOid,
    observations: () => [...store.observations],
    devices: () => [...store.devices.values()],
    audit: () => [...store.audit],
    faults: () => faults,
    setFaults: (f) => {
      faults = { ...faults, ...parseOrThrow(faultsSchema, f, 'faults') };
    },
    clearFaults: () => {
      faults = {};
    },
    registerClient: async (c) => {
      await registerClient(c);
    },
    setSolutionOid: (clientId, oid) => {
      const c = store.clients.get(clientId);
      if (!c || !OID.test(oid)) throw sandboxError(`no client ${clientId} or "${oid}" is not an OID`);
      c.solutionOid = oid;
    },
    revokeConsent,
    close: async () => {
      server.closeAllConnections();
      await app.close();
    },
  };
}
