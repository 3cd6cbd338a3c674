/**
 * A scripted patient for tests: plays a browser with plain `fetch` and a cookie jar and posts the
 * sandbox's login, consent and user-code forms exactly as a person would (no JavaScript, no shortcut
 * into the sandbox's state). Documented in docs/sandbox.md.
 */
import { MedgwError } from '../../kernel/errors.ts';
import { TEST_PASSWORD } from './identities.ts';
import type { ConsentKind } from './profiles.ts';

export interface PatientScript {
  readonly login: string;
  readonly password?: string;
  /** Kinds to leave ticked on the consent page (default: every kind asked for). */
  readonly kinds?: readonly ConsentKind[];
  /** Press "Refuser" on the consent page. */
  readonly deny?: boolean;
}

class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k = '', v = ''] = a.split('=').map((s) => s.trim());
        return (
          (k.toLowerCase() === 'max-age' && Number(v) <= 0) ||
          (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now())
        );
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

interface Page {
  readonly url: string;
  readonly status: number;
  readonly html: string;
}

const fail = (step: string): MedgwError => new MedgwError('MEDGW_ERR_SANDBOX_BROWSER', step);

class Browser {
  readonly jar = new CookieJar();

  constructor(private readonly origin: string) {}

  /** Requests and follows redirects inside the sandbox; stops at the first redirect leaving it. */
  async go(url: string, form?: URLSearchParams): Promise<Page | { leftTo: string }> {
    let next = url;
    let body = form;
    for (let hops = 0; hops < 20; hops += 1) {
      const res = await fetch(next, {
        method: body ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          cookie: this.jar.header(),
          accept: 'text/html',
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(body ? { body: body.toString() } : {}),
      });
      this.jar.take(res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        const target = new URL(location, next);
        if (target.origin !== this.origin) return { leftTo: target.href };
        next = target.href;
        body = undefined;
        continue;
      }
      return { url: next, status: res.status, html: await res.text() };
    }
    throw fail(`too many redirects from ${url}`);
  }

  /** Signs in and answers the consent page until the flow leaves the interaction pages. */
  async interact(start: Page | { leftTo: string }, who: PatientScript): Promise<Page | { leftTo: string }> {
    let at = start;
    for (let steps = 0; steps < 6; steps += 1) {
      if ('leftTo' in at) return at;
      const login = /action="(\/interaction\/[^"]+\/login)"/.exec(at.html)?.[1];
      if (login && at.status === 200) {
        at = await this.go(
          new URL(login, this.origin).href,
          new URLSearchParams({ login: who.login, password: who.password ?? TEST_PASSWORD }),
        );
        continue;
      }
      const consent = /action="(\/interaction\/[^"]+\/consent)"/.exec(at.html)?.[1];
      if (consent && at.status === 200) {
        const offered = [...at.html.matchAll(/name="kind" value="([^"]+)"/g)].map((m) => m[1] ?? '');
        const form = new URLSearchParams({ decision: who.deny ? 'deny' : 'accept' });
        for (const k of offered)
          if (!who.kinds || who.kinds.includes(k as ConsentKind)) form.append('kind', k);
        at = await this.go(new URL(consent, this.origin).href, form);
        continue;
      }
      return at;
    }
    throw fail('the sign-in did not finish after login and consent');
  }
}

function hidden(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

/**
 * Approves an RFC 8628 device authorization as the patient: user-code page, confirmation, login,
 * consent. Resolves when the success page shows (or throws MEDGW_ERR_SANDBOX_BROWSER).
 */
export async function approveDeviceCode(
  sandboxUrl: string,
  userCode: string,
  who: PatientScript,
): Promise<void> {
  const origin = new URL(sandboxUrl).origin;
  const b = new Browser(origin);
  const entry = await b.go(`${origin}/oidc/device`);
  if ('leftTo' in entry) throw fail('the user-code page redirected away');
  const xsrf = hidden(entry.html, 'xsrf');
  if (!xsrf) throw fail('the user-code page has no form');
  const confirm = await b.go(`${origin}/oidc/device`, new URLSearchParams({ xsrf, user_code: userCode }));
  if ('leftTo' in confirm) throw fail('the user-code form redirected away');
  const xsrf2 = hidden(confirm.html, 'xsrf');
  if (!xsrf2 || !/name="confirm" value="yes"/.test(confirm.html)) {
    throw fail(`the user code ${userCode} was refused (unknown, expired or already used)`);
  }
  const started = await b.go(
    `${origin}/oidc/device`,
    new URLSearchParams({
      xsrf: xsrf2,
      user_code: hidden(confirm.html, 'user_code') ?? userCode,
      confirm: 'yes',
    }),
  );
  const end = await b.interact(started, who);
  if ('leftTo' in end) throw fail(`the device flow left the sandbox for ${end.leftTo}`);
  if (who.deny) {
    if (/access_denied/.test(end.html)) return;
    throw fail('the refusal did not end the device flow');
  }
  if (!end.html.includes('id="device-success"'))
    throw fail(`the device flow ended on an unexpected page (HTTP ${end.status})`);
}

/**
 * Follows an authorization URL as the patient (login, consent) and returns the redirect URL back to
 * the client, carrying `code` and `state` (or `error`).
 */
export async function authorizeInBrowser(authorizationUrl: string, who: PatientScript): Promise<string> {
  const b = new Browser(new URL(authorizationUrl).origin);
  const end = await b.interact(await b.go(authorizationUrl), who);
  if (!('leftTo' in end))
    throw fail(`the authorization ended on a sandbox page (HTTP ${end.status}) instead of redirecting`);
  return end.leftTo;
}
