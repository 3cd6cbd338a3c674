/**
 * Shared test setup for the national side: a real sandbox on a free port, a temp data dir, the real
 * pairing client, and a patient's browser played over HTTP (forms posted as a person would).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MesClient, type MesClientOptions } from '../../cloud-bridge/mes-client.ts';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import type { ConsentKind } from '../../cloud-bridge/profiles.ts';
import type { Observation } from '../../drivers/types.ts';
import { TokenStore } from '../../gateway/storage/tokens-file.ts';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../simulators/sandbox/index.ts';

/** A cookie-keeping browser that does not follow redirects by itself. */
export class PatientBrowser {
  readonly #jar = new Map<string, string>();

  async go(url: string, init: { method?: string; form?: URLSearchParams } = {}): Promise<Response> {
    const headers = new Headers();
    if (this.#jar.size > 0) headers.set('cookie', [...this.#jar].map(([k, v]) => `${k}=${v}`).join('; '));
    if (init.form) headers.set('content-type', 'application/x-www-form-urlencoded');
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      body: init.form,
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(';')[0] ?? '';
      const i = kv.indexOf('=');
      if (i > 0) this.#jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return res;
  }

  /** Follows redirects until a page (or a location outside `base`, returned as is). */
  async follow(res: Response, base: string): Promise<{ res: Response; url?: string }> {
    let r = res;
    for (let i = 0; i < 20; i++) {
      const loc = r.headers.get('location');
      if (!loc) return { res: r };
      const next = new URL(loc, base).href;
      if (!next.startsWith(base)) return { res: r, url: next };
      r = await this.go(next);
    }
    throw new Error('too many redirects');
  }

  /** From a page showing the login form: logs in, consents (or refuses), follows to the end. */
  async loginAndConsent(
    page: Response,
    base: string,
    who: { login: string; password?: string; kinds?: readonly ConsentKind[]; deny?: boolean },
  ): Promise<{ res: Response; url?: string }> {
    const html = await page.text();
    const uid = /\/interaction\/([^/"]+)\/login/.exec(html)?.[1];
    if (!uid) throw new Error(`no login form in the page: ${html.slice(0, 200)}`);
    let r = await this.go(`${base}/interaction/${uid}/login`, {
      method: 'POST',
      form: new URLSearchParams({ login: who.login, password: who.password ?? 'sandbox' }),
    });
    const consentPage = await this.follow(r, base);
    const consentHtml = await consentPage.res.text();
    const uid2 = /\/interaction\/([^/"]+)\/consent/.exec(consentHtml)?.[1];
    if (!uid2) throw new Error(`no consent form: ${consentHtml.slice(0, 200)}`);
    const form = new URLSearchParams();
    const offered = [...consentHtml.matchAll(/name="kind" value="([^"]+)"/g)].map((m) => m[1] ?? '');
    for (const k of offered) if (!who.kinds || who.kinds.includes(k as ConsentKind)) form.append('kind', k);
    form.set('decision', who.deny ? 'deny' : 'accept');
    r = await this.go(`${base}/interaction/${uid2}/consent`, { method: 'POST', form });
    return this.follow(r, base);
  }
}

/** The patient enters the user code on the verification page, logs in and consents (RFC 8628 §3.3). */
export async function approveUserCode(
  sandbox: Sandbox,
  verificationUri: string,
  userCode: string,
  who: { login: string; kinds?: readonly ConsentKind[]; deny?: boolean },
): Promise<void> {
  const b = new PatientBrowser();
  let r = await b.go(verificationUri);
  let html = await r.text();
  let xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  r = await b.go(verificationUri, {
    method: 'POST',
    form: new URLSearchParams({ xsrf, user_code: userCode }),
  });
  html = await r.text();
  xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? xsrf;
  r = await b.go(verificationUri, {
    method: 'POST',
    form: new URLSearchParams({ xsrf, user_code: userCode, confirm: 'yes' }),
  });
  const loginPage = await b.follow(r, sandbox.url);
  await b.loginAndConsent(loginPage.res, sandbox.url, who);
}

export interface NationalSide {
  readonly sandbox: Sandbox;
  readonly dir: string;
  readonly store: TokenStore;
  readonly pairing: PairingClient;
  client(options?: Partial<MesClientOptions>): MesClient;
  /** Links a local patient through the device flow with a scripted approval. */
  link(patientId: string, login: string, kinds?: readonly ConsentKind[]): Promise<void>;
  close(): Promise<void>;
}

export async function startNationalSide(options: SandboxOptions = {}): Promise<NationalSide> {
  const sandbox = await createSandbox({ port: 0, ...options });
  const dir = mkdtempSync(join(tmpdir(), 'medgw-national-'));
  const store = new TokenStore(dir, {});
  const pairing = new PairingClient({ issuer: sandbox.issuer }, store);
  const clients: MesClient[] = [];
  return {
    sandbox,
    dir,
    store,
    pairing,
    client(o = {}) {
      const c = new MesClient({ baseUrl: sandbox.url, tokens: pairing, ...o });
      clients.push(c);
      return c;
    },
    async link(patientId, login, kinds) {
      const flow = await pairing.startDeviceLink(patientId, kinds ? { kinds } : {});
      await approveUserCode(sandbox, flow.verificationUri, flow.userCode, {
        login,
        ...(kinds ? { kinds } : {}),
      });
      await flow.complete();
    },
    async close() {
      for (const c of clients) c.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A normalized observation of each kind the national side accepts, as the drivers produce them. */
export function sampleObservation(
  kind: 'glucose' | 'body-weight' | 'blood-pressure' | 'heart-rate' | 'body-temperature' | 'spo2',
  utc = '2026-11-22T07:15:00Z',
): Observation {
  const time = { utc, device: utc.slice(0, 19), quality: 'synced' as const };
  switch (kind) {
    case 'glucose':
      return {
        kind,
        loinc: '2345-7',
        mdc: '160184',
        value: 105,
        decimals: 1,
        unit: 'mg/dL',
        time,
        context: { meal: 'preprandial' },
      };
    case 'body-weight':
      return { kind, loinc: '29463-7', mdc: '188736', value: 72.4, decimals: 2, unit: 'kg', time };
    case 'heart-rate':
      return { kind, loinc: '8867-4', mdc: '149546', value: 64, decimals: 0, unit: '/min', time };
    case 'body-temperature':
      return { kind, loinc: '8310-5', mdc: '150364', value: 36.8, decimals: 1, unit: 'Cel', time };
    case 'spo2':
      return { kind, loinc: '2708-6', mdc: '150456', value: 97, decimals: 0, unit: '%', time };
    case 'blood-pressure':
      return {
        kind,
        loinc: '85354-9',
        mdc: '150020',
        time,
        components: [
          { kind: 'systolic', loinc: '8480-6', mdc: '150021', value: 128, decimals: 0, unit: 'mm[Hg]', time },
          { kind: 'diastolic', loinc: '8462-4', mdc: '150022', value: 82, decimals: 0, unit: 'mm[Hg]', time },
          {
            kind: 'mean-arterial',
            loinc: '8478-0',
            mdc: '150023',
            value: 97.3,
            decimals: 1,
            unit: 'mm[Hg]',
            time,
          },
        ],
      };
  }
}

export const GLUCOMETER = {
  id: 'ble-glucometer-1',
  identity: {
    systemId: '00:1B:DC:FF:FE:01:02:03',
    address: 'C0:11:22:33:44:55',
    manufacturer: 'Acme',
    model: 'GM-1',
    serial: 'SN001',
    firmware: '1.2.0',
  },
} as const;
