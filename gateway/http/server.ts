/**
 * The gateway's one HTTP server (fastify): the error handler (status from the error catalogue,
 * errors.ts), the admin guard, the route list for the OpenAPI document, and the lifecycle. Components
 * add their routes as plugins with `register()` before it starts: the admin API (gateway/admin), the
 * pages and their JSON API (gateway/web), the Bluetooth routes (gateway/ble).
 *
 * Everything under `/api/v1` is the admin API: loopback clients with `Authorization: Bearer <token of
 * the data directory>` only; an unknown route there is refused behind the token too (no discovery).
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
import { type Catalogue, MedgwError } from '../../kernel/errors.ts';
import type { Component } from '../contracts.ts';
import { removeAdminEndpoint, writeAdminEndpoint } from '../datadir.ts';
import type { Logger } from '../log.ts';
import { errorHandler, sendError } from './errors.ts';
import { documentedSchema } from './zod.ts';

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

/** An onRequest hook: lets the request through or answers the refusal. */
export type AdminHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** The admin guard: loopback clients with the admin bearer token only (MEDGW_ERR_ADMIN_UNAUTHORIZED). */
export function adminGuard(token: string): AdminHook {
  const expected = digest(token);
  return async (req, reply) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      await sendError(
        reply,
        new MedgwError('MEDGW_ERR_ADMIN_UNAUTHORIZED', 'the admin API answers loopback clients only'),
      );
      return;
    }
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m?.[1] || !timingSafeEqual(digest(m[1]), expected)) {
      await sendError(
        reply,
        new MedgwError(
          'MEDGW_ERR_ADMIN_UNAUTHORIZED',
          m ? 'the bearer token is not this gateway’s admin token' : 'no bearer token',
        ),
      );
    }
  };
}

/**
 * The admin guard as a plugin on the scope that registers it (not encapsulated, as fastify-plugin
 * would mark it): `api.register(requireAdminPlugin(hook))` puts every route of `api` behind it.
 */
export function requireAdminPlugin(hook: AdminHook): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRequest', hook);
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
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
  /** The routes registered on the server (all components), with JSON Schemas, for the OpenAPI document. */
  readonly routes: Array<{ method: string | string[]; url: string; schema?: unknown }> = [];
  /** onRequest hook for admin routes (loopback and the admin token); see also requireAdminPlugin. */
  readonly requireAdmin: AdminHook;
  private listening: string | undefined;

  constructor(private readonly options: HttpServerOptions) {
    this.requireAdmin = adminGuard(options.token);
    const log = options.log;
    this.app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true });
    // every route as registered (method, full URL, schema as JSON Schema), for the OpenAPI document
    this.app.addHook('onRoute', (r) => {
      this.routes.push({ method: r.method, url: r.url, schema: documentedSchema(r.schema) });
    });
    this.app.setErrorHandler(
      errorHandler({ log, badRequest: 'MEDGW_ERR_ADMIN_BAD_REQUEST', catalogue: options.catalogue }),
    );
    const notFound = (req: FastifyRequest, reply: FastifyReply) =>
      sendError(
        reply,
        new MedgwError('MEDGW_ERR_ADMIN_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
        { catalogue: options.catalogue },
      );
    this.app.setNotFoundHandler(notFound);
    this.app.addHook('onResponse', async (req, reply) => {
      // the route pattern, never the concrete URL (ids are identities)
      log.debug(
        { method: req.method, route: req.routeOptions.url ?? '(none)', status: reply.statusCode },
        'http',
      );
    });
    // unknown admin routes are behind the token too: no route discovery without it
    this.app.register(
      async (api) => {
        await api.register(requireAdminPlugin(this.requireAdmin));
        api.setNotFoundHandler(notFound);
      },
      { prefix: '/api/v1' },
    );
  }

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

declare module 'fastify' {
  /** The OpenAPI words of a route (gateway/web/openapi.ts builds the document from them). */
  interface FastifySchema {
    /** One line on what the route does. */
    summary?: string;
    description?: string;
    tags?: readonly string[];
  }
}
