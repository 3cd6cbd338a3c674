import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, dataPath, ensureAdminToken, ensureDataDir, lockHolder } from './datadir.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

describe('data directory', () => {
  it('the lock is exclusive while held and free once released', () => {
    const dir = fresh();
    const lock = acquireLock(dir, 'gateway');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(lockHolder(dir)).toMatchObject({ pid: process.pid, role: 'gateway' });
    expect(() => acquireLock(dir, 'cli')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATADIR_LOCKED' }),
    );
    lock.release();
    expect(lockHolder(dir)).toBeUndefined();
    acquireLock(dir, 'cli').release();
  });

  it('a lock held by another live process refuses; once it dies the lock is taken over', async () => {
    const dir = fresh();
    // a real second process holding the lock file with its own pid
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    ensureDataDir(dir);
    writeFileSync(
      dataPath(dir, 'lock'),
      JSON.stringify({ pid: child.pid, host: hostname(), startedAt: Date.now(), role: 'gateway' }),
    );
    expect(lockHolder(dir)?.pid).toBe(child.pid);
    expect(() => acquireLock(dir, 'cli')).toThrow(
      expect.objectContaining({
        code: 'MEDGW_ERR_DATADIR_LOCKED',
        message: expect.stringContaining(String(child.pid)),
      }),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(lockHolder(dir)).toBeUndefined();
    const lock = acquireLock(dir, 'gateway');
    expect(JSON.parse(readFileSync(dataPath(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('a holder killed but not yet reaped (a zombie) counts as dead: the lock is taken over at once', async () => {
    const dir = fresh();
    // the shell starts a holder then becomes `sleep`, which never reaps it: once killed, it stays a zombie
    const parent = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 60'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    try {
      const pid = Number(
        await new Promise<string>((resolve) =>
          parent.stdout?.once('data', (b: Buffer) => resolve(String(b))),
        ),
      );
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const procStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      ensureDataDir(dir);
      writeFileSync(
        dataPath(dir, 'lock'),
        JSON.stringify({ pid, host: hostname(), startedAt: Date.now(), role: 'gateway', procStart }),
      );
      expect(lockHolder(dir)?.pid).toBe(pid);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
      expect(lockHolder(dir)).toBeUndefined();
      acquireLock(dir, 'gateway').release();
    } finally {
      if (parent.pid) process.kill(-parent.pid, 'SIGKILL');
    }
  });

  it('a lock whose pid now belongs to another process (pid reuse) is taken over', () => {
    const dir = fresh();
    ensureDataDir(dir);
    // the parent process is alive, but it is not the process that wrote this lock
    writeFileSync(
      dataPath(dir, 'lock'),
      JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: 1, role: 'gateway', procStart: '1' }),
    );
    expect(lockHolder(dir)).toBeUndefined();
    acquireLock(dir, 'cli').release();
    // the same pid with its real start time is respected
    const own = acquireLock(dir, 'gateway');
    expect(JSON.parse(readFileSync(dataPath(dir, 'lock'), 'utf8')).procStart).toMatch(/^[0-9]+$/);
    expect(() => acquireLock(dir, 'cli')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATADIR_LOCKED' }),
    );
    own.release();
  });

  it('an unreadable lock file is taken over', () => {
    const dir = fresh();
    acquireLock(dir, 'cli').release();
    writeFileSync(dataPath(dir, 'lock'), 'garbage');
    acquireLock(dir, 'cli').release();
  });

  it('creates the admin token once, private to the user', () => {
    const dir = fresh();
    acquireLock(dir, 'cli').release();
    const token = ensureAdminToken(dir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(dataPath(dir, 'token')).mode & 0o777).toBe(0o600);
    expect(ensureAdminToken(dir)).toBe(token);
  });
});
