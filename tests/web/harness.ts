/**
 * A whole gateway for the page tests, over real sockets: registry (lowdb) and journal (SQLite) in a
 * temp directory, the HTTP server with the admin API and the pages, the pipeline, optionally the
 * national-side sandbox with the cloud-bridge and forwarder, and optionally real noble over the
 * virtual radio with a simulated scale.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalAdminOps } from '../../gateway/admin/ops.ts';
import { HttpServer } from '../../gateway/admin/server.ts';
import { BleCentral } from '../../gateway/ble/central.ts';
import { systemClock } from '../../gateway/contracts.ts';
import { type CloudBridge, createCloudBridge } from '../../gateway/forwarder/wiring.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Operations } from '../../gateway/ops/operations.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';
import { bluetoothForPages } from '../../gateway/web/component.ts';
import { registerWeb, type Web, webNational } from '../../gateway/web/index.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';

export const PASSWORD = 'correct-horse-battery-staple';
export const SCALE_ADDRESS = 'D4:36:39:00:05:01';
export const SCALE_CODE = 4321;

export interface TestGateway {
  readonly url: string;
  readonly adminToken: string;
  readonly dir: string;
  readonly registry: LowRegistry;
  readonly journal: SqliteJournal;
  readonly ops: Operations;
  readonly web: Web;
  readonly pipeline: Pipeline;
  readonly sandbox?: Sandbox;
  readonly bridge?: CloudBridge;
  readonly scale?: SimScale;
  readonly ble?: BleCentral;
  /** Every route registered on the HTTP server (method, full URL, schema). */
  readonly routes: HttpServer['routes'];
  close(): Promise<void>;
}

export async function startGateway(
  o: {
    national?: boolean;
    ble?: boolean;
    trustedProxy?: string;
    maxReadings?: number;
    minFreeDiskBytes?: number;
    /** The gateway's zone (`timezone`): the pipeline's and the CGM pages' civil days. Default: the system's. */
    timezone?: string;
  } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'medgw-web-'));
  const clock = systemClock;
  const log = silentLogger();
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  const journal = new SqliteJournal({
    path: join(dir, 'journal.db'),
    clock,
    ...(o.maxReadings !== undefined ? { maxReadings: o.maxReadings } : {}),
  });
  const ops = new Operations(new LocalAdminOps(registry, journal, clock), { registry, journal });
  const pipeline = new Pipeline({
    journal,
    registry,
    clock,
    log,
    ...(o.timezone !== undefined ? { timeZone: o.timezone } : {}),
  });
  const adminToken = 'test-admin-token-0123456789';
  const server = new HttpServer({ host: '127.0.0.1', port: 0, token: adminToken, log }, ops);
  let sandbox: Sandbox | undefined;
  let bridge: CloudBridge | undefined;
  if (o.national) {
    sandbox = await createSandbox({ port: 0 });
    bridge = createCloudBridge({
      dataDir: dir,
      journal,
      registry,
      clock,
      apiBaseUrl: sandbox.url,
      pairing: { issuer: sandbox.issuer },
      forwarder: { pollIntervalMs: 100 },
      env: {},
    });
  }
  let scale: SimScale | undefined;
  let ble: BleCentral | undefined;
  if (o.ble) {
    // the gateway's BLE central, real noble over the virtual radio with one multi-user scale in range
    const radio = createVirtualRadio();
    scale = new SimScale({ address: SCALE_ADDRESS, users: [{ index: 0, consentCode: SCALE_CODE }] });
    radio.add(scale);
    ble = new BleCentral({
      noble: () => createSimNoble(radio),
      registry,
      journal,
      sink: pipeline,
      clock,
      log,
      maxConnections: 2,
      timeZone: 'Europe/Paris',
      timing: {
        connectTimeoutMs: 2_000,
        gattTimeoutMs: 2_000,
        racpIdleTimeoutMs: 2_000,
        quietMs: 120,
        lingerMs: 120_000,
        cooldownMs: 120_000,
      },
      backoff: { baseMs: 20, maxMs: 200, maxAttempts: 10 },
    });
  }
  const web = registerWeb(server, {
    dataDir: dir,
    registry,
    journal,
    ops,
    clock,
    log,
    initialPassword: PASSWORD,
    ...(o.trustedProxy ? { trustedProxy: o.trustedProxy } : {}),
    ...(o.minFreeDiskBytes !== undefined ? { minFreeDiskBytes: o.minFreeDiskBytes } : {}),
    ...(o.timezone !== undefined ? { cgm: { days: 14, timezone: o.timezone } } : {}),
    pipelineCounters: () => pipeline.counters,
    ...(ble ? { ble: bluetoothForPages(ble) } : {}),
    ...(bridge ? { national: webNational(bridge, 'sandbox') } : {}),
  });
  await pipeline.start();
  await server.start();
  await bridge?.start();
  await ble?.start();
  const url = server.url;
  if (!url) throw new Error('the HTTP server did not start');
  return {
    url,
    adminToken,
    dir,
    registry,
    journal,
    ops,
    web,
    pipeline,
    ...(sandbox ? { sandbox } : {}),
    ...(bridge ? { bridge } : {}),
    ...(scale ? { scale } : {}),
    ...(ble ? { ble } : {}),
    routes: server.routes,
    async close() {
      await ble?.stop();
      await bridge?.stop();
      await server.stop();
      await pipeline.stop();
      await sandbox?.close();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A cookie-keeping HTTP client that does not follow redirects (for the no-browser tests). */
export class Client {
  readonly jar = new Map<string, string>();

  constructor(readonly base: string) {}

  async go(
    path: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(new URL(path, this.base), {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair?.indexOf('=') ?? -1;
      if (pair && i > 0) {
        const v = pair.slice(i + 1);
        if (v === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(pair.slice(0, i));
        else this.jar.set(pair.slice(0, i), v);
      }
    }
    return res;
  }

  /** Signs in with the admin password; returns the session's CSRF token (read from a page). */
  async login(password = PASSWORD): Promise<string> {
    const page = await (await this.go('/login')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const res = await this.go('/login', { form: { _csrf: csrf, password, next: '/status' } });
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
    return this.csrf();
  }

  async csrf(path = '/status'): Promise<string> {
    const page = await (await this.go(path)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(page);
    if (!m?.[1]) throw new Error(`no CSRF token on ${path}`);
    return m[1];
  }
}
