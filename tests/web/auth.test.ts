/**
 * Protection of the local pages over real HTTP: every page and API refuses an unauthenticated
 * request, every form refuses a post without the session's CSRF token (and does nothing), the admin
 * password is kept only as a scrypt hash, provider API tokens open the read-only JSON views only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, PASSWORD, startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway();
  await gw.ops.addPatient({ id: 'p1', displayName: 'Alice Test' });
});
afterAll(async () => {
  await gw?.close();
});

const PAGES = ['/', '/status', '/devices', '/patients', '/quarantine', '/exchanges', '/overview'];
const JSON_ROUTES = [
  '/overview.json',
  '/audit.json',
  '/audit.csv',
  '/metrics',
  '/events',
  '/exchanges.json',
  '/openapi.json',
];
const ADMIN_API = [
  '/api/v1',
  '/api/v1/devices',
  '/api/v1/patients',
  '/api/v1/outbox',
  '/api/v1/journal/stats',
  '/api/v1/audit',
];
const FORMS = [
  '/logout',
  '/tokens',
  '/tokens/abc/revoke',
  '/devices/pair',
  '/devices/d1/rename',
  '/devices/d1/assign',
  '/devices/d1/forget',
  '/patients',
  '/patients/p1/link',
  '/patients/p1/unlink',
  '/patients/p1/consents',
  '/patients/p1/remove',
  '/quarantine/confirm',
  '/quarantine/discard',
  '/exchanges/retry',
];

describe('unauthenticated requests', () => {
  it('every page sends the browser to the sign-in page without showing anything', async () => {
    const c = new Client(gw.url);
    for (const path of PAGES) {
      const res = await c.go(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toMatch(/^\/login\?next=/);
      expect(await res.text(), path).not.toContain('Alice Test');
    }
  });

  it('every JSON view, the event stream and the metrics answer 401', async () => {
    const c = new Client(gw.url);
    for (const path of JSON_ROUTES) {
      const res = await c.go(path, { headers: { accept: 'application/json' } });
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'MEDGW_ERR_WEB_UNAUTHENTICATED',
      );
    }
  });

  it('the admin API answers 401 without its bearer token, even to a signed-in page session', async () => {
    const c = new Client(gw.url);
    await c.login();
    for (const path of ADMIN_API) {
      const res = await c.go(path, { headers: { accept: 'application/json' } });
      expect(res.status, path).toBe(401);
    }
    const ok = await fetch(`${gw.url}/api/v1/patients`, {
      headers: { authorization: `Bearer ${gw.adminToken}` },
    });
    expect(ok.status).toBe(200);
  });

  it('every form post without a session is refused and changes nothing', async () => {
    const c = new Client(gw.url);
    for (const path of FORMS) {
      const res = await c.go(path, { form: { id: 'p2', displayName: 'Intruder', label: 'x' } });
      expect(res.status, path).toBe(401);
    }
    expect(gw.registry.getPatient('p2')).toBeUndefined();
  });
});

describe('CSRF', () => {
  it('a signed-in form post without the CSRF token, or with another one, is refused with 403 and does nothing', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    for (const path of FORMS) {
      const none = await c.go(path, { form: { id: 'p3', displayName: 'Forged' } });
      expect(none.status, path).toBe(403);
      expect(await none.text()).toContain('MEDGW_ERR_WEB_CSRF');
      const wrong = await c.go(path, { form: { _csrf: `${csrf}x`, id: 'p3', displayName: 'Forged' } });
      expect(wrong.status, path).toBe(403);
    }
    expect(gw.registry.getPatient('p3')).toBeUndefined();
    // the same form with the token works
    const good = await c.go('/patients', { form: { _csrf: csrf, id: 'p3', displayName: 'Real' } });
    expect(good.status).toBe(303);
    expect(gw.registry.getPatient('p3')?.displayName).toBe('Real');
  });

  it('the sign-in form needs its own anti-forgery cookie and field', async () => {
    const c = new Client(gw.url);
    const res = await c.go('/login', { form: { password: PASSWORD } });
    expect(res.status).toBe(403);
    expect(c.jar.has('medgw_session')).toBe(false);
  });
});

describe('sign-in, sessions and tokens', () => {
  it('refuses a wrong password and keeps only a scrypt hash of the right one', async () => {
    const c = new Client(gw.url);
    await expect(c.login('not-the-password')).rejects.toThrow(/401/);
    const stored = readFileSync(join(gw.dir, 'web-admin.json'), 'utf8');
    expect(stored).not.toContain(PASSWORD);
    expect(JSON.parse(stored)).toMatchObject({ scheme: 'scrypt' });
  });

  it('sets the session cookie HttpOnly and SameSite=Strict, and sign-out ends the session', async () => {
    const c = new Client(gw.url);
    const page = await (await c.go('/login')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const res = await c.go('/login', { form: { _csrf: csrf, password: PASSWORD, next: '/devices' } });
    expect(res.headers.get('location')).toBe('/devices');
    const cookie = res.headers.getSetCookie().find((h) => h.startsWith('medgw_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const token = await c.csrf();
    const session = c.jar.get('medgw_session');
    expect((await c.go('/logout', { form: { _csrf: token } })).status).toBe(303);
    const after = await fetch(`${gw.url}/status`, {
      headers: { cookie: `medgw_session=${session}`, accept: 'text/html' },
      redirect: 'manual',
    });
    expect(after.status).toBe(303);
  });

  it('a provider API token reads the JSON views and the audit export, and nothing else', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    expect((await c.go('/tokens', { form: { _csrf: csrf, label: 'provider script' } })).status).toBe(303);
    const status = await (await c.go('/status')).text();
    const token = /(mgwp_[A-Za-z0-9_-]+)/.exec(status)?.[1];
    expect(token).toBeDefined();
    // shown once only
    expect(await (await c.go('/status')).text()).not.toContain(token);
    const auth = { authorization: `Bearer ${token}`, accept: 'application/json' };
    const overview = await fetch(`${gw.url}/overview.json`, { headers: auth });
    expect(overview.status).toBe(200);
    expect(((await overview.json()) as { patients: { id: string }[] }).patients.map((p) => p.id)).toContain(
      'p1',
    );
    const csv = await fetch(`${gw.url}/audit.csv`, { headers: auth });
    expect(csv.status).toBe(200);
    expect((await csv.text()).split('\r\n')[0]).toBe(
      'seq,at,event,readingId,deviceId,patientId,kind,detail,hash',
    );
    expect((await fetch(`${gw.url}/metrics`, { headers: auth })).status).toBe(200);
    // every read the OpenAPI document opens to provider tokens answers the token holder (probes:
    // anyone); every other route of the document (admin API, session-only views) refuses it
    const doc = (await (await fetch(`${gw.url}/openapi.json`, { headers: auth })).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security: Array<Record<string, unknown>> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    let opened = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      const get = ops.get;
      if (!get || path.includes('{')) continue;
      const forToken = get.security.length === 0 || get.security.some((s) => 'apiToken' in s);
      if (forToken) opened++;
      expect((await fetch(`${gw.url}${path}`, { headers: auth })).status, path).toBe(forToken ? 200 : 401);
    }
    expect(opened).toBeGreaterThanOrEqual(6);
    for (const path of ['/status', '/patients', '/exchanges.json', '/events']) {
      expect((await fetch(`${gw.url}${path}`, { headers: auth, redirect: 'manual' })).status, path).toBe(401);
    }
    expect(
      (await fetch(`${gw.url}/overview.json`, { headers: { authorization: 'Bearer mgwp_forged' } })).status,
    ).toBe(401);
  });

  it('health and readiness probes answer without a session and reveal nothing', async () => {
    const h = await fetch(`${gw.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });
});

describe('response headers', () => {
  it('forbid framing and foreign scripts on every page, the sign-in page included', async () => {
    const c = new Client(gw.url);
    for (const path of ['/login', '/healthz']) {
      const res = await c.go(path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});

describe('password guessing', () => {
  it('locks sign-in for a while after five wrong passwords, even with the right one afterwards', async () => {
    // its own gateway: the lock is per client address and would slow the other tests down
    const other = await startGateway();
    try {
      const c = new Client(other.url);
      for (let i = 0; i < 5; i++) await expect(c.login(`wrong-${i}`)).rejects.toThrow(/401/);
      await expect(c.login(PASSWORD)).rejects.toThrow(/429/);
      const page = await (await c.go('/login')).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      const res = await c.go('/login', { form: { _csrf: csrf, password: PASSWORD } });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.text()).toContain('MEDGW_ERR_WEB_LOGIN');
    } finally {
      await other.close();
    }
  });
});
