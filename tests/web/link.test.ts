/**
 * Linking a patient from the patients page over HTTP against the sandbox: the button sends the
 * browser to the national side's authorization page (code + PKCE); a patient who refuses comes back
 * to a plain-words notice and nothing is linked; a forged or stale answer is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser } from '../../simulators/sandbox/browser.ts';
import { Client, startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ national: true });
  await gw.ops.addPatient({ id: 'jean', displayName: 'Jean Dupont' });
}, 30_000);
afterAll(async () => {
  await gw?.close();
});

describe('linking a patient to Mon espace santé', () => {
  it('sends the browser to the authorization page with PKCE, and a refusal links nothing', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    const res = await c.go('/patients/jean/link', { form: { _csrf: csrf } });
    expect(res.status).toBe(303);
    const authorize = new URL(res.headers.get('location') ?? '');
    expect(authorize.origin).toBe(new URL(gw.sandbox!.issuer).origin);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${gw.url}/callback`);
    const back = new URL(
      await authorizeInBrowser(authorize.href, { login: 'jean.dupont', password: 'sandbox', deny: true }),
    );
    expect(back.searchParams.get('error')).toBe('access_denied');
    const answer = await c.go(`${back.pathname}${back.search}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/patients');
    const page = await (await c.go('/patients')).text();
    expect(page).toContain('Le patient a refusé l’accès');
    expect(page).toContain('data-link-state="none"');
    expect(gw.bridge!.store.get('jean')).toBeUndefined();
  });

  it('refuses a callback with an unknown state, signed in or not', async () => {
    const anonymous = await new Client(gw.url).go('/callback?code=x&state=forged');
    expect(anonymous.status).toBe(400);
    expect(await anonymous.text()).toContain('MEDGW_ERR_PAIRING_STATE');
    const c = new Client(gw.url);
    await c.login();
    await c.go('/callback?code=x&state=forged');
    expect(await (await c.go('/patients')).text()).toContain('MEDGW_ERR_PAIRING_STATE');
    expect(gw.bridge!.store.list()).toEqual([]);
  });
});
