/** Chromium for the page tests: Debian's /usr/bin/chromium driven by playwright-core, a fresh profile each time. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MEDGW_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');

export interface TestBrowser {
  /** One browser context on a fresh profile (cookies shared by its pages). */
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launch(options: { javaScriptEnabled?: boolean } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'medgw-chromium-'));
  // the fresh profile is the persistent context's user data dir (--user-data-dir)
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test-artifacts/web/<group>/<name>.png. */
export async function shot(page: Page, group: string, name: string): Promise<void> {
  const dir = join(ARTIFACTS, group);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

export const PASSWORD_FIELD = '#password';

/** Signs in through the login page the way a person does. */
export async function signIn(page: Page, base: string, password: string): Promise<void> {
  await page.goto(`${base}/status`);
  if (page.url() === `${base}/status`) return; // this browser context is signed in already
  await page.fill(PASSWORD_FIELD, password);
  await Promise.all([
    page.waitForURL(`${base}/status`),
    page.click('form[action="/login"] button[type="submit"]'),
  ]);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact?: string;
  readonly help: string;
  readonly nodes: ReadonlyArray<{ readonly target: readonly string[]; readonly failureSummary?: string }>;
}

/** Runs axe-core on the page for WCAG 2.0/2.1 A and AA; returns the violations. */
export async function axe(page: Page): Promise<AxeViolation[]> {
  // evaluated through the DevTools protocol: the pages' CSP (script-src 'self') stays in force
  await page.evaluate(axeSource);
  // runs in the page (no DOM types in this project's compiler settings: the page globals are typed here)
  return page.evaluate(async () => {
    const g = globalThis as unknown as {
      axe: { run(ctx: unknown, options: object): Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    const r = await g.axe.run(g.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

/** Console errors and uncaught exceptions of a page, from the moment it is opened. */
export function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export interface Overflow {
  readonly page: { readonly scrollWidth: number; readonly clientWidth: number };
  /** Elements that scroll sideways (a table wider than its wrapper). */
  readonly inner: string[];
}

/** The page's width against the screen, and any element that scrolls sideways. */
export async function overflow(page: Page): Promise<Overflow> {
  return page.evaluate(() => {
    type El = {
      scrollWidth: number;
      clientWidth: number;
      tagName: string;
      className: string;
      id: string;
      parentElement: El | null;
    };
    const g = globalThis as unknown as {
      document: { documentElement: El; querySelectorAll(s: string): Iterable<El> };
      getComputedStyle(e: El): { overflowX: string };
    };
    const inner: string[] = [];
    for (const e of g.document.querySelectorAll('body *')) {
      const o = g.getComputedStyle(e).overflowX;
      if ((o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth + 1) {
        inner.push(`${e.tagName}.${e.className}#${e.id} ${e.scrollWidth} > ${e.clientWidth}`);
      }
    }
    const d = g.document.documentElement;
    return { page: { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth }, inner };
  });
}
