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

  it('the sign-in anti-forgery value is signed by the gateway: a value the client chose is refused', async () => {
    const chosen = 'attacker-chosen-value';
    const forged = await fetch(`${gw.url}/login`, {
      method: 'POST',
      headers: {
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `medgw_login=${chosen}`,
      },
      body: new URLSearchParams({ _csrf: chosen, password: PASSWORD }).toString(),
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie().some((h) => h.startsWith('medgw_session='))).toBe(false);
    // a real value with one character changed in its signature is refused too
    const c = new Client(gw.url);
    const page = await (await c.go('/login')).text();
    const real = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const tampered = `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`;
    c.jar.set('medgw_login', tampered);
    expect((await c.go('/login', { form: { _csrf: tampered, password: PASSWORD } })).status).toBe(403);
    // a value from another gateway (another secret) is refused
    const other = await startGateway();
    try {
      const o = new Client(other.url);
      const otherPage = await (await o.go('/login')).text();
      const foreign = /name="_csrf" value="([^"]+)"/.exec(otherPage)?.[1] ?? '';
      c.jar.set('medgw_login', foreign);
      expect((await c.go('/login', { form: { _csrf: foreign, password: PASSWORD } })).status).toBe(403);
    } finally {
      await other.close();
    }
    // the genuine value signs in
    c.jar.set('medgw_login', real);
    expect((await c.go('/login', { form: { _csrf: real, password: PASSWORD } })).status).toBe(303);
  });
});

describe('session flood', () => {
  it('showing the sign-in page keeps nothing on the server; only a successful sign-in creates a session', async () => {
    const before = gw.web.sessions.size;
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${gw.url}/login`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(gw.web.sessions.size).toBe(before);
    await new Client(gw.url).login();
    expect(gw.web.sessions.size).toBe(before + 1);
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
  it('a spray from many addresses meets the global back-off long before it has tried them all', async () => {
    // its own gateway behind a "reverse proxy" at 127.0.0.1, so each request may name its address
    const other = await startGateway({ trustedProxy: '127.0.0.1' });
    try {
      const page = await (await fetch(`${other.url}/login`, { headers: { accept: 'text/html' } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      const statuses = new Map<number, number>();
      // 500 wrong passwords from 100 addresses (5 each: never enough for one address's own lock)
      for (let round = 0; round < 5; round++) {
        for (let a = 0; a < 100; a++) {
          const res = await fetch(`${other.url}/login`, {
            method: 'POST',
            headers: {
              accept: 'text/html',
              'content-type': 'application/x-www-form-urlencoded',
              cookie: `medgw_login=${csrf}`,
              'x-forwarded-for': `10.1.${round}.1, 10.0.0.${a + 1}`,
            },
            body: new URLSearchParams({ _csrf: csrf, password: `wrong-${round}-${a}` }).toString(),
            redirect: 'manual',
          });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }
      // only the global budget's worth of passwords (20) was checked, plus one each time a back-off
      // ended (after 1, 2, 4, 8 s: at most 4 in a run of 15 s); the rest waited (429)
      expect(statuses.get(401) ?? 0).toBeGreaterThanOrEqual(20);
      expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(24);
      expect(statuses.get(429) ?? 0).toBeGreaterThanOrEqual(476);
    } finally {
      await other.close();
    }
  });

  it('behind a trusted proxy one client locks out only itself, and forged forwarded headers change nothing', async () => {
    const other = await startGateway({ trustedProxy: '127.0.0.1' });
    try {
      const attacker = new Client(other.url);
      const as = { headers: { 'x-forwarded-for': '10.9.9.9' } };
      const page = await (await attacker.go('/login', as)).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      for (let i = 0; i < 5; i++) {
        const res = await attacker.go('/login', { ...as, form: { _csrf: csrf, password: `wrong-${i}` } });
        expect(res.status).toBe(401);
      }
      // the attacker is locked, even claiming to be the admin's address in front of the proxy's entry
      const claim = { headers: { 'x-forwarded-for': '10.0.0.1, 10.9.9.9' } };
      expect(
        (await attacker.go('/login', { ...claim, form: { _csrf: csrf, password: PASSWORD } })).status,
      ).toBe(429);
      // the admin, at another address behind the same proxy, signs in at once
      const admin = new Client(other.url);
      const from = { headers: { 'x-forwarded-for': '10.0.0.1' } };
      const adminPage = await (await admin.go('/login', from)).text();
      const token = /name="_csrf" value="([^"]+)"/.exec(adminPage)?.[1] ?? '';
      expect((await admin.go('/login', { ...from, form: { _csrf: token, password: PASSWORD } })).status).toBe(
        303,
      );
    } finally {
      await other.close();
    }
  });

  it('without a configured proxy, X-Forwarded-For is ignored: rotating it does not escape the lock', async () => {
    const other = await startGateway();
    try {
      const c = new Client(other.url);
      const page = await (await c.go('/login')).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await c.go('/login', {
          headers: { 'x-forwarded-for': `10.0.0.${i + 1}` },
          form: { _csrf: csrf, password: `wrong-${i}` },
        });
        codes.push(res.status);
      }
      expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      await other.close();
    }
  });

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
