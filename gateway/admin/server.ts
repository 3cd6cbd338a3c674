/**
 * The local HTTP server (fastify) and the admin API on it. The admin API (`/api/v1/…`) answers only
 * loopback clients that send `Authorization: Bearer <token of the data directory>`; every refusal is
 * a JSON `{"error":{"code","message","hint"}}`. Other components add their routes (forwarder,
 * pairing, pages, metrics) with `register()` before the server starts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginCallback,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { z } from 'zod';
import { type Catalogue, MedgwError } from '../../drivers/errors.ts';
import type { Component } from '../contracts.ts';
import { removeAdminEndpoint, writeAdminEndpoint } from '../datadir.ts';
import { errorHandler, sendError } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import {
  AddDeviceBody,
  AddPatientBody,
  type AdminOps,
  AssignBody,
  AssignReadingBody,
  AuditQuery,
  OutboxQuery,
} from './ops.ts';

export { sendError, statusOf } from '../http/errors.ts';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function isLoopback(address: string | undefined): boolean {
  return (
    address === '127.0.0.1' ||
    address === '::1' ||
    address === '::ffff:127.0.0.1' ||
    !!address?.startsWith('127.')
  );
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly log: Logger;
  /** When set, the listening URL is written there for the command line (admin-endpoint.json). */
  readonly dataDir?: string;
  /** Where each refusal's HTTP status is read; default the error catalogue itself. */
  readonly catalogue?: Catalogue;
}

type Plugin = FastifyPluginAsync<Record<string, unknown>> | FastifyPluginCallback<Record<string, unknown>>;

export class HttpServer implements Component {
  readonly name = 'http';
  readonly app: FastifyInstance;
  private readonly tokenDigest: Buffer;
  /** The routes registered on the server (all components), filled as they are added. */
  readonly routes: Array<{ method: string | string[]; url: string; schema?: unknown }> = [];
  private listening: string | undefined;

  constructor(
    private readonly options: HttpServerOptions,
    ops: AdminOps,
  ) {
    this.tokenDigest = digest(options.token);
    const log = options.log;
    this.app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true });
    // every route as registered (method, full URL, schema), for the OpenAPI document of the pages
    this.app.addHook('onRoute', (r) => {
      this.routes.push({ method: r.method, url: r.url, schema: r.schema });
    });
    this.app.setErrorHandler(
      errorHandler({ log, badRequest: 'MEDGW_ERR_ADMIN_BAD_REQUEST', catalogue: options.catalogue }),
    );
    this.app.setNotFoundHandler((req, reply) =>
      sendError(
        reply,
        new MedgwError('MEDGW_ERR_ADMIN_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
      ),
    );
    this.app.addHook('onResponse', async (req, reply) => {
      // the route pattern, never the concrete URL (ids are identities)
      log.debug(
        { method: req.method, route: req.routeOptions.url ?? '(none)', status: reply.statusCode },
        'http',
      );
    });
    this.app.register(
      async (api) => {
        api.addHook('onRequest', this.requireAdmin);
        // unknown admin routes are still behind the token: no route discovery without it
        api.setNotFoundHandler((req, reply) =>
          sendError(
            reply,
            new MedgwError('MEDGW_ERR_ADMIN_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
          ),
        );
        adminRoutes(api, ops);
      },
      { prefix: '/api/v1' },
    );
  }

  /** onRequest hook other components can put on their own admin routes. */
  readonly requireAdmin = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!isLoopback(req.socket.remoteAddress)) {
      await sendError(
        reply,
        new MedgwError('MEDGW_ERR_ADMIN_UNAUTHORIZED', 'the admin API answers loopback clients only'),
      );
      return;
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(header);
    if (!m || !timingSafeEqual(digest(m[1]!), this.tokenDigest)) {
      await sendError(
        reply,
        new MedgwError(
          'MEDGW_ERR_ADMIN_UNAUTHORIZED',
          m ? 'the bearer token is not this gateway’s admin token' : 'no bearer token',
        ),
      );
    }
  };

  /** Adds routes of another component; must be called before start(). */
  register(plugin: FastifyPluginAsync<Record<string, unknown>>, opts?: Record<string, unknown>): this;
  register(plugin: FastifyPluginCallback<Record<string, unknown>>, opts?: Record<string, unknown>): this;
  register(plugin: Plugin, opts: Record<string, unknown> = {}): this {
    if (this.listening)
      throw new MedgwError(
        'MEDGW_ERR_START_FAILED',
        'routes must be registered before the HTTP server starts',
      );
    this.app.register(plugin, opts);
    return this;
  }

  async start(): Promise<void> {
    await this.app.listen({ host: this.options.host, port: this.options.port });
    const addr = this.app.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.listening = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;
    if (this.options.dataDir)
      writeAdminEndpoint(this.options.dataDir, { pid: process.pid, url: this.listening });
  }

  async stop(): Promise<void> {
    if (this.options.dataDir) removeAdminEndpoint(this.options.dataDir);
    await this.app.close();
  }

  /** The URL the server listens on, once started. */
  get url(): string | undefined {
    return this.listening;
  }
}

interface AdminDoc {
  readonly summary: string;
  readonly tags: readonly string[];
  readonly body?: z.ZodType;
  readonly querystring?: z.ZodType;
}

const ADMIN_DOCS: Record<string, AdminDoc> = {
  'GET ': { summary: 'The admin API routes', tags: ['admin'] },
  'GET /devices': { summary: 'Devices of the registry (secrets never shown)', tags: ['devices'] },
  'POST /devices': {
    summary: 'Add a device; an MQTT device gets its secret once, in this answer',
    tags: ['devices'],
    body: AddDeviceBody,
  },
  'GET /devices/:id': { summary: 'One device', tags: ['devices'] },
  'DELETE /devices/:id': { summary: 'Remove a device from the registry', tags: ['devices'] },
  'POST /devices/:id/assign': {
    summary: 'Assign a device, or one of its household users, to a patient (null: unassign)',
    tags: ['devices'],
    body: AssignBody,
  },
  'GET /patients': { summary: 'Patients of the registry', tags: ['patients'] },
  'POST /patients': { summary: 'Add a patient', tags: ['patients'], body: AddPatientBody },
  'DELETE /patients/:id': { summary: 'Remove a patient (no device may point to it)', tags: ['patients'] },
  'GET /outbox': { summary: 'Readings of the outbox', tags: ['readings'], querystring: OutboxQuery },
  'POST /outbox/:id/retry': {
    summary: 'Send a dead-letter, held or quarantined reading again',
    tags: ['readings'],
  },
  'POST /outbox/:id/discard': {
    summary: 'Discard a pending, held or quarantined reading (values purged, audited)',
    tags: ['readings'],
  },
  'POST /outbox/:id/assign': {
    summary: 'Attribute a quarantined reading to a patient; it is sent',
    tags: ['readings'],
    body: AssignReadingBody,
  },
  'GET /journal/stats': { summary: 'Journal counts by state, oldest unsent age', tags: ['readings'] },
  'GET /audit': { summary: 'Audit entries, filtered', tags: ['audit'], querystring: AuditQuery },
  'GET /audit/verify': { summary: 'Verify the audit hash chain', tags: ['audit'] },
};

/** A fastify route schema (OpenAPI source) from the zod shapes of ops.ts. */
function routeSchema(url: string, doc: AdminDoc): Record<string, unknown> {
  const json = (t: z.ZodType) => {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' });
    return rest;
  };
  const params = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  return {
    summary: doc.summary,
    tags: doc.tags,
    ...(params.length
      ? {
          params: {
            type: 'object',
            required: params,
            properties: Object.fromEntries(params.map((p) => [p, { type: 'string' }])),
          },
        }
      : {}),
    ...(doc.body ? { body: json(doc.body) } : {}),
    ...(doc.querystring ? { querystring: json(doc.querystring) } : {}),
  };
}

function adminRoutes(api: FastifyInstance, ops: AdminOps): void {
  const routes: string[] = [];
  const add = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    handler: (req: FastifyRequest) => Promise<unknown>,
  ) => {
    routes.push(`${method} /api/v1${url}`);
    const doc = ADMIN_DOCS[`${method} ${url}`];
    api.route({
      method,
      url,
      ...(doc ? { schema: routeSchema(url, doc) } : {}),
      // the schemas document the routes (OpenAPI); the zod shapes of ops.ts validate (parseInput)
      validatorCompiler: () => () => true,
      handler: async (req) => handler(req),
    });
  };
  type P = { Params: { id: string } };
  add('GET', '', async () => ({ routes }));
  add('GET', '/devices', async () => ({ devices: await ops.listDevices() }));
  add('POST', '/devices', async (req) => ops.addDevice(req.body as never));
  add('GET', '/devices/:id', async (req) => ({
    device: await ops.getDevice((req as FastifyRequest<P>).params.id),
  }));
  add('DELETE', '/devices/:id', async (req) => {
    await ops.removeDevice((req as FastifyRequest<P>).params.id);
    return { removed: true };
  });
  add('POST', '/devices/:id/assign', async (req) => ({
    device: await ops.assignDevice((req as FastifyRequest<P>).params.id, req.body as never),
  }));
  add('GET', '/patients', async () => ({ patients: await ops.listPatients() }));
  add('POST', '/patients', async (req) => ({ patient: await ops.addPatient(req.body as never) }));
  add('DELETE', '/patients/:id', async (req) => {
    await ops.removePatient((req as FastifyRequest<P>).params.id);
    return { removed: true };
  });
  add('GET', '/outbox', async (req) => ({ readings: await ops.outbox(req.query as never) }));
  add('POST', '/outbox/:id/retry', async (req) => ({
    reading: await ops.retryReading(
      (req as FastifyRequest<P>).params.id,
      (req.body ?? {}) as { moment?: string },
    ),
  }));
  add('POST', '/outbox/:id/discard', async (req) => ({
    reading: await ops.discardReading((req as FastifyRequest<P>).params.id),
  }));
  add('POST', '/outbox/:id/assign', async (req) => ({
    reading: await ops.assignReading(
      (req as FastifyRequest<P>).params.id,
      ((req.body ?? {}) as { patientId?: unknown }).patientId as string,
      {
        ...(((req.body ?? {}) as { moment?: string }).moment !== undefined
          ? { moment: (req.body as { moment: string }).moment }
          : {}),
      },
    ),
  }));
  add('GET', '/journal/stats', async () => ({ stats: await ops.journalStats() }));
  add('GET', '/audit', async (req) => ({ entries: await ops.auditList(req.query as never) }));
  add('GET', '/audit/verify', async () => ops.auditVerify());
}
