import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser } from '../../simulators/sandbox/browser.ts';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import {
  bundle,
  claimsOf,
  device,
  discovery,
  observation,
  pairByDeviceFlow,
  patientOf,
  pkcePair,
  postBundle,
  postForm,
  type Tokens,
} from './helpers.ts';

let s: Sandbox;
let meta: Record<string, string>;
beforeAll(async () => {
  s = await createSandbox({ port: 0 });
  meta = await discovery(s);
});
afterAll(async () => {
  await s.close();
});

function authUrl(params: Record<string, string>): string {
  const u = new URL(meta.authorization_endpoint ?? '');
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}

async function codeFlow(scope: string, login = 'jean.dupont', kinds?: string[]) {
  const { verifier, challenge } = pkcePair();
  const redirectUri = 'http://127.0.0.1:49152/callback';
  const back = await authorizeInBrowser(
    authUrl({
      client_id: 'medgw-gateway',
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      prompt: 'consent',
      acr_values: 'eidas1',
    }),
    { login, ...(kinds ? { kinds: kinds as never } : {}) },
  );
  return { back: new URL(back), verifier, redirectUri };
}

describe('discovery', () => {
  it('publishes the endpoints, the device flow, PKCE S256 and the kind scopes', () => {
    expect(meta.issuer).toBe(s.issuer);
    expect(meta.device_authorization_endpoint).toBe(`${s.issuer}/device/auth`);
    expect(meta.revocation_endpoint).toBe(`${s.issuer}/token/revocation`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.scopes_supported).toContain('mesures.glucose');
    expect(meta.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:device_code');
  });
});

describe('authorization code + PKCE', () => {
  it('logs in, consents to some kinds, exchanges the code with the verifier', async () => {
    const { back, redirectUri } = await codeFlow(
      'openid offline_access mesures.weight mesures.glucose',
      'jean.dupont',
      ['weight'],
    );
    expect(back.origin).toBe('http://127.0.0.1:49152');
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    const wrong = await postForm(meta.token_endpoint ?? '', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: pkcePair().verifier,
    });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
    // the code was consumed by the failed attempt: start again with the right verifier
    const again = await codeFlow('openid offline_access mesures.weight mesures.glucose', 'jean.dupont', [
      'weight',
    ]);
    const ok = await postForm(meta.token_endpoint ?? '', {
      grant_type: 'authorization_code',
      code: again.back.searchParams.get('code') ?? '',
      redirect_uri: again.redirectUri,
      code_verifier: again.verifier,
    });
    expect(ok.status).toBe(200);
    const t = (await ok.json()) as Tokens;
    expect(t.scope.split(' ').sort()).toEqual(['mesures.weight', 'offline_access', 'openid']);
    expect(t.refresh_token).toBeTypeOf('string');
    const c = claimsOf(t.id_token);
    expect(c.idpe).toBe('PE-SBX-0002');
    expect(c.acr).toBe('eidas1');
  });

  it('redirects to a loopback callback on any port (localhost too), never to another host', async () => {
    const { challenge } = pkcePair();
    const params = (redirect_uri: string) =>
      authUrl({
        client_id: 'medgw-gateway',
        response_type: 'code',
        redirect_uri,
        scope: 'openid mesures.weight',
        state: 'lb',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
    const back = await authorizeInBrowser(params('http://localhost:3999/callback'), {
      login: 'marie.martin',
    });
    expect(back).toMatch(/^http:\/\/localhost:3999\/callback\?code=/);
    const res = await fetch(params('http://evil.example:3999/callback'), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('redirect_uri');
  });

  it('refuses an authorization request without PKCE', async () => {
    const res = await fetch(
      authUrl({
        client_id: 'medgw-gateway',
        response_type: 'code',
        redirect_uri: 'http://127.0.0.1:49152/callback',
        scope: 'openid',
        state: 's',
      }),
      { redirect: 'manual' },
    );
    const to = new URL(res.headers.get('location') ?? '');
    expect(to.searchParams.get('error')).toBe('invalid_request');
    expect(to.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('returns access_denied to the client when the patient refuses', async () => {
    const { verifier: _v, challenge } = pkcePair();
    const back = await authorizeInBrowser(
      authUrl({
        client_id: 'medgw-gateway',
        response_type: 'code',
        redirect_uri: 'http://127.0.0.1:49153/callback',
        scope: 'openid mesures.weight',
        state: 'deny',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
      { login: 'lea.bernard', deny: true },
    );
    expect(new URL(back).searchParams.get('error')).toBe('access_denied');
  });

  it('refuses a wrong password with the login form again (401)', async () => {
    const { challenge } = pkcePair();
    const first = await fetch(
      authUrl({
        client_id: 'medgw-gateway',
        response_type: 'code',
        redirect_uri: 'http://127.0.0.1:49152/callback',
        scope: 'openid mesures.weight',
        state: 'pw',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    const interaction = new URL(first.headers.get('location') ?? '', s.url);
    const cookie = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const res = await fetch(`${interaction.href}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: 'login=marie.martin&password=wrong',
      redirect: 'manual',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Identifiant ou mot de passe incorrect.');
  });
});

describe('refresh and revocation', () => {
  it('refreshes, then a revoked refresh token is refused', async () => {
    const t = await pairByDeviceFlow(s, { login: 'marie.martin' });
    const r1 = await postForm(meta.token_endpoint ?? '', {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token ?? '',
    });
    expect(r1.status).toBe(200);
    const t2 = (await r1.json()) as Tokens;
    expect(t2.access_token).not.toBe(t.access_token);
    expect(claimsOf(t2.id_token).idpe).toBe('PE-SBX-0001');
    const dev = device();
    const ok = await postBundle(s, t2, bundle(observation(patientOf(t2, s), 'weight', dev), dev));
    expect(ok.status).toBe(200);

    const current = t2.refresh_token ?? t.refresh_token ?? '';
    const rv = await postForm(meta.revocation_endpoint ?? '', {
      token: current,
      token_type_hint: 'refresh_token',
    });
    expect(rv.status).toBe(200);
    const r2 = await postForm(meta.token_endpoint ?? '', {
      grant_type: 'refresh_token',
      refresh_token: current,
    });
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('a revoked access token answers 401 on the measurements API', async () => {
    const t = await pairByDeviceFlow(s, { login: 'lea.bernard' });
    const p = patientOf(t, s);
    expect((await postBundle(s, t, bundle(observation(p, 'bp')))).status).toBe(200);
    const rv = await postForm(meta.revocation_endpoint ?? '', { token: t.access_token });
    expect(rv.status).toBe(200);
    const after = await postBundle(s, t, bundle(observation(p, 'bp')));
    expect(after.status).toBe(401);
    expect(after.res.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  it('introspection shows the idPe and OID claims on the access token', async () => {
    const t = await pairByDeviceFlow(s, { login: 'jean.dupont' });
    const res = await postForm(meta.introspection_endpoint ?? '', { token: t.access_token });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.active).toBe(true);
    expect(body.idpe).toBe('PE-SBX-0002');
    expect(body.pairing_oid).toBe(s.pairingOid);
    expect(body.solution_oid).toBe('2.25.71922510045900526679301521263764504793');
  });
});

describe('client registration', () => {
  it('registers another solution at run time; its tokens carry its own solution OID', async () => {
    const res = await fetch(`${s.url}/_sandbox/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'telemonitoring-provider',
        client_secret: 'a-long-test-secret-0123456789',
        client_name: 'Télésuivi test',
        redirect_uris: ['https://provider.example/callback'],
        solution_oid: '2.25.424242',
      }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      client_id: 'telemonitoring-provider',
      client_name: 'Télésuivi test',
      redirect_uris: ['https://provider.example/callback'],
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      solution_oid: '2.25.424242',
    });
    const t = await pairByDeviceFlow(s, { login: 'marie.martin' }, 'openid mesures.weight', {
      id: 'telemonitoring-provider',
      secret: 'a-long-test-secret-0123456789',
    });
    const c = claimsOf(t.id_token);
    expect(c.solution_oid).toBe('2.25.424242');
    expect(c.aud).toBe('telemonitoring-provider');
    const p = patientOf(t, s);
    const obs = observation(p, 'weight');
    (obs.meta as Record<string, unknown>).source = 'urn:oid:2.25.424242.7';
    expect((await postBundle(s, t, bundle(obs))).status).toBe(200);
    const listed = (await (await fetch(`${s.url}/_sandbox/clients`)).json()) as { client_id: string }[];
    expect(JSON.stringify(listed)).not.toContain('a-long-test-secret');
  });

  it('honours client_secret_post for a client registered with it', async () => {
    await s.registerClient({
      client_id: 'post-client',
      client_secret: 'another-long-test-secret-0123',
      redirect_uris: ['https://post.example/cb'],
      solution_oid: '2.25.5150',
      token_endpoint_auth_method: 'client_secret_post',
    });
    const body = new URLSearchParams({
      client_id: 'post-client',
      client_secret: 'another-long-test-secret-0123',
      scope: 'openid',
    });
    const res = await fetch(meta.device_authorization_endpoint ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user_code: string }).user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
  });

  it('refuses a registration with a coded error, and a wrong secret at the token endpoint', async () => {
    const bad = await fetch(`${s.url}/_sandbox/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'x',
        client_secret: 'short',
        redirect_uris: [],
        solution_oid: 'not-an-oid',
      }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('MEDGW_ERR_SANDBOX_REQUEST');
    const res = await postForm(
      meta.device_authorization_endpoint ?? '',
      { client_id: 'medgw-gateway', scope: 'openid' },
      `Basic ${Buffer.from('medgw-gateway:wrong').toString('base64')}`,
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });
});
