/**
 * A real Mosquitto for external-broker tests, started on a free loopback port with a generated config in
 * its own process group, in one of two modes:
 * - `startMosquitto`: a password file and the ACL documented in gateway/mqtt/external.ts (each device
 *   writes only its own measurements and reads only its own receipts; the gateway user reads all
 *   measurements and writes receipts);
 * - `startMosquittoDynsec`: the dynamic-security plugin (`plugin …mosquitto_dynamic_security.so` +
 *   `plugin_opt_config_file`), its JSON created by `mosquitto_ctrl dynsec init <file> <admin> <password>`:
 *   only the admin exists; medgw creates every other client and role (gateway/mqtt/dynsec.ts).
 * CI installs mosquitto and mosquitto-clients from Debian; a missing one fails the test saying so.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = process.env.MEDGW_MOSQUITTO ?? '/usr/sbin/mosquitto';
const PASSWD = process.env.MEDGW_MOSQUITTO_PASSWD ?? '/usr/bin/mosquitto_passwd';
const CTRL = process.env.MEDGW_MOSQUITTO_CTRL ?? '/usr/bin/mosquitto_ctrl';
export const DYNSEC_PLUGIN =
  process.env.MEDGW_MOSQUITTO_DYNSEC ?? '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

function need(path: string, what: string): void {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: install ${what} (apt-get install ${what}) to run this test`);
  }
}

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO) && existsSync(PASSWD);
}

export interface RunningMosquitto {
  readonly url: string;
  readonly port: number;
  /** The broker's process id (SIGSTOP/SIGCONT freeze it: a broker that takes connections and never answers). */
  readonly pid: number;
  stop(): Promise<void>;
  /** What Mosquitto logged, for a failing test's message. */
  log(): string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`mosquitto exited with ${child.exitCode}`));
      const sock = createConnection({ port, host: '127.0.0.1' });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Starts mosquitto on `conf` (which must listen on `port`) in its own process group. */
async function launch(dir: string, conf: string, port: number): Promise<RunningMosquitto> {
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, 10_000);
  } catch (e) {
    await stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${output}`);
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid ?? 0, log: () => output, stop };
}

function listenerLines(port: number): string[] {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    'persistence false',
    'set_tcp_nodelay true',
    'max_queued_messages 100000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
  ];
}

/** users: name → password. The gateway user gets the gateway rights, every other user the device rights. */
export async function startMosquitto(
  users: Record<string, string>,
  gatewayUser: string,
): Promise<RunningMosquitto> {
  need(MOSQUITTO, 'mosquitto');
  need(PASSWD, 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'medgw-mosquitto-'));
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [user, password] of Object.entries(users)) {
    execFileSync(PASSWD, ['-b', passwd, user, password]);
  }
  const acl = join(dir, 'acl');
  writeFileSync(
    acl,
    [
      `user ${gatewayUser}`,
      'topic read medgw/v1/devices/+/measurements/+',
      'topic write medgw/v1/devices/+/receipts',
      '',
      'pattern write medgw/v1/devices/%u/measurements/+',
      'pattern read medgw/v1/devices/%u/receipts',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [...listenerLines(port), `password_file ${passwd}`, `acl_file ${acl}`, ''].join('\n'));
  // Started as root, Mosquitto drops to its own user before reading the password and ACL files.
  chmodSync(dir, 0o755);
  for (const f of [passwd, acl, conf]) chmodSync(f, 0o644);
  return launch(dir, conf, port);
}

export interface RunningDynsecMosquitto extends RunningMosquitto {
  readonly admin: { readonly user: string; readonly password: string };
  /** The plugin's JSON file (clients, roles, default access), as the plugin saved it last. */
  readonly configFile: string;
}

/**
 * Mosquitto with the dynamic-security plugin and only its admin client; the plugin's default access is
 * the one `mosquitto_ctrl dynsec init` writes (publish and subscribe denied unless a role allows).
 */
export async function startMosquittoDynsec(
  admin = { user: 'dynsec-admin', password: `admin-${Math.random().toString(36).slice(2)}` },
): Promise<RunningDynsecMosquitto> {
  need(MOSQUITTO, 'mosquitto');
  need(DYNSEC_PLUGIN, 'mosquitto');
  need(CTRL, 'mosquitto-clients');
  const dir = mkdtempSync(join(tmpdir(), 'medgw-mosquitto-dynsec-'));
  const configFile = join(dir, 'dynamic-security.json');
  execFileSync(CTRL, ['dynsec', 'init', configFile, admin.user, admin.password], { stdio: 'ignore' });
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      ...listenerLines(port),
      'per_listener_settings false',
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${configFile}`,
      '',
    ].join('\n'),
  );
  // Started as root, Mosquitto runs as its own user, and the plugin rewrites its JSON file on each change.
  chmodSync(dir, 0o755);
  for (const f of [configFile, conf]) chmodSync(f, 0o644);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'mosquitto']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'mosquitto']).toString().trim());
    for (const f of [dir, configFile, conf]) chownSync(f, uid, gid);
  }
  const running = await launch(dir, conf, port);
  return { ...running, admin, configFile };
}
