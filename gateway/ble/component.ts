/**
 * The BLE central as a `medgw start` component (listed in gateway/app.ts COMPONENTS), with its admin
 * routes behind the admin token on loopback:
 *   GET  /api/v1/ble/devices                   discovered and paired devices with their pairing state
 *   POST /api/v1/ble/devices/:address/pair     pair a discovered device ({patientId?, name?, udsUsers?})
 *   POST /api/v1/ble/devices/:address/forget   forget it (bond, consents, registry entry)
 *   GET  /api/v1/ble/events                    state changes as server-sent events (`event: state`)
 */
import type { FastifyInstance } from 'fastify';
import { isMedgwError, MedgwError } from '../../drivers/errors.ts';
import { sendError } from '../admin/server.ts';
import type { ComponentFactory } from '../app.ts';
import type { BleCentral } from './central.ts';
import { createBleCentral, resolveBleMode } from './index.ts';
import type { SimControl } from './sim.ts';
import type { UdsUser } from './store.ts';

declare module '../app.ts' {
  interface ServiceMap {
    /** The BLE central: pairing, forgetting, device states and the state feed. */
    ble: BleCentral;
    /** `ble.mode: sim` only: make the simulated glucometer, scale or cuff take a reading. */
    bleSim: SimControl;
  }
}

interface PairBody {
  readonly patientId?: string;
  readonly name?: string;
  readonly udsUsers?: readonly UdsUser[];
}

function parsePairBody(body: unknown): PairBody {
  if (body === undefined || body === null || body === '') return {};
  const b = body as Record<string, unknown>;
  const bad = (what: string) =>
    new MedgwError(
      'MEDGW_ERR_USAGE',
      `pair: ${what}; send {"patientId"?, "name"?, "udsUsers"?: [{"index","consentCode"}]}`,
    );
  if (typeof b !== 'object') throw bad('the body is not a JSON object');
  if (b.patientId !== undefined && typeof b.patientId !== 'string') throw bad('patientId must be a string');
  if (b.name !== undefined && typeof b.name !== 'string') throw bad('name must be a string');
  const users = b.udsUsers;
  if (users !== undefined) {
    const ok =
      Array.isArray(users) &&
      users.every(
        (u) =>
          typeof u === 'object' &&
          u !== null &&
          Number.isInteger((u as UdsUser).index) &&
          (u as UdsUser).index >= 0 &&
          (u as UdsUser).index <= 254 &&
          Number.isInteger((u as UdsUser).consentCode) &&
          (u as UdsUser).consentCode >= 0 &&
          (u as UdsUser).consentCode <= 9999,
      );
    if (!ok) throw bad('udsUsers must list {index 0-254, consentCode 0-9999}');
  }
  return b as PairBody;
}

/** The admin routes of the central (exported for tests that mount them on their own server). */
export function bleRoutes(central: BleCentral) {
  return async (api: FastifyInstance): Promise<void> => {
    const fail = (reply: Parameters<typeof sendError>[0], e: unknown) => {
      if (!isMedgwError(e)) throw e;
      if (e.code === 'MEDGW_ERR_BLE_NOT_DISCOVERED') return reply.code(404).send({ error: e.toJSON() });
      return sendError(reply, e);
    };
    api.get('/devices', async () => ({ devices: central.list() }));
    api.post<{ Params: { address: string } }>('/devices/:address/pair', async (req, reply) => {
      try {
        const device = await central.pair(req.params.address, parsePairBody(req.body));
        return reply.code(202).send({ device });
      } catch (e) {
        return fail(reply, e);
      }
    });
    api.post<{ Params: { address: string } }>('/devices/:address/forget', async (req, reply) => {
      try {
        return { forgotten: await central.forget(req.params.address) };
      } catch (e) {
        return fail(reply, e);
      }
    });
    api.get('/events', (req, reply) => {
      const ac = new AbortController();
      req.raw.on('close', () => ac.abort());
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      reply.raw.write(': medgw ble states\n\n');
      void (async () => {
        for await (const change of central.feed.changes(ac.signal)) {
          reply.raw.write(`event: state\ndata: ${JSON.stringify(change)}\n\n`);
        }
        reply.raw.end();
      })();
    });
  };
}

export const bleComponent: ComponentFactory = {
  name: 'ble',
  after: ['pipeline'],
  async create(ctx, services) {
    const mode = await resolveBleMode(ctx);
    const built = createBleCentral(ctx, services.get('sink'), {}, mode);
    if (!built) return undefined;
    const { central } = built;
    services.provide('ble', central);
    if (built.sim) services.provide('bleSim', built.sim.control);
    const http = services.get('http');
    http.register(
      async (api) => {
        api.addHook('onRequest', http.requireAdmin);
        await bleRoutes(central)(api);
      },
      { prefix: '/api/v1/ble' },
    );
    return central;
  },
};
