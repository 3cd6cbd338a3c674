/**
 * Pairing against the real sandbox over HTTP: device authorization grant with a scripted patient
 * approval, authorization code + PKCE with state/nonce checks, refresh, refusal, expiry, revocation.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import { approveUserCode, type NationalSide, PatientBrowser, startNationalSide } from './helpers.ts';

let side: NationalSide;
beforeAll(async () => {
  side = await startNationalSide();
});
afterAll(async () => {
  await side?.close();
});

describe('device authorization grant (RFC 8628)', () => {
  it('links a patient once the patient approves, with idPe, OIDs and granted kinds from the ID token', async () => {
    const flow = await side.pairing.startDeviceLink('p-marie', { kinds: ['glucose', 'weight'] });
    expect(flow.userCode).toMatch(/\S{4,}/);
    expect(flow.verificationUri).toBe(`${side.sandbox.issuer}/device`);
    await approveUserCode(side.sandbox, flow.verificationUri, flow.userCode, { login: 'marie.martin' });
    const progress: string[] = [];
    const link = await flow.complete({ onProgress: (p) => progress.push(p.lastAnswer ?? '') });
    expect(progress.at(-1)).toBe('approved');
    expect(link.idPe).toBe('PE-SBX-0001');
    expect(link.pairingOid).toBe(side.sandbox.pairingOid);
    expect(link.solutionOid).toBe('2.25.71922510045900526679301521263764504793');
    expect([...(link.grantedKinds ?? [])].sort()).toEqual(['glucose', 'weight']);
    expect(link.refreshToken).toBeTruthy();
    expect(side.store.get('p-marie')?.status).toBe('linked');
    const creds = await side.pairing.credentials('p-marie');
    expect(creds.accessToken).toBe(link.accessToken);
  });

  it('reports an expired code as MEDGW_ERR_PAIRING_EXPIRED', async () => {
    // A provider whose device codes live 2 s: nobody approves in time.
    const short = await startNationalSide({ ttl: { deviceCode: 2 } });
    try {
      const flow = await short.pairing.startDeviceLink('p-late');
      expect(flow.expiresAt - Date.now()).toBeLessThanOrEqual(2000);
      await expect(flow.complete()).rejects.toMatchObject({ code: 'MEDGW_ERR_PAIRING_EXPIRED' });
      expect(short.store.get('p-late')).toBeUndefined();
    } finally {
      await short.close();
    }
  });

  it('reports a refusal as MEDGW_ERR_PAIRING_DENIED', async () => {
    const flow = await side.pairing.startDeviceLink('p-refuses');
    await approveUserCode(side.sandbox, flow.verificationUri, flow.userCode, {
      login: 'jean.dupont',
      deny: true,
    });
    await expect(flow.complete()).rejects.toMatchObject({ code: 'MEDGW_ERR_PAIRING_DENIED' });
    expect(side.store.get('p-refuses')).toBeUndefined();
  });
});

describe('authorization code + PKCE (local web page)', () => {
  it('links through the browser and refuses a callback whose state it did not issue', async () => {
    const pairing = new PairingClient(
      { issuer: side.sandbox.issuer, redirectUri: 'http://127.0.0.1:9/callback' },
      side.store,
    );
    const { url, state } = await pairing.startBrowserLink('p-lea', { kinds: ['spo2'] });
    const asked = new URL(url);
    expect(asked.searchParams.get('code_challenge_method')).toBe('S256');
    expect(asked.searchParams.get('state')).toBe(state);
    const b = new PatientBrowser();
    const loginPage = await b.follow(await b.go(url), side.sandbox.url);
    const done = await b.loginAndConsent(loginPage.res, side.sandbox.url, { login: 'lea.bernard' });
    expect(done.url).toMatch(/^http:\/\/127\.0\.0\.1:9\/callback\?/);
    const callback = new URL(done.url ?? '');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-ours');
    await expect(pairing.completeBrowserLink(forged)).rejects.toMatchObject({
      code: 'MEDGW_ERR_PAIRING_STATE',
    });
    const link = await pairing.completeBrowserLink(callback);
    expect(link.idPe).toBe('PE-SBX-0003');
    expect(link.grantedKinds).toEqual(['spo2']);
    // A state is good for one answer only.
    await expect(pairing.completeBrowserLink(callback)).rejects.toMatchObject({
      code: 'MEDGW_ERR_PAIRING_STATE',
    });
  });
});

describe('refresh and revocation', () => {
  it('refreshes before expiry, and asks for a new link once the refresh token is refused', async () => {
    await side.link('p-jean', 'jean.dupont');
    const before = side.store.get('p-jean');
    // Pretend the access token expires within the refresh margin.
    await side.store.update('p-jean', { expiresAt: Date.now() + 10_000 });
    const creds = await side.pairing.credentials('p-jean');
    expect(creds.accessToken).not.toBe(before?.accessToken);
    const after = side.store.get('p-jean');
    expect(after?.expiresAt).toBeGreaterThan(Date.now() + 60_000);
    expect(after?.refreshToken).toBeTruthy();

    // The refresh token is revoked at the provider (as the patient unpairing does).
    const config = await side.pairing.configuration();
    await oidc.tokenRevocation(config, after?.refreshToken ?? '', { token_type_hint: 'refresh_token' });
    await expect(side.pairing.refresh('p-jean')).rejects.toMatchObject({ code: 'MEDGW_ERR_REAUTH_REQUIRED' });
    expect(side.store.get('p-jean')?.status).toBe('reauth-required');
    await expect(side.pairing.credentials('p-jean')).rejects.toMatchObject({
      code: 'MEDGW_ERR_REAUTH_REQUIRED',
    });
  });

  it('unlink revokes the tokens at the provider and forgets the link', async () => {
    await side.link('p-unlink', 'marie.martin');
    const link = side.store.get('p-unlink');
    const config = await side.pairing.configuration();
    expect((await oidc.tokenIntrospection(config, link?.accessToken ?? '')).active).toBe(true);
    expect(await side.pairing.unlink('p-unlink')).toEqual({ revoked: true });
    expect(side.store.get('p-unlink')).toBeUndefined();
    expect((await oidc.tokenIntrospection(config, link?.accessToken ?? '')).active).toBe(false);
    expect((await oidc.tokenIntrospection(config, link?.refreshToken ?? '')).active).toBe(false);
    await expect(side.pairing.unlink('p-unlink')).rejects.toMatchObject({ code: 'MEDGW_ERR_NOT_LINKED' });
  });
});
