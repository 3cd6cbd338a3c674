/**
 * The OpenAPI 3.1 document of the gateway's HTTP server, generated from the fastify route schemas
 * (the single source): every admin API route under /api/ and every route whose schema has a summary
 * (the pages' JSON views, audit export, monitoring). The pages themselves (HTML forms) are left out.
 */

/** What the generator reads of a registered route (fastify `onRoute` options). */
export interface RouteInfo {
  readonly method: string | readonly string[];
  readonly url: string;
  readonly schema?: unknown;
}

type JsonSchema = Record<string, unknown>;

interface RouteSchema {
  summary?: string;
  description?: string;
  tags?: string[];
  /** OpenAPI security requirements of the route; default: the admin token under /api/, else none. */
  security?: Array<Record<string, string[]>>;
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  response?: Record<string, JsonSchema>;
}

export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly components: Record<string, unknown>;
  readonly paths: Record<string, Record<string, unknown>>;
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'catalogue code MEDGW_ERR_* (docs/errors.md)' },
        message: { type: 'string' },
        hint: { type: 'string' },
      },
    },
  },
};

/** Provider token or signed-in session: the read-only views. */
export const READ_SECURITY = [{ apiToken: [] }, { session: [] }];

/** A JSON answer described for the document; `additionalProperties` keeps fastify's serializer from dropping fields. */
export const answer = (description: string, properties: Record<string, JsonSchema> = {}): JsonSchema => ({
  description,
  type: 'object',
  additionalProperties: true,
  properties,
});

export const list = (description: string): JsonSchema => ({
  type: 'array',
  description,
  items: { type: 'object', additionalProperties: true },
});

/** Route schemas of the pages' machine-readable routes (plugin.ts). */
export const WEB_SCHEMAS = {
  overview: {
    summary: 'Patients with their latest reading per kind and gaps; the completeness ledger per device',
    tags: ['provider views'],
    security: READ_SECURITY,
    response: {
      200: answer('patients[] and ledger[]', { patients: list('patients'), ledger: list('ledger rows') }),
    },
  },
  auditJson: {
    summary: 'The whole audit log (hash chain included); the export itself is audited',
    tags: ['provider views'],
    security: READ_SECURITY,
    response: { 200: answer('entries[]', { entries: list('audit entries') }) },
  },
  auditCsv: {
    summary: 'The audit log as CSV: seq, at, event, readingId, deviceId, patientId, kind, detail, hash',
    tags: ['provider views'],
    security: READ_SECURITY,
    response: { 200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } } },
  },
  exchangesJson: {
    summary: 'What was sent when, delivered or refused and why (no measured values); signed-in session',
    tags: ['provider views'],
    security: [{ session: [] }],
    response: { 200: answer('readings[]', { readings: list('readings without values') }) },
  },
  metrics: {
    summary: 'Prometheus metrics',
    tags: ['monitoring'],
    security: READ_SECURITY,
    response: {
      200: {
        description: 'Prometheus text format',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
    },
  },
  openapi: {
    summary: 'This document',
    tags: ['monitoring'],
    security: READ_SECURITY,
    response: { 200: answer('OpenAPI 3.1') },
  },
  healthz: {
    summary: 'Liveness',
    tags: ['monitoring'],
    security: [],
    response: { 200: answer('{status: ok}') },
  },
  readyz: {
    summary: 'Readiness: registry and journal answer, the journal has room, the data disk has free space',
    tags: ['monitoring'],
    security: [],
    response: {
      200: answer('{status: ready}'),
      503: answer('{status: not ready, reasons: [...]}', {
        reasons: { type: 'array', items: { type: 'string' } },
      }),
    },
  },
} as const;

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** `/devices/:id/rename` → `/devices/{id}/rename` and the names of its path parameters. */
function openApiPath(url: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    names.push(name);
    return `{${name}}`;
  });
  return { path, names };
}

function operationId(method: string, path: string): string {
  const words = path
    .replace(/[{}]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [method, ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

function propertiesOf(schema: JsonSchema | undefined): Array<[string, JsonSchema, boolean]> {
  if (!schema) return [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([k, v]) => [k, v, required.has(k)]);
}

function responseOf(r: JsonSchema): Record<string, unknown> {
  if (r.content) return { description: r.description ?? 'answer', content: r.content };
  const { description, ...schema } = r;
  return {
    description: typeof description === 'string' ? description : 'answer',
    content: { 'application/json': { schema } },
  };
}

/** Builds the document from the registered routes; routes are sorted so the document is stable. */
export function buildOpenApi(routes: readonly RouteInfo[]): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => a.url.localeCompare(b.url));
  for (const route of sorted) {
    const schema = (route.schema ?? {}) as RouteSchema;
    const isApi = route.url.startsWith('/api/');
    if (!isApi && !schema.summary) continue;
    if (route.url.includes('*')) continue;
    const { path, names } = openApiPath(route.url);
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as string[];
    for (const m of methods.map((x) => x.toLowerCase())) {
      if (!METHODS.has(m)) continue;
      const declared = new Map(propertiesOf(schema.params).map(([k, v]) => [k, v]));
      const parameters = [
        ...names.map((name) => ({
          name,
          in: 'path',
          required: true,
          schema: declared.get(name) ?? { type: 'string' },
        })),
        ...propertiesOf(schema.querystring).map(([name, s, required]) => ({
          name,
          in: 'query',
          required,
          schema: s,
        })),
      ];
      const responses: Record<string, unknown> = {};
      for (const [code, r] of Object.entries(schema.response ?? {})) responses[code] = responseOf(r);
      if (Object.keys(responses).length === 0) {
        responses['200'] = {
          description: 'JSON answer',
          content: { 'application/json': { schema: { type: 'object' } } },
        };
      }
      if (isApi || (schema.security?.length ?? 0) > 0) {
        responses['4XX'] = {
          description: 'refused: the error names a catalogue code and says what to do',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      }
      const op: Record<string, unknown> = {
        operationId: operationId(m, path),
        summary: schema.summary ?? `${m.toUpperCase()} ${path}`,
        ...(schema.description ? { description: schema.description } : {}),
        tags: schema.tags ?? [isApi ? 'admin' : 'pages'],
        security: schema.security ?? (isApi ? [{ adminToken: [] }] : []),
        ...(parameters.length ? { parameters } : {}),
        ...(schema.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } }
          : {}),
        responses,
      };
      paths[path] ??= {};
      paths[path][m] = op;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'medgw gateway HTTP API',
      version: '1',
      description:
        'The admin API (`/api/v1`, loopback clients with the admin token of the data directory: `Authorization: Bearer <token>`) does everything the local pages do; the provider views accept a provider API token created on the status page (`Authorization: Bearer mgwp_…`) or a signed-in session. Measured values are never part of the admin answers about readings.',
    },
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The admin token of the data directory (loopback clients only).',
        },
        apiToken: { type: 'http', scheme: 'bearer', description: 'Provider API token (status page).' },
        session: { type: 'apiKey', in: 'cookie', name: 'medgw_session' },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
