/** The patient page over HTTP: sign in, see paired solutions and exchanges, withdraw consent, unpair. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import {
  bundle,
  device,
  diagnostics,
  discovery,
  observation,
  type Patient,
  pairByDeviceFlow,
  patientOf,
  postBundle,
  postForm,
  type Tokens,
} from './helpers.ts';

let s: Sandbox;
let t: Tokens;
let p: Patient;
beforeAll(async () => {
  s = await createSandbox({ port: 0 });
  t = await pairByDeviceFlow(s, { login: 'marie.martin' });
  p = patientOf(t, s);
});
afterAll(async () => {
  await s.close();
});

async function form(path: string, body: Record<string, string>, cookie = '') {
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(body).toString(),
  });
}

async function signIn(): Promise<{ cookie: string; csrf: string; html: string }> {
  const res = await form('/patient/login', { login: 'marie.martin', password: 'sandbox' });
  expect(res.status).toBe(303);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax/);
  const html = await (await fetch(`${s.url}/patient`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  expect(csrf).not.toBe('');
  return { cookie, csrf, html };
}

describe('patient page', () => {
  it('asks to sign in, and refuses a wrong password', async () => {
    const html = await (await fetch(`${s.url}/patient`)).text();
    expect(html).toContain('action="/patient/login"');
    const bad = await form('/patient/login', { login: 'marie.martin', password: 'nope' });
    expect(bad.status).toBe(401);
  });

  it('lists the paired solution, its consents and every exchange', async () => {
    const dev = device('00-1B-DC-FF-FE-00-00-09');
    expect((await postBundle(s, t, bundle(observation(p, 'weight', dev), dev))).status).toBe(200);
    const { html } = await signIn();
    expect(html).toContain('medgw gateway');
    expect(html).toContain('2.25.71922510045900526679301521263764504793');
    expect(html).toContain('Poids (weight)');
    expect(html).toContain('observation.created');
    expect(html).toContain('71.2 kg');
    expect(html).toContain('urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|00-1B-DC-FF-FE-00-00-09');
  });

  it('refuses a form without the session token', async () => {
    const { cookie } = await signIn();
    const res = await form('/patient/revoke', { client_id: 'medgw-gateway', kind: 'weight' }, cookie);
    expect(res.status).toBe(403);
    expect((await postBundle(s, t, bundle(observation(p, 'weight')))).status).toBe(200);
  });

  it('withdrawing one kind answers 403 for it and keeps the others', async () => {
    const { cookie, csrf } = await signIn();
    const res = await form('/patient/revoke', { client_id: 'medgw-gateway', kind: 'weight', csrf }, cookie);
    expect(res.status).toBe(303);
    const w = await postBundle(s, t, bundle(observation(p, 'weight')));
    expect(w.status).toBe(403);
    expect(diagnostics(w.body)).toBe('Consent not given, access refused.');
    expect((await postBundle(s, t, bundle(observation(p, 'bp')))).status).toBe(200);
    const after = await (await fetch(`${s.url}/patient`, { headers: { cookie } })).text();
    expect(after).not.toContain('Poids (weight)');
    expect(after).toContain('consent.revoked');
  });

  it('withdrawing everything answers 403 for every kind', async () => {
    const { cookie, csrf } = await signIn();
    expect(
      (await form('/patient/revoke', { client_id: 'medgw-gateway', kind: 'all', csrf }, cookie)).status,
    ).toBe(303);
    const r = await postBundle(s, t, bundle(observation(p, 'bp')));
    expect(r.status).toBe(403);
    expect(diagnostics(r.body)).toBe('Consent not given, access refused.');
  });

  it('unpairing revokes the tokens: 401 on the API and the refresh token is refused', async () => {
    const { cookie, csrf } = await signIn();
    expect((await form('/patient/unpair', { client_id: 'medgw-gateway', csrf }, cookie)).status).toBe(303);
    expect((await postBundle(s, t, bundle(observation(p, 'bp')))).status).toBe(401);
    const meta = await discovery(s);
    const r = await postForm(meta.token_endpoint ?? '', {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token ?? '',
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toBe('invalid_grant');
    const html = await (await fetch(`${s.url}/patient`, { headers: { cookie } })).text();
    expect(html).toContain('Aucune solution associée.');
    const audit = (await (await fetch(`${s.url}/_sandbox/audit`)).json()) as { event: string }[];
    expect(audit.map((a) => a.event)).toEqual(
      expect.arrayContaining(['pairing', 'consent', 'consent.revoked', 'unpaired']),
    );
  });
});

describe('pages for people', () => {
  it('an unknown sign-in step is an HTML page saying so, and the home page links everything', async () => {
    const res = await fetch(`${s.url}/interaction/unknown-uid`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/role="alert"/);
    const home = await (await fetch(`${s.url}/`)).text();
    for (const href of ['/patient', '/oidc/device', '/_sandbox/observations'])
      expect(home).toContain(`href="${href}"`);
  });
});
