/**
 * OAuth clients of the sandbox: the gateway's pre-registered client (docs/sandbox.md) and the ones a
 * developer registers, at start or at run time, each with the solution OID the national side knows.
 */
import { z } from 'zod';
import { MedgwError } from '../../kernel/errors.ts';
import { GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, GATEWAY_SOLUTION_OID } from './identities.ts';
import type { ClientRecord, SandboxStore } from './store.ts';

/** An object identifier (dotted decimal, ITU-T X.660). */
export const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

export const clientSchema = z
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

export function sandboxError(message: string): MedgwError {
  return new MedgwError('MEDGW_ERR_SANDBOX_REQUEST', message);
}

/** The value, or a MEDGW_ERR_SANDBOX_REQUEST naming the first problem (path and message). */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw sandboxError(
      `${what}: ${first ? `${first.path.join('.') || '(body)'}: ${first.message}` : 'invalid'}`,
    );
  }
  return r.data;
}

/** Stores a (validated) client registration. */
export function addClient(store: SandboxStore, c: ClientRegistration): ClientRecord {
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
}

/** The gateway's pre-registered client, then the ones the options give (validated). */
export function addInitialClients(store: SandboxStore, clients: readonly ClientRegistration[]): void {
  addClient(store, {
    client_id: GATEWAY_CLIENT_ID,
    client_secret: GATEWAY_CLIENT_SECRET,
    client_name: 'medgw gateway',
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'],
    solution_oid: GATEWAY_SOLUTION_OID,
  });
  for (const c of clients) addClient(store, parseOrThrow(clientSchema, c, 'sandbox client'));
}

/** A client as the inspection API shows it (no secret). */
export function publicClient(c: ClientRecord) {
  return {
    client_id: c.clientId,
    client_name: c.clientName,
    redirect_uris: c.redirectUris,
    application_type: c.applicationType,
    token_endpoint_auth_method: c.authMethod,
    solution_oid: c.solutionOid,
  };
}
