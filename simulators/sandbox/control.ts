/**
 * Developer inspection and control under /_sandbox (docs/sandbox.md): what the sandbox received
 * (observations, devices, audit), the test identities, the clients, and the faults in force.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  addClient,
  type ClientRegistration,
  clientSchema,
  OID,
  parseOrThrow,
  publicClient,
  sandboxError,
} from './clients.ts';
import type { SandboxCore } from './core.ts';
import { faultsSchema } from './faults.ts';
import { TEST_IDENTITIES } from './identities.ts';
import { clientMetadata } from './oidc.ts';
import type { ClientRecord } from './store.ts';

/** Registers a client at run time: stored, and known to the running provider. */
export function clientRegistrar(core: SandboxCore): (body: unknown) => ClientRecord {
  return (body) => {
    const c: ClientRegistration = parseOrThrow(clientSchema, body, 'client registration');
    if (core.store.clients.has(c.client_id))
      throw sandboxError(`client ${c.client_id} is already registered`);
    const rec = addClient(core.store, c);
    // a client added at run time lives in the provider's Client adapter model
    core.setup?.db
      .model('Client')
      .set(rec.clientId, { payload: { ...clientMetadata(rec) }, expiresAt: undefined });
    return rec;
  };
}

export function registerControl(app: FastifyInstance, core: SandboxCore): void {
  const { store, faults } = core;
  const registerClient = clientRegistrar(core);

  app.get('/_sandbox/observations', async () => store.observations);
  app.get('/_sandbox/devices', async () => [...store.devices.values()]);
  app.get('/_sandbox/audit', async () => store.audit);
  app.get('/_sandbox/identities', async () => TEST_IDENTITIES);

  app.get('/_sandbox/faults', async () => faults.current);
  app.post('/_sandbox/faults', async (req) => faults.merge(parseOrThrow(faultsSchema, req.body, 'faults')));
  app.delete('/_sandbox/faults', async () => faults.clear());

  app.get('/_sandbox/clients', async () => [...store.clients.values()].map(publicClient));
  app.post('/_sandbox/clients', async (req, reply) =>
    reply.code(201).send(publicClient(registerClient(req.body))),
  );
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
}
