/**
 * The admin API (`/api/v1/…`) on the gateway's HTTP server (gateway/http/server.ts): the registry,
 * the outbox and the audit log for the command line and scripts, behind the admin guard (loopback and
 * the admin token). Request bodies, parameters and query strings are the zod shapes of ops.ts, checked
 * by fastify through the zod type provider (gateway/http/zod.ts) and typed from them; every change
 * goes through the operations service.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  type AdminHook,
  HttpServer as GatewayHttpServer,
  type HttpServerOptions,
  requireAdminPlugin,
} from '../http/server.ts';
import { type ZodTypeProvider, zodValidator } from '../http/zod.ts';
import {
  AddDeviceBody,
  AddPatientBody,
  type AdminOps,
  AssignBody,
  AssignReadingBody,
  AuditQuery,
  OutboxQuery,
  RetryReadingBody,
} from './ops.ts';

export { sendError, statusOf } from '../http/errors.ts';

const IdParams = z.object({ id: z.string() });

type Api = ReturnType<typeof typed>;
const typed = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>();
/** A route's OpenAPI summary and tags; it also lists the route on `GET /api/v1`. */
type Doc = (
  method: string,
  url: string,
  summary: string,
  tags: readonly string[],
) => {
  summary: string;
  tags: string[];
};

/** The admin API routes as a plugin (register with prefix `/api/v1`). */
export function adminApi(ops: AdminOps, requireAdmin: AdminHook) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(requireAdminPlugin(requireAdmin));
    app.setValidatorCompiler(zodValidator('MEDGW_ERR_ADMIN_BAD_REQUEST'));
    const api = typed(app);
    const routes: string[] = [];
    const doc: Doc = (method, url, summary, tags) => {
      routes.push(`${method} /api/v1${url}`);
      return { summary, tags: [...tags] };
    };

    api.get('', { schema: doc('GET', '', 'The admin API routes', ['admin']) }, async () => ({ routes }));
    deviceRoutes(api, ops, doc);
    patientRoutes(api, ops, doc);
    readingRoutes(api, ops, doc);
    auditRoutes(api, ops, doc);
  };
}

/** The registry's devices: list, add, show, remove, assign. */
function deviceRoutes(api: Api, ops: AdminOps, doc: Doc): void {
  api.get(
    '/devices',
    { schema: doc('GET', '/devices', 'Devices of the registry (secrets never shown)', ['devices']) },
    async () => ({ devices: await ops.listDevices() }),
  );
  api.post(
    '/devices',
    {
      schema: {
        ...doc('POST', '/devices', 'Add a device; an MQTT device gets its secret once, in this answer', [
          'devices',
        ]),
        body: AddDeviceBody,
      },
    },
    async (req) => ops.addDevice(req.body),
  );
  api.get(
    '/devices/:id',
    { schema: { ...doc('GET', '/devices/:id', 'One device', ['devices']), params: IdParams } },
    async (req) => ({ device: await ops.getDevice(req.params.id) }),
  );
  api.delete(
    '/devices/:id',
    {
      schema: {
        ...doc('DELETE', '/devices/:id', 'Remove a device from the registry', ['devices']),
        params: IdParams,
      },
    },
    async (req) => {
      await ops.removeDevice(req.params.id);
      return { removed: true };
    },
  );
  api.post(
    '/devices/:id/assign',
    {
      schema: {
        ...doc(
          'POST',
          '/devices/:id/assign',
          'Assign a device, or one of its household users, to a patient (null: unassign)',
          ['devices'],
        ),
        params: IdParams,
        body: AssignBody,
      },
    },
    async (req) => ({ device: await ops.assignDevice(req.params.id, req.body) }),
  );
}

/** The registry's patients: list, add, remove. */
function patientRoutes(api: Api, ops: AdminOps, doc: Doc): void {
  api.get(
    '/patients',
    { schema: doc('GET', '/patients', 'Patients of the registry', ['patients']) },
    async () => ({ patients: await ops.listPatients() }),
  );
  api.post(
    '/patients',
    { schema: { ...doc('POST', '/patients', 'Add a patient', ['patients']), body: AddPatientBody } },
    async (req) => ({ patient: await ops.addPatient(req.body) }),
  );
  api.delete(
    '/patients/:id',
    {
      schema: {
        ...doc('DELETE', '/patients/:id', 'Remove a patient (no device may point to it)', ['patients']),
        params: IdParams,
      },
    },
    async (req) => {
      await ops.removePatient(req.params.id);
      return { removed: true };
    },
  );
}

/** The outbox's readings (retry, discard, assign) and the journal's counts. */
function readingRoutes(api: Api, ops: AdminOps, doc: Doc): void {
  api.get(
    '/outbox',
    {
      schema: {
        ...doc('GET', '/outbox', 'Readings of the outbox', ['readings']),
        querystring: OutboxQuery,
      },
    },
    async (req) => ({ readings: await ops.outbox(req.query) }),
  );
  api.post(
    '/outbox/:id/retry',
    {
      schema: {
        ...doc('POST', '/outbox/:id/retry', 'Send a dead-letter, held or quarantined reading again', [
          'readings',
        ]),
        params: IdParams,
        body: RetryReadingBody,
      },
    },
    async (req) => ({ reading: await ops.retryReading(req.params.id, req.body) }),
  );
  api.post(
    '/outbox/:id/discard',
    {
      schema: {
        ...doc(
          'POST',
          '/outbox/:id/discard',
          'Discard a pending, held or quarantined reading (values purged, audited)',
          ['readings'],
        ),
        params: IdParams,
      },
    },
    async (req) => ({ reading: await ops.discardReading(req.params.id) }),
  );
  api.post(
    '/outbox/:id/assign',
    {
      schema: {
        ...doc('POST', '/outbox/:id/assign', 'Attribute a quarantined reading to a patient; it is sent', [
          'readings',
        ]),
        params: IdParams,
        body: AssignReadingBody,
      },
    },
    async (req) => {
      const { patientId, moment } = req.body;
      return {
        reading: await ops.assignReading(req.params.id, patientId, moment !== undefined ? { moment } : {}),
      };
    },
  );

  api.get(
    '/journal/stats',
    { schema: doc('GET', '/journal/stats', 'Journal counts by state, oldest unsent age', ['readings']) },
    async () => ({ stats: await ops.journalStats() }),
  );
}

/** The audit log and its hash chain. */
function auditRoutes(api: Api, ops: AdminOps, doc: Doc): void {
  api.get(
    '/audit',
    { schema: { ...doc('GET', '/audit', 'Audit entries, filtered', ['audit']), querystring: AuditQuery } },
    async (req) => ({ entries: await ops.auditList(req.query) }),
  );
  api.get(
    '/audit/verify',
    { schema: doc('GET', '/audit/verify', 'Verify the audit hash chain', ['audit']) },
    async () => ops.auditVerify(),
  );
}

/** Puts the admin API on the server under /api/v1 (before it starts). */
export function registerAdminApi(server: GatewayHttpServer, ops: AdminOps): void {
  server.register(adminApi(ops, server.requireAdmin), { prefix: '/api/v1' });
}

/** The gateway's HTTP server with the admin API on it (what `medgw start` and the tests build). */
export function adminServer(options: HttpServerOptions, ops: AdminOps): HttpServer {
  return new HttpServer(options, ops);
}

/** The gateway's HTTP server (gateway/http/server.ts), with the admin API on it when `ops` is given. */
export class HttpServer extends GatewayHttpServer {
  constructor(options: HttpServerOptions, ops?: AdminOps) {
    super(options);
    if (ops) registerAdminApi(this, ops);
  }
}
