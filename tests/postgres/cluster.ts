/**
 * A throwaway PostgreSQL for the storage tests: `initdb` into a temporary directory, `postgres` on a
 * free loopback port (no Unix socket outside that directory), one database per call of `database()`,
 * and `stop()` that stops the server and removes the directory. Started as root, the cluster runs as
 * the `postgres` user (initdb and postgres refuse to run as root). CI installs the Debian package
 * `postgresql`; a missing binary fails with what to install, never a skip.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian puts the server binaries (the newest version wins); MEDGW_PG_BIN overrides. */
function pgBin(): string {
  if (process.env.MEDGW_PG_BIN) return process.env.MEDGW_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL server binaries not found (initdb, postgres under /usr/lib/postgresql/<version>/bin): ' +
        'install the Debian package `postgresql` (apt-get install postgresql), or set MEDGW_PG_BIN',
    );
  }
  return join(root, versions[0] as string, 'bin');
}

export interface RunningPostgres {
  readonly port: number;
  /** A new empty database on this server; its connection URL. */
  database(name?: string): string;
  /** The URL of the default `postgres` database (for superuser checks). */
  readonly adminUrl: string;
  /** What the server logged, for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
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

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as `postgres` when this process is root. */
function asServerUser(bin: string, args: string[]): { cmd: string; args: string[] } {
  return asRoot
    ? { cmd: '/usr/sbin/runuser', args: ['-u', 'postgres', '--', bin, ...args] }
    : { cmd: bin, args };
}

let counter = 0;

/**
 * `durable`: fsync, synchronous commits and full-page writes on, as a production server runs (the
 * benchmarks); off by default, since tests need correctness, not durability across a power cut.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<RunningPostgres> {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'medgw-pg-'));
  const data = join(dir, 'data');
  chmodSync(dir, 0o777);
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, 'medgw\n');
  chmodSync(pwfile, 0o644);
  const init = asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'medgw',
    '--pwfile',
    pwfile,
    '-A',
    'scram-sha-256',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  try {
    execFileSync(init.cmd, init.args, { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer };
    throw new Error(`initdb failed: ${err.stderr?.toString() ?? String(e)}`);
  }
  const port = await freePort();
  const run = asServerUser(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    ...(options.durable
      ? []
      : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    '-c',
    'max_connections=200',
  ]);
  // Its own process group, so stop() reaches the postmaster and everything it forked.
  const child: ChildProcess = spawn(run.cmd, run.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const isready = join(bin, 'pg_isready');
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`postgres exited with ${child.exitCode}\n${output}`);
    }
    try {
      execFileSync(isready, ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
      break;
    } catch {
      if (Date.now() > deadline) {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`postgres did not accept connections on ${port}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const base = `postgres://medgw:medgw@127.0.0.1:${port}`;
  const psql = join(bin, 'psql');
  return {
    port,
    adminUrl: `${base}/postgres`,
    log: () => output,
    database(name) {
      counter += 1;
      const db = name ?? `medgw_${process.pid}_${counter}`;
      execFileSync(psql, [`${base}/postgres`, '-q', '-c', `CREATE DATABASE "${db}"`], { stdio: 'pipe' });
      return `${base}/${db}`;
    },
    async stop() {
      if (child.exitCode === null && child.pid) {
        const exited = new Promise((r) => child.once('exit', r));
        // SIGINT: the "fast" shutdown (disconnects clients, no checkpoint wait beyond what is needed).
        process.kill(-child.pid, 'SIGINT');
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
