/**
 * Several `medgw start` processes as one site: one PostgreSQL (journal, registry, tokens), one
 * Mosquitto with dynamic security (each device authenticated by the broker, the gateways sharing
 * `$share/medgw/…`), one national sandbox. Used by the cluster test and the cluster bench rows.
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxReady } from '../../bench/forward-sandbox-child.ts';
import { dataPath } from '../../gateway/datadir.ts';
import { createSandbox, GATEWAY_CLIENT_SECRET, type Sandbox } from '../../simulators/sandbox/index.ts';
import { approveUserCode } from '../cloud-bridge/helpers.ts';
import { type RunningDynsecMosquitto, startMosquittoDynsec } from '../mqtt/mosquitto.ts';
import { type RunningPostgres, startPostgres } from '../postgres/cluster.ts';
import { killAllGateways, runMedgw, type SpawnedGateway, spawnGateway } from '../support/gateway.ts';

export const GATEWAY_USER = 'medgw-gw';

const RUN = fileURLToPath(new URL('../../bin/run.mjs', import.meta.url));
const SANDBOX_CHILD = fileURLToPath(new URL('../../bench/forward-sandbox-child.ts', import.meta.url));

/** The sandbox in a child process (its own process group): only its address is known here. */
async function sandboxInChild(): Promise<Sandbox> {
  const child = fork(RUN, [SANDBOX_CHILD], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true });
  const ready = await new Promise<SandboxReady>((resolve, reject) => {
    child.once('message', (m) => resolve(m as SandboxReady));
    child.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}`)));
  });
  const remote = {
    url: ready.url,
    issuer: ready.issuer,
    idTokenHeader: ready.idTokenHeader,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      if (child.connected) child.send('close');
      else if (child.pid) process.kill(-child.pid, 'SIGKILL');
      await exited;
    },
  };
  return remote as unknown as Sandbox;
}

export interface Site {
  readonly root: string;
  readonly pg: RunningPostgres;
  readonly storageUrl: string;
  readonly broker: RunningDynsecMosquitto;
  readonly sandbox: Sandbox;
  readonly gatewayPassword: string;
  /** The environment of instance `n` (its own broker session; everything else shared). */
  env(n: number, extra?: Record<string, string>): Record<string, string>;
  dataDir(n: number): string;
  /** Starts instance `n` (`medgw start --data-dir <root>/gw-<n>`). */
  start(n: number, extra?: Record<string, string>): Promise<Instance>;
  /** Links a local patient through `medgw patient link` on instance `n`, approved at the sandbox by `login`. */
  link(n: number, patientId: string, login: string): Promise<void>;
  close(): Promise<void>;
}

export interface Instance extends SpawnedGateway {
  readonly n: number;
  /** The admin API base (`http://127.0.0.1:<port>/api/v1`). */
  readonly api: string;
  /** Calls the admin API with this instance's token. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * `durable`: PostgreSQL with fsync and synchronous commits (benchmarks). `sandbox: 'child'`: the
 * national sandbox in its own process, as the real one is remote (benchmarks; `site.sandbox` then
 * only has `url`, `issuer` and `close`).
 */
export async function startSite(
  prefix: string,
  options: { durable?: boolean; sandbox?: 'here' | 'child' } = {},
): Promise<Site> {
  const root = mkdtempSync(join(tmpdir(), `medgw-${prefix}-`));
  const pg = await startPostgres({ durable: options.durable ?? false });
  const storageUrl = pg.database(`medgw_${prefix.replace(/[^a-z0-9]/g, '_')}`);
  const broker = await startMosquittoDynsec();
  const sandbox =
    options.sandbox === 'child'
      ? await sandboxInChild()
      : await createSandbox({ port: 0, host: '127.0.0.1' });
  const gatewayPassword = `gw-${Math.random().toString(36).slice(2)}`;
  // the pairing tokens in PostgreSQL are sealed under one key every instance holds
  const tokenKey = randomBytes(32).toString('hex');
  const dataDir = (n: number) => join(root, `gw-${n}`);
  const env = (n: number, extra: Record<string, string> = {}): Record<string, string> => ({
    MEDGW_LOG_LEVEL: 'warn',
    MEDGW_STORAGE_KIND: 'postgres',
    MEDGW_STORAGE_URL: storageUrl,
    MEDGW_MQTT_MODE: 'external',
    MEDGW_MQTT_EXTERNAL_URL: broker.url,
    MEDGW_MQTT_EXTERNAL_USERNAME: GATEWAY_USER,
    MEDGW_MQTT_EXTERNAL_PASSWORD: gatewayPassword,
    MEDGW_MQTT_EXTERNAL_GROUP: 'medgw',
    MEDGW_MQTT_EXTERNAL_CLIENT_ID: `medgw-${prefix}-${n}`,
    MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_USER: broker.admin.user,
    MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD: broker.admin.password,
    MEDGW_NATIONAL_BASE_URL: sandbox.url,
    MEDGW_NATIONAL_PAIRING_CLIENT_SECRET: GATEWAY_CLIENT_SECRET,
    MEDGW_HTTP_HOST: '127.0.0.1',
    MEDGW_HTTP_PORT: '0',
    MEDGW_BLE_MODE: 'off',
    MEDGW_DEMO_ENABLED: 'false',
    MEDGW_TOKEN_KEY: tokenKey,
    ...extra,
  });
  const site: Site = {
    root,
    pg,
    storageUrl,
    broker,
    sandbox,
    gatewayPassword,
    env,
    dataDir,
    async start(n, extra) {
      const gw = await spawnGateway({ args: ['--data-dir', dataDir(n)], env: env(n, extra) });
      const api = gw.endpoints.get('admin API');
      if (!api) throw new Error(`instance ${n} printed no admin API endpoint:\n${gw.output()}`);
      const token = readFileSync(dataPath(dataDir(n), 'token'), 'utf8').trim();
      return Object.assign(gw, {
        n,
        api,
        async call<T>(method: string, path: string, body?: unknown): Promise<T> {
          const res = await fetch(`${api}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const text = await res.text();
          if (!res.ok) throw new Error(`${method} ${path} on instance ${n}: ${res.status} ${text}`);
          return (text ? JSON.parse(text) : undefined) as T;
        },
      });
    },
    async link(n, patientId, login) {
      let approving: Promise<void> | undefined;
      let uri = '';
      const run = await runMedgw(['patient', 'link', patientId, '--no-qr', '--data-dir', dataDir(n)], {
        env: env(n),
        keepStdinOpen: true,
        onLine: (line, child) => {
          const url = /^\s+(https?:\/\/\S+)$/.exec(line)?.[1];
          if (url && !uri) uri = url;
          const code = /enters the code\s+(\S+)/.exec(line)?.[1];
          if (code && !approving) {
            approving = approveUserCode(sandbox, uri, code, { login }).catch((e: unknown) => {
              child.kill('SIGTERM');
              throw e;
            });
          }
        },
      });
      await approving;
      if (run.code !== 0)
        throw new Error(`medgw patient link ${patientId}: ${run.code}\n${run.stdout}${run.stderr}`);
    },
    async close() {
      await killAllGateways();
      await sandbox.close();
      await broker.stop();
      await pg.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return site;
}
