/**
 * The data directory of one instance: an exclusive lock (pid + liveness check) so two processes never
 * write the same files, the admin token (0600, created at first start) and the admin endpoint file
 * through which the command line finds a running gateway.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MedgwError } from '../kernel/errors.ts';

export const FILES = {
  lock: 'medgw.lock',
  token: 'admin-token',
  endpoint: 'admin-endpoint.json',
  registry: 'registry.json',
  journal: 'journal.db',
  /** The scrypt hash of the admin password of the local pages (gateway/web/auth.ts). */
  webPassword: 'web-admin.json',
} as const;

export function dataPath(dataDir: string, file: keyof typeof FILES): string {
  return join(dataDir, FILES[file]);
}

/**
 * Whether the data directory has never held a started gateway: no registry and no admin password
 * for the pages yet (both written at or before the end of a first start). Only then may an empty
 * journal file be taken for a new journal.
 */
export function isNewDataDir(dataDir: string): boolean {
  return !existsSync(dataPath(dataDir, 'registry')) && !existsSync(dataPath(dataDir, 'webPassword'));
}

/** Creates the data directory (0700) if needed. */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (!statSync(dataDir).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_DATADIR',
      `cannot use ${dataDir} as data directory: ${(e as Error).message}`,
    );
  }
}

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  /** Why the lock is held: `gateway` (a running `medgw start`) or `cli` (a command working on the files). */
  readonly role: 'gateway' | 'cli';
  /** Start time of the holder (Linux), so a pid reused by an unrelated process is not taken for it. */
  readonly procStart?: string;
}

/**
 * State and start time (clock ticks since boot) of a process, from Linux /proc/<pid>/stat (proc(5):
 * field 3 is the state, field 22 the start time), or undefined where there is no /proc.
 */
function processStat(pid: number): { state: string; start: string | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] };
  } catch {
    return undefined;
  }
}

function processStart(pid: number): string | undefined {
  return processStat(pid)?.start;
}

function alive(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = processStat(info.pid);
  // a killed process its parent has not reaped yet (zombie, Z; or dead, X) holds nothing any more:
  // a restart right after a SIGKILL must not wait for the reaping
  if (stat && (stat.state === 'Z' || stat.state === 'X')) return false;
  // the pid exists; if the holder recorded its start time, it must be the same process
  if (info.procStart === undefined) return true;
  return stat?.start === undefined || stat.start === info.procStart;
}

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The holder of the lock if it is a live process, else undefined. */
export function lockHolder(dataDir: string): LockInfo | undefined {
  const info = readLock(dataPath(dataDir, 'lock'));
  if (!info) return undefined;
  if (info.host !== hostname()) return info;
  return alive(info) ? info : undefined;
}

export interface DataDirLock {
  readonly info: LockInfo;
  release(): void;
}

/**
 * Takes the exclusive lock. A lock left by a dead process on this host is taken over; a live
 * holder refuses with MEDGW_ERR_DATADIR_LOCKED.
 */
export function acquireLock(dataDir: string, role: LockInfo['role']): DataDirLock {
  ensureDataDir(dataDir);
  const path = dataPath(dataDir, 'lock');
  const procStart = processStart(process.pid);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: Date.now(),
    role,
    ...(procStart !== undefined ? { procStart } : {}),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(info));
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        info,
        release() {
          if (released) return;
          released = true;
          if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new MedgwError('MEDGW_ERR_DATADIR', `cannot create ${path}: ${(e as Error).message}`);
      }
    }
    const holder = readLock(path);
    if (holder && (holder.host !== hostname() || alive(holder))) {
      throw new MedgwError(
        'MEDGW_ERR_DATADIR_LOCKED',
        `${dataDir} is locked by process ${holder.pid} on ${holder.host} (${holder.role}, since ${new Date(holder.startedAt).toISOString()})`,
        { pid: holder.pid },
      );
    }
    // stale (dead holder) or unreadable: move it aside atomically so only one taker removes it
    const aside = `${path}.stale.${process.pid}.${attempt}`;
    try {
      renameSync(path, aside);
      const moved = readLock(aside);
      if (moved && moved.pid !== holder?.pid && alive(moved)) {
        // someone else took the lock between our read and our rename: put it back
        renameSync(aside, path);
        continue;
      }
      rmSync(aside, { force: true });
    } catch {
      // another process moved it first; try again
    }
  }
  throw new MedgwError(
    'MEDGW_ERR_DATADIR_LOCKED',
    `${dataDir}: could not take the lock after several attempts`,
  );
}

/** Reads the admin token, creating it (0600) at first start. */
export function ensureAdminToken(dataDir: string): string {
  const path = dataPath(dataDir, 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 32) {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
      return token;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new MedgwError('MEDGW_ERR_DATADIR', `cannot read ${path}: ${(e as Error).message}`);
    }
  }
  const token = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (e) {
    throw new MedgwError('MEDGW_ERR_DATADIR', `cannot write ${path}: ${(e as Error).message}`);
  }
  return token;
}

export function readAdminToken(dataDir: string): string | undefined {
  try {
    return readFileSync(dataPath(dataDir, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface AdminEndpoint {
  readonly pid: number;
  readonly url: string;
}

export function writeAdminEndpoint(dataDir: string, endpoint: AdminEndpoint): void {
  const path = dataPath(dataDir, 'endpoint');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(endpoint), { mode: 0o600 });
  renameSync(tmp, path);
}

export function readAdminEndpoint(dataDir: string): AdminEndpoint | undefined {
  try {
    const e = JSON.parse(readFileSync(dataPath(dataDir, 'endpoint'), 'utf8')) as AdminEndpoint;
    return typeof e.url === 'string' && typeof e.pid === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}

export function removeAdminEndpoint(dataDir: string): void {
  const path = dataPath(dataDir, 'endpoint');
  if (readAdminEndpoint(dataDir)?.pid === process.pid) rmSync(path, { force: true });
}
