/**
 * The JSON admin API for everything the pages do, over real HTTP: the OpenAPI document lists every
 * registered /api route and is a well-formed OpenAPI 3 document; every /api route refuses requests
 * without the admin token; the page actions (rename, forget, quarantine confirm/discard, retry, audit
 * export, status, tokens, link/consents/unlink against the sandbox, pairing over the virtual radio)
 * work as JSON and leave the same traces as the forms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser } from '../../simulators/sandbox/browser.ts';
import { Client, SCALE_ADDRESS, SCALE_CODE, startGateway, type TestGateway } from './harness.ts';
import { seedReadings } from './seed.ts';

type Op = {
  operationId: string;
  summary: string;
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
};
type Doc = {
  openapi: string;
  info: { title: string; version: string };
  components: { securitySchemes: Record<string, { type: string }>; schemas: Record<string, unknown> };
  paths: Record<string, Record<string, Op>>;
};

function api(gw: TestGateway, token = gw.adminToken) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}/api/v1${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { text };
    }
    return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
  };
}

/** Structural checks of OpenAPI 3.x (OAS 3.1.0 §4.8): the rules a reader of the document relies on. */
function openApiProblems(doc: Doc): string[] {
  const problems: string[] = [];
  if (!/^3\.[01]\.\d+$/.test(doc.openapi)) problems.push(`openapi ${doc.openapi}`);
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') problems.push('info');
  const ids = new Set<string>();
  const resolve = (ref: string) =>
    ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
  const refs = (v: unknown, where: string): void => {
    if (Array.isArray(v)) for (const x of v) refs(x, where);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && (typeof x !== 'string' || resolve(x) === undefined))
          problems.push(`${where}: $ref ${String(x)}`);
        else refs(x, where);
      }
    }
  };
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) problems.push(`path ${path}`);
    const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(ops)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'].includes(method))
        problems.push(`${where}: method`);
      if (ids.has(op.operationId)) problems.push(`${where}: duplicate operationId`);
      ids.add(op.operationId);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      for (const name of inPath) {
        const p = declared.find((d) => d.name === name);
        if (p?.required !== true) problems.push(`${where}: path parameter ${name}`);
      }
      for (const p of declared) if (!inPath.includes(p.name)) problems.push(`${where}: stray ${p.name}`);
      for (const p of op.parameters ?? []) {
        if (!['path', 'query', 'header', 'cookie'].includes(p.in) || !p.schema)
          problems.push(`${where}: ${p.name}`);
      }
      const codes = Object.keys(op.responses ?? {});
      if (codes.length === 0) problems.push(`${where}: no responses`);
      for (const [code, r] of Object.entries(op.responses ?? {})) {
        if (!/^([1-5][0-9][0-9]|[1-5]XX|default)$/.test(code)) problems.push(`${where}: response ${code}`);
        if (typeof r.description !== 'string') problems.push(`${where}: ${code} description`);
      }
      for (const req of op.security ?? []) {
        for (const scheme of Object.keys(req))
          if (!doc.components.securitySchemes[scheme]) problems.push(`${where}: scheme ${scheme}`);
      }
      if (op.requestBody && !op.requestBody.content) problems.push(`${where}: requestBody`);
      refs(op, where);
    }
  }
  return problems;
}

describe('JSON admin API and its OpenAPI document', () => {
  let gw: TestGateway;
  let call: ReturnType<typeof api>;

  beforeAll(async () => {
    gw = await startGateway();
    call = api(gw);
    await gw.ops.addPatient({ id: 'p1', displayName: 'Patient Un' });
    await gw.ops.addDevice({ id: 'scale-1', transport: 'mqtt', patientId: 'p1' });
    seedReadings(gw.journal, 'scale-1', 'p1');
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('lists every registered /api route in a valid OpenAPI 3 document served at /openapi.json', async () => {
    const c = new Client(gw.url);
    await c.login();
    const res = await c.go('/openapi.json', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(openApiProblems(doc)).toEqual([]);
    const registered = gw.routes
      .filter((r) => r.url.startsWith('/api/'))
      .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => [m, r.url] as const))
      .filter(([m]) => m !== 'HEAD');
    // the admin API's own routes, the BLE-free page actions and the provider views
    expect(registered.length).toBeGreaterThan(25);
    for (const [method, url] of registered) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect(doc.paths[path]?.[method.toLowerCase()], `${method} ${url}`).toBeDefined();
    }
    for (const [path, method] of [
      ['/api/v1/pairing', 'post'],
      ['/api/v1/devices/{id}/rename', 'post'],
      ['/api/v1/devices/{id}/forget', 'post'],
      ['/api/v1/devices/{id}/assign', 'post'],
      ['/api/v1/patients/{id}/link', 'post'],
      ['/api/v1/patients/{id}/unlink', 'post'],
      ['/api/v1/patients/{id}/consents', 'put'],
      ['/api/v1/quarantine/{id}/confirm', 'post'],
      ['/api/v1/quarantine/{id}/discard', 'post'],
      ['/api/v1/exchanges/{id}/retry', 'post'],
      ['/api/v1/audit/export', 'get'],
      ['/api/v1/status', 'get'],
      ['/overview.json', 'get'],
      ['/audit.csv', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    // the body schema of a route is the one fastify validates with
    const rename = doc.paths['/api/v1/devices/{id}/rename']!.post!;
    expect(rename.requestBody?.content['application/json']?.schema).toMatchObject({ required: ['name'] });
    expect(rename.security).toEqual([{ adminToken: [] }]);
    // the admin API's own routes carry the shapes ops.ts validates with
    const addDevice = doc.paths['/api/v1/devices']!.post!;
    expect(addDevice.requestBody?.content['application/json']?.schema).toMatchObject({
      required: expect.arrayContaining(['id', 'transport']),
    });
    expect(doc.paths['/api/v1/outbox']!.get!.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['state', 'patient', 'device', 'limit']),
    );
    // the HTML pages are not part of it
    expect(doc.paths['/devices']).toBeUndefined();
  });

  it('refuses every /api route without the admin token, or with another one', async () => {
    const doc = (await (
      await new Client(gw.url).go('/openapi.json', {
        headers: { accept: 'application/json', authorization: `Bearer ${gw.adminToken}` },
      })
    ).json()) as Doc | { error: unknown };
    // /openapi.json is a page route: the admin token is not a page credential
    expect('error' in doc).toBe(true);
    const anonymous = api(gw, '');
    const forged = api(gw, 'not-the-admin-token');
    const routes = gw.routes.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
    for (const r of routes) {
      const method = (Array.isArray(r.method) ? r.method[0] : r.method) as string;
      const path = r.url.replace(/^\/api\/v1/, '').replace(/:([A-Za-z0-9_]+)/g, 'x');
      const a = await anonymous(method, path);
      expect(a.status, `${method} ${r.url}`).toBe(401);
      expect((a.json.error as { code: string }).code).toBe('MEDGW_ERR_ADMIN_UNAUTHORIZED');
      expect((await forged(method, path)).status, `${method} ${r.url}`).toBe(401);
    }
  });

  it('renames a device, refusing unknown fields and empty names with the field named', async () => {
    const ok = await call('POST', '/devices/scale-1/rename', { name: 'Balance salle de bain' });
    expect(ok.status).toBe(200);
    expect((ok.json.device as { name: string }).name).toBe('Balance salle de bain');
    expect(gw.registry.getDevice('scale-1')?.name).toBe('Balance salle de bain');
    const unknown = await call('POST', '/devices/scale-1/rename', { name: 'x', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'MEDGW_ERR_ADMIN_BAD_REQUEST' });
    expect((unknown.json.error as { message: string }).message).toContain('colour');
    const empty = await call('POST', '/devices/scale-1/rename', {});
    expect(empty.status).toBe(400);
    expect((empty.json.error as { message: string }).message).toContain('name');
    const missing = await call('POST', '/devices/nope/rename', { name: 'x' });
    expect(missing.status).toBe(404);
    expect(gw.journal.auditList({ limit: 1000 }).filter((e) => e.event === 'device.renamed')).toHaveLength(1);
  });

  it('confirms and discards quarantined readings, sends a refused one again, without values in answers', async () => {
    const q = await call('GET', '/quarantine');
    expect((q.json.readings as Array<{ id: string }>).map((r) => r.id)).toEqual(['r-quarantined']);
    expect(q.text).not.toContain('81.2');
    const wrong = await call('POST', '/quarantine/r-quarantined/confirm', { patientId: 'nobody' });
    expect(wrong.status).toBe(404);
    const ok = await call('POST', '/quarantine/r-quarantined/confirm', { patientId: 'p1' });
    expect(ok.status).toBe(200);
    expect(ok.json.reading).toMatchObject({ id: 'r-quarantined', state: 'pending', patientId: 'p1' });
    expect(ok.text).not.toContain('81.2');
    expect(gw.journal.get('r-quarantined')?.state).toBe('pending');
    // no longer waiting to be checked
    const again = await call('POST', '/quarantine/r-quarantined/discard');
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'MEDGW_ERR_JOURNAL_STATE' });

    const retry = await call('POST', '/exchanges/r-refused/retry');
    expect(retry.status).toBe(200);
    expect(retry.json.reading).toMatchObject({ id: 'r-refused', state: 'pending' });
    const delivered = await call('POST', '/exchanges/r-delivered/retry');
    expect(delivered.status).toBe(409);
    const exchanges = await call('GET', '/exchanges');
    const ids = (exchanges.json.readings as Array<{ id: string; observation?: unknown }>).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['r-held', 'r-delivered', 'r-refused', 'r-quarantined']));
    expect(exchanges.text).not.toContain('70.4');
  });

  it('discards a quarantined reading: dead letter, values purged', async () => {
    gw.journal.append([
      {
        id: 'r-doubt',
        deviceId: 'scale-1',
        observation: {
          kind: 'body-weight',
          loinc: '29463-7',
          mdc: '188736',
          value: 99.9,
          decimals: 1,
          unit: 'kg',
          time: { utc: new Date().toISOString(), quality: 'synced' },
        },
        state: 'quarantined',
        reason: { code: 'MEDGW_ERR_HOUSEHOLD_USER', message: 'household user 2 is not mapped' },
      },
    ]);
    const res = await call('POST', '/quarantine/r-doubt/discard');
    expect(res.status).toBe(200);
    expect(res.json.reading).toMatchObject({ id: 'r-doubt', state: 'dead-letter' });
    expect(gw.journal.get('r-doubt')?.observation).toBeNull();
  });

  it('exports the audit log as JSON and CSV, auditing the export, and answers the status', async () => {
    const json = await call('GET', '/audit/export');
    expect(json.status).toBe(200);
    const entries = json.json.entries as Array<{ event: string }>;
    expect(entries.at(-1)?.event).toBe('audit.exported');
    const csv = await call('GET', '/audit/export?format=csv');
    expect(csv.type).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe('seq,at,event,readingId,deviceId,patientId,kind,detail,hash');
    expect(csv.text).toContain('device.renamed');
    expect((await call('GET', '/audit/export?format=xml')).status).toBe(400);
    const status = await call('GET', '/status');
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({
      gateway: { state: 'ok' },
      bluetooth: { state: 'notConfigured' },
      national: { state: 'notConfigured' },
    });
    expect((status.json.queue as { byState: Record<string, number> }).byState.held).toBe(1);
    // without a national side, the link actions say so
    const link = await call('POST', '/patients/p1/link', {});
    expect(link.json.error).toMatchObject({ code: 'MEDGW_ERR_WEB_UNAVAILABLE' });
  });

  it('creates a provider token that reads the provider views, and revokes it', async () => {
    const created = await call('POST', '/tokens', { label: 'cabinet infirmier' });
    expect(created.status).toBe(201);
    const token = created.json.token as string;
    expect(token).toMatch(/^mgwp_/);
    const listed = await call('GET', '/tokens');
    expect(JSON.stringify(listed.json)).not.toContain(token);
    expect(listed.json.tokens).toEqual([expect.objectContaining({ label: 'cabinet infirmier' })]);
    const read = () => fetch(`${gw.url}/overview.json`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read()).status).toBe(200);
    expect((await call('DELETE', `/tokens/${created.json.id as string}`)).status).toBe(200);
    expect((await read()).status).toBe(401);
  });

  it('forgets a device', async () => {
    const res = await call('POST', '/devices/scale-1/forget');
    expect(res.status).toBe(200);
    expect(gw.registry.getDevice('scale-1')).toBeUndefined();
  });
});

describe('linking, consents per kind and revocation through the JSON API', () => {
  let gw: TestGateway;
  let call: ReturnType<typeof api>;

  beforeAll(async () => {
    gw = await startGateway({ national: true });
    call = api(gw);
    await gw.ops.addPatient({ id: 'jean', displayName: 'Jean Dupont' });
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('links through the sandbox, chooses kinds, then revokes', async () => {
    const notLinked = await call('PUT', '/patients/jean/consents', { kinds: ['weight'] });
    expect(notLinked.json.error).toMatchObject({ code: 'MEDGW_ERR_NOT_LINKED' });
    const start = await call('POST', '/patients/jean/link', {});
    expect(start.status).toBe(200);
    const authorize = new URL(start.json.url as string);
    expect(authorize.origin).toBe(new URL(gw.sandbox!.issuer).origin);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${gw.url}/callback`);
    const back = await authorizeInBrowser(authorize.href, { login: 'jean.dupont', password: 'sandbox' });
    expect((await fetch(back, { redirect: 'manual' })).status).toBe(303);
    expect(gw.bridge!.store.get('jean')).toBeDefined();

    expect((await call('GET', '/patients/jean/consents')).json).toMatchObject({ kinds: null });
    const bad = await call('PUT', '/patients/jean/consents', { kinds: ['weight', 'mood'] });
    expect(bad.status).toBe(400);
    expect((bad.json.error as { message: string }).message).toContain('mood');
    const set = await call('PUT', '/patients/jean/consents', { kinds: ['weight', 'glucose'] });
    expect(set.status).toBe(200);
    expect(gw.bridge!.store.get('jean')?.kinds).toEqual(['weight', 'glucose']);
    expect((await call('GET', '/patients/jean/consents')).json.kinds).toEqual(['weight', 'glucose']);

    const unlink = await call('POST', '/patients/jean/unlink');
    expect(unlink.status).toBe(200);
    expect(unlink.json.revoked).toBe(true);
    expect(gw.bridge!.store.get('jean')).toBeUndefined();
    const events = gw.journal.auditList({ patientId: 'jean', limit: 100 }).map((e) => e.event);
    expect(events).toEqual(
      expect.arrayContaining([
        'patient.link.started',
        'patient.linked',
        'patient.consents',
        'patient.unlinked',
      ]),
    );
  });
});

describe('pairing through the JSON API over the virtual radio', () => {
  let gw: TestGateway;
  let call: ReturnType<typeof api>;

  beforeAll(async () => {
    gw = await startGateway({ ble: true });
    call = api(gw);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('lists the scale nearby, pairs it with the household consent, and reports its battery', async () => {
    gw.scale!.batteryPercent = 42;
    let nearby: Array<{ address: string; rssi: number }> = [];
    for (let i = 0; i < 200 && !nearby.some((n) => n.address === SCALE_ADDRESS); i++) {
      nearby = (await call('GET', '/pairing')).json.nearby as typeof nearby;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(nearby.find((n) => n.address === SCALE_ADDRESS)?.rssi).toBeLessThan(0);
    const half = await call('POST', '/pairing', { address: SCALE_ADDRESS, userIndex: 0 });
    expect(half.status).toBe(400);
    const res = await call('POST', '/pairing', {
      address: SCALE_ADDRESS,
      userIndex: 0,
      consentCode: SCALE_CODE,
    });
    expect(res.status).toBe(202);
    let state = '';
    for (let i = 0; i < 200 && state !== 'synced'; i++) {
      const p = (await call('GET', '/pairing')).json.pairings as Array<{ address: string; state: string }>;
      state = p.find((x) => x.address === SCALE_ADDRESS)?.state ?? '';
      if (state === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe('synced');
    expect(gw.ble!.get(SCALE_ADDRESS)?.batteryPercent).toBe(42);
  });
});
