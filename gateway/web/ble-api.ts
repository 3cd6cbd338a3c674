/**
 * The BLE central's admin routes, behind the admin token on loopback, built on the `ble` and
 * `blePairing` services of the BLE component (gateway/app.ts mounts them with `registerBleApi`):
 *   GET  /api/v1/ble/devices                   discovered and paired devices with their pairing state
 *   POST /api/v1/ble/devices/:address/pair     pair a discovered device ({patientId?, name?, udsUsers?})
 *   POST /api/v1/ble/devices/:address/forget   forget it (bond, consents, registry entry)
 *   POST /api/v1/ble/devices/:address/repair   pair again after a bond loss (the stack's stale key removed)
 *   GET  /api/v1/ble/prompts                   what the pairing agent asks the person now (dbus mode)
 *   POST /api/v1/ble/devices/:address/passkey  the person's answer ({passkey} | {confirm} | {pin})
 *   GET  /api/v1/ble/events                    state changes and prompts as server-sent events
 *                                              (`event: state`, `event: prompt`)
 * Refusals are answered by the one HTTP error handler (gateway/http/errors.ts). The command line's
 * client of these routes is gateway/cli/ble-client.ts.
 */
import type { FastifyInstance } from 'fastify';
import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { BluezPairing } from '../ble/bluez/pairing.ts';
import type { PairingPrompt, PromptAnswer } from '../ble/bluez/prompts.ts';
import type { BleCentral } from '../ble/central.ts';
import type { UdsUser } from '../ble/store.ts';
import { sendError } from '../http/errors.ts';
import type { Services } from '../lifecycle.ts';

function parseAnswer(body: unknown): PromptAnswer {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.passkey === 'number' && Number.isInteger(b.passkey) && b.passkey >= 0 && b.passkey <= 999_999)
    return { passkey: b.passkey };
  if (typeof b.passkey === 'string' && /^[0-9]{1,6}$/.test(b.passkey.trim()))
    return { passkey: Number(b.passkey) };
  if (typeof b.confirm === 'boolean') return { confirm: b.confirm };
  if (typeof b.pin === 'string' && /^[0-9A-Za-z]{1,16}$/.test(b.pin)) return { pin: b.pin };
  throw new MedgwError(
    'MEDGW_ERR_USAGE',
    'passkey: send {"passkey": 123456} (the 6 digits the device shows), {"confirm": true|false} or {"pin": "0000"}',
  );
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
export function bleRoutes(central: BleCentral, pairing?: BluezPairing) {
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
    api.post<{ Params: { address: string } }>('/devices/:address/repair', async (req, reply) => {
      try {
        return reply.code(202).send({ device: await central.repair(req.params.address) });
      } catch (e) {
        return fail(reply, e);
      }
    });
    api.get('/prompts', async () => ({ prompts: pairing?.prompts.list() ?? [] }));
    api.post<{ Params: { address: string } }>('/devices/:address/passkey', async (req, reply) => {
      try {
        const id = req.params.address.toUpperCase();
        const answer = parseAnswer(req.body);
        if (!pairing) {
          throw new MedgwError('MEDGW_ERR_BLE_NO_PROMPT', `${id} is not waiting for a pairing code`);
        }
        pairing.prompts.answer(id, answer);
        return { answered: true };
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
      const onPrompt = (p: PairingPrompt) => reply.raw.write(`event: prompt\ndata: ${JSON.stringify(p)}\n\n`);
      pairing?.prompts.on('prompt', onPrompt);
      ac.signal.addEventListener('abort', () => pairing?.prompts.off('prompt', onPrompt));
      // a question already waiting (the gateway's own retry asked it before this stream opened) is asked too
      for (const p of pairing?.prompts.list() ?? []) onPrompt(p);
      void (async () => {
        for await (const change of central.feed.changes(ac.signal)) {
          reply.raw.write(`event: state\ndata: ${JSON.stringify(change)}\n\n`);
        }
        reply.raw.end();
      })();
    });
  };
}

/**
 * Puts the routes on the HTTP server when the BLE component provided a central (gateway/app.ts calls
 * it once the components are built, before the server starts, whatever the component list).
 */
export function registerBleApi(services: Services): void {
  const central = services.maybe('ble');
  if (!central) return;
  const pairing = services.maybe('blePairing');
  const http = services.get('http');
  http.register(
    async (api) => {
      api.addHook('onRequest', http.requireAdmin);
      await bleRoutes(central, pairing)(api);
    },
    { prefix: '/api/v1/ble' },
  );
}
