/**
 * The pages' actions as JSON admin API routes (mounted under /api/v1, behind the admin token), each
 * calling the one implementation in actions.ts. The route schemas validate the input and are the
 * source of the OpenAPI document (openapi.ts). Device assignment, patient creation and removal,
 * outbox listing and the audit list are the admin API's own routes (gateway/admin/server.ts).
 */

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MedgwError } from '../../kernel/errors.ts';
import { type ZodTypeProvider, zodValidator } from '../http/zod.ts';
import { STATED_MOMENTS } from '../pipeline/restate.ts';
import { auditCsv, type WebActions } from './actions.ts';
import type { WebDeps } from './deps.ts';
import { answer, list } from './openapi.ts';

// --- request shapes: fastify checks them (zod type provider) and the handlers are typed from them ----
const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const IdParams = z.object({ id: z.string().regex(ID, 'letters, digits or . _ : - (1 to 128)') });
const ReadingParams = z.object({ id: z.string().min(1).max(512).describe('reading id') });
const PairBody = z.strictObject({
  address: z.string().regex(ID, 'the device address or id shown in the list'),
  userIndex: z.number().int().min(0).max(254).optional(),
  consentCode: z.number().int().min(0).max(9999).optional(),
});
const RenameBody = z.strictObject({ name: z.string().min(1).max(100) });
const LinkBody = z.strictObject({ redirectUri: z.url().max(2000).optional() });
const ConsentsBody = z.strictObject({ kinds: z.array(z.string()).max(32) });
const ConfirmBody = z.strictObject({
  patientId: z.string().regex(ID, 'a patient id'),
  moment: z
    .enum(STATED_MOMENTS)
    .optional()
    .describe('The meal moment of a glucose reading whose meter gave none (JDV J157)'),
});
const TokenBody = z.strictObject({ label: z.string().min(1).max(80) });
const TokenParams = z.object({ id: z.string().max(128) });
const ExportQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });

const reading = {
  200: answer('the reading after the action (no measured values)', {
    reading: { type: 'object', additionalProperties: true },
  }),
};
const device = { 200: answer('the device', { device: { type: 'object', additionalProperties: true } }) };

/** The route table with the zod type provider: bodies, parameters and queries typed from their shapes. */
type Api = ReturnType<typeof typed>;
const typed = (scope: FastifyInstance) => scope.withTypeProvider<ZodTypeProvider>();

/** The pages' actions as JSON routes, one group per resource (mounted under /api/v1). */
export function webApiRoutes(scope: FastifyInstance, deps: WebDeps, actions: WebActions): void {
  // strict shapes: an unknown field is refused by name, never stripped silently
  scope.setValidatorCompiler(zodValidator('MEDGW_ERR_ADMIN_BAD_REQUEST'));
  const app = typed(scope);
  statusRoutes(app, actions);
  deviceRoutes(app, deps, actions);
  patientRoutes(app, deps, actions);
  readingRoutes(app, actions);
  providerRoutes(app, actions);
}

/** GET /status: the status page's components. */
function statusRoutes(app: Api, actions: WebActions): void {
  app.get(
    '/status',
    {
      schema: {
        summary: 'Gateway, MQTT broker, Bluetooth adapter, national side and queue (the status page)',
        tags: ['status'],
        response: {
          200: answer('one entry per component', {
            gateway: { type: 'object', additionalProperties: true },
            broker: { type: 'object', additionalProperties: true },
            bluetooth: { type: 'object', additionalProperties: true },
            national: { type: 'object', additionalProperties: true },
            queue: { type: 'object', additionalProperties: true },
          }),
        },
      },
    },
    async () => actions.status(),
  );
}

/** Devices: nearby and pairing (the BLE central), pairing answers, rename, assign, forget. */
function deviceRoutes(app: Api, deps: WebDeps, actions: WebActions): void {
  app.get(
    '/pairing',
    {
      schema: {
        summary: 'Devices nearby (signal strength) and pairings in progress or done, with failures',
        tags: ['devices'],
        response: {
          200: answer('nearby[] and pairings[]', {
            nearby: list('advertising devices not yet registered'),
            pairings: list('pairing progress'),
          }),
        },
      },
    },
    async () => {
      if (!deps.ble)
        throw new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'Bluetooth is not running on this gateway');
      return { nearby: deps.ble.nearby(), pairings: deps.ble.pairings() };
    },
  );
  app.post(
    '/pairing',
    {
      schema: {
        summary: 'Pair a nearby device; follow the progress with GET /api/v1/pairing',
        description:
          'A multi-user scale needs the household user number and the consent code it shows (User Data Service); give both or neither.',
        tags: ['devices'],
        body: PairBody,
        response: { 202: answer('pairing started', { started: { type: 'boolean' } }) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if ((b.userIndex === undefined) !== (b.consentCode === undefined)) {
        throw new MedgwError(
          'MEDGW_ERR_ADMIN_BAD_REQUEST',
          'give both userIndex and consentCode, or neither',
        );
      }
      await actions.pair(
        b.address,
        b.userIndex !== undefined && b.consentCode !== undefined
          ? { index: b.userIndex, consentCode: b.consentCode }
          : undefined,
      );
      return reply.code(202).send({ started: true });
    },
  );
  app.post(
    '/devices/:id/rename',
    {
      schema: {
        summary: 'Rename a device',
        tags: ['devices'],
        params: IdParams,
        body: RenameBody,
        response: device,
      },
    },
    async (req) => ({
      device: await actions.rename(req.params.id, req.body.name),
    }),
  );
  app.post(
    '/devices/:id/forget',
    {
      schema: {
        summary: 'Forget a device: drop the Bluetooth bond and the connection, remove it from the registry',
        tags: ['devices'],
        params: IdParams,
        response: { 200: answer('done', { forgotten: { type: 'boolean' } }) },
      },
    },
    async (req) => {
      await actions.forget(req.params.id);
      return { forgotten: true };
    },
  );
}

/** Patients and the link with the national side: add, remove, link, unlink, consent choices. */
function patientRoutes(app: Api, deps: WebDeps, actions: WebActions): void {
  app.post(
    '/patients/:id/link',
    {
      schema: {
        summary: 'Start linking a patient to Mon espace santé (authorization code flow)',
        description:
          'Answers the URL the patient opens to sign in and consent; the national side sends the browser back to the redirect URI (default: the pages’ /callback).',
        tags: ['patients'],
        params: IdParams,
        body: LinkBody,
        response: { 200: answer('where to send the patient', { url: { type: 'string' } }) },
      },
    },
    async (req) => {
      const redirect =
        req.body.redirectUri ??
        deps.national?.redirectUri ??
        `${deps.publicUrl ?? `${req.protocol}://${req.host}`}/callback`;
      return actions.startLink(req.params.id, redirect);
    },
  );
  app.post(
    '/patients/:id/unlink',
    {
      schema: {
        summary: 'Unlink a patient: revoke the national-side tokens; new readings are held',
        tags: ['patients'],
        params: IdParams,
        response: {
          200: answer('whether the national side confirmed the revocation', {
            revoked: { type: 'boolean' },
            message: { type: 'string' },
          }),
        },
      },
    },
    async (req) => actions.unlink(req.params.id),
  );
  app.get(
    '/patients/:id/consents',
    {
      schema: {
        summary: 'The kinds of readings a linked patient chose to send',
        tags: ['patients'],
        params: IdParams,
        response: {
          200: answer('kinds null = every kind granted on the national side', {
            kinds: { type: ['array', 'null'], items: { type: 'string' } },
            available: { type: 'array', items: { type: 'string' } },
          }),
        },
      },
    },
    async (req) => actions.consents(req.params.id),
  );
  app.put(
    '/patients/:id/consents',
    {
      schema: {
        summary: 'Choose the kinds of readings sent for a linked patient (consent per kind)',
        tags: ['patients'],
        params: IdParams,
        body: ConsentsBody,
        response: {
          200: answer('the kinds now chosen', { kinds: { type: 'array', items: { type: 'string' } } }),
        },
      },
    },
    async (req) => ({
      kinds: await actions.setConsents(req.params.id, req.body.kinds),
    }),
  );
}

/** Quarantine and exchanges: confirm, discard, retry, the lists. */
function readingRoutes(app: Api, actions: WebActions): void {
  app.get(
    '/quarantine',
    {
      schema: {
        summary: 'Readings whose household member or value is doubtful, waiting to be checked',
        tags: ['readings'],
        response: { 200: answer('readings[] (no measured values)', { readings: list('readings') }) },
      },
    },
    async () => ({ readings: actions.quarantined() }),
  );
  app.post(
    '/quarantine/:id/confirm',
    {
      schema: {
        summary: 'Confirm a quarantined reading for a patient; it is sent',
        tags: ['readings'],
        params: ReadingParams,
        body: ConfirmBody,
        response: reading,
      },
    },
    async (req) => ({
      reading: await actions.confirmQuarantined(req.params.id, req.body.patientId, req.body.moment),
    }),
  );
  app.post(
    '/quarantine/:id/discard',
    {
      schema: {
        summary: 'Discard a quarantined reading: never sent, values purged, audited',
        tags: ['readings'],
        params: ReadingParams,
        response: reading,
      },
    },
    async (req) => ({ reading: await actions.discardQuarantined(req.params.id) }),
  );
  app.get(
    '/exchanges',
    {
      schema: {
        summary: 'What was sent when, delivered or refused and why; held readings',
        tags: ['readings'],
        response: { 200: answer('readings[] (no measured values)', { readings: list('readings') }) },
      },
    },
    async () => ({ readings: actions.exchanges() }),
  );
  app.post(
    '/exchanges/:id/retry',
    {
      schema: {
        summary: 'Send a held or refused reading again',
        tags: ['readings'],
        params: ReadingParams,
        response: reading,
      },
    },
    async (req) => ({ reading: await actions.retry(req.params.id) }),
  );
}

/** Provider overview, audit export, API tokens. */
function providerRoutes(app: Api, actions: WebActions): void {
  app.get(
    '/overview',
    {
      schema: {
        summary: 'Patients with their latest reading per kind and gaps; the completeness ledger per device',
        tags: ['provider views'],
        response: {
          200: answer('patients[] and ledger[]', { patients: list('patients'), ledger: list('ledger rows') }),
        },
      },
    },
    async () => actions.overview(),
  );
  app.get(
    '/audit/export',
    {
      schema: {
        summary: 'Export the whole audit log (hash chain included); the export itself is audited',
        tags: ['provider views'],
        querystring: ExportQuery,
        response: {
          200: {
            description:
              'entries[] as JSON, or CSV (seq, at, event, readingId, deviceId, patientId, kind, detail, hash)',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { entries: list('audit entries') } },
              },
              'text/csv': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const format = req.query.format;
      const entries = actions.auditExport(format);
      if (format === 'json') return reply.type('application/json').send(JSON.stringify({ entries }));
      return reply.type('text/csv; charset=utf-8').send(auditCsv(entries));
    },
  );
  app.get(
    '/tokens',
    {
      schema: {
        summary: 'Provider API tokens (labels and dates; the tokens themselves are never shown again)',
        tags: ['tokens'],
        response: { 200: answer('tokens[]', { tokens: list('id, label, createdAt') }) },
      },
    },
    async () => ({ tokens: actions.listTokens() }),
  );
  app.post(
    '/tokens',
    {
      schema: {
        summary: 'Create a provider API token (read-only provider views); the token is shown only here',
        tags: ['tokens'],
        body: TokenBody,
        response: { 201: answer('the new token', { id: { type: 'string' }, token: { type: 'string' } }) },
      },
    },
    async (req, reply) => reply.code(201).send(actions.createToken(req.body.label)),
  );
  app.delete(
    '/tokens/:id',
    {
      schema: {
        summary: 'Revoke a provider API token',
        tags: ['tokens'],
        params: TokenParams,
        response: { 200: answer('done', { revoked: { type: 'boolean' } }) },
      },
    },
    async (req) => {
      actions.revokeToken(req.params.id);
      return { revoked: true };
    },
  );
}
