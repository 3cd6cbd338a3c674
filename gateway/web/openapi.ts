/**
 * OpenAPI 3.1 description of the pages' machine-readable routes (provider scripts, monitoring). The
 * admin API under /api/v1 is described by its own route list (`GET /api/v1`).
 */
const bearer = [{ apiToken: [] }, { session: [] }];
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

export const WEB_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'medgw local pages — read API',
    version: '1',
    description:
      'Read-only views for providers’ scripts. Authenticate with a provider API token created on the status page (`Authorization: Bearer mgwp_…`) or a signed-in session. Values are never part of these answers except where a page shows them to a signed-in person.',
  },
  components: {
    securitySchemes: {
      apiToken: { type: 'http', scheme: 'bearer', description: 'Provider API token (status page).' },
      session: { type: 'apiKey', in: 'cookie', name: 'medgw_session' },
    },
  },
  paths: {
    '/overview.json': {
      get: {
        summary: 'Patients with their latest reading per kind and gaps; the completeness ledger per device',
        security: bearer,
        responses: { '200': json('patients[] and ledger[]'), '401': json('MEDGW_ERR_WEB_UNAUTHENTICATED') },
      },
    },
    '/audit.json': {
      get: {
        summary: 'The whole audit log (hash chain included); the export itself is audited',
        security: bearer,
        responses: { '200': json('entries[]'), '401': json('MEDGW_ERR_WEB_UNAUTHENTICATED') },
      },
    },
    '/audit.csv': {
      get: {
        summary: 'The audit log as CSV: seq, at, event, readingId, deviceId, patientId, kind, detail, hash',
        security: bearer,
        responses: {
          '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
          '401': json('MEDGW_ERR_WEB_UNAUTHENTICATED'),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        security: bearer,
        responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': {} } } },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', security: bearer, responses: { '200': json('OpenAPI 3.1') } },
    },
    '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': json('{status: ok}') } } },
    '/readyz': {
      get: {
        summary: 'Readiness: registry and journal answer',
        security: [],
        responses: { '200': json('{status: ready}'), '503': json('{status: not ready}') },
      },
    },
  },
} as const;
