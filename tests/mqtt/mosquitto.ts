/**
 * A real Mosquitto for external-broker tests: started on a free loopback port with a generated config,
 * a password file and the ACL documented in gateway/mqtt/external.ts (each device writes only its own
 * measurements and reads only its own receipts; the gateway user reads all measurements and writes
 * receipts). CI installs /usr/sbin/mosquitto from Debian.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = process.env.MEDGW_MOSQUITTO ?? '/usr/sbin/mosquitto';
const PASSWD = process.env.MEDGW_MOSQUITTO_PASSWD ?? '/usr/bin/mosquitto_passwd';

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO) && existsSync(PASSWD);
}

export interface RunningMosquitto {
  readonly url: string;
  readonly port: number;
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

/** users: name → password. The gateway user gets the gateway rights, every other user the device rights. */
export async function startMosquitto(
  users: Record<string, string>,
  gatewayUser: string,
): Promise<RunningMosquitto> {
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
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
      'persistence false',
      'set_tcp_nodelay true',
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      '',
    ].join('\n'),
  );
  // Started as root, Mosquitto drops to its own user before reading the password and ACL files.
  chmodSync(dir, 0o755);
  for (const f of [passwd, acl, conf]) chmodSync(f, 0o644);
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  try {
    await waitForPort(port, child, 10_000);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${output}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
