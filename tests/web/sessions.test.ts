/**
 * The session store, the sign-in throttle and the password check as units, with a hand-driven
 * clock: bounded store, expiry by idle time, least recently used evicted first, global back-off,
 * bounded throttle memory, and scrypt off the event loop.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AdminPassword,
  announcePendingPassword,
  clientAddress,
  deliverAdminPassword,
  LoginThrottle,
  removeInitialPasswordFile,
  resetAdminPassword,
  Sessions,
  SignInForms,
} from '../../gateway/web/auth.ts';

function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('sessions', () => {
  it('hold at most `max`; a new one ends the least recently used, not a recently used one', () => {
    const clock = manualClock();
    const sessions = new Sessions(clock, 3600_000, 3);
    const a = sessions.create();
    const b = sessions.create();
    const c = sessions.create();
    sessions.get(a.id); // a is now the most recently used
    const d = sessions.create();
    expect(sessions.size).toBe(3);
    expect(sessions.get(b.id)).toBeUndefined();
    for (const s of [a, c, d]) expect(sessions.get(s.id)?.id).toBe(s.id);
  });

  it('end after the idle time, and a use keeps a session alive', () => {
    const clock = manualClock();
    const sessions = new Sessions(clock, 1000, 10);
    const kept = sessions.create();
    const idle = sessions.create();
    clock.advance(800);
    sessions.get(kept.id);
    clock.advance(800);
    expect(sessions.get(idle.id)).toBeUndefined();
    expect(sessions.get(kept.id)?.id).toBe(kept.id);
    clock.advance(1001);
    expect(sessions.size).toBe(0);
  });
});

describe('sign-in form value', () => {
  it('is accepted only as issued, by the same secret, within its lifetime', () => {
    const clock = manualClock();
    const forms = new SignInForms(clock, 60_000);
    const v = forms.issue();
    expect(forms.check(v, v)).toBe(true);
    expect(forms.check(v, forms.issue())).toBe(false);
    expect(forms.check(undefined, v)).toBe(false);
    expect(new SignInForms(clock, 60_000).check(v, v)).toBe(false);
    clock.advance(60_001);
    expect(forms.check(v, v)).toBe(false);
  });
});

describe('sign-in throttle', () => {
  it('backs off globally beyond the budget, doubling up to the maximum, whatever the address', () => {
    const clock = manualClock();
    const t = new LoginThrottle(clock, { globalBudget: 3, backoffBaseMs: 1000, backoffMaxMs: 4000 });
    for (let i = 0; i < 3; i++) t.fail(`10.0.0.${i}`);
    expect(t.lockedFor('10.0.0.99')).toBe(0);
    t.fail('10.0.0.3');
    expect(t.lockedFor('10.0.0.99')).toBe(1000);
    t.fail('10.0.0.4');
    expect(t.lockedFor('10.0.0.99')).toBe(2000);
    for (let i = 0; i < 5; i++) t.fail(`10.0.1.${i}`);
    expect(t.lockedFor('10.0.0.99')).toBe(4000);
    clock.advance(4000);
    expect(t.lockedFor('10.0.0.99')).toBe(0);
  });

  it('remembers a bounded number of addresses', () => {
    const t = new LoginThrottle(manualClock(), { maxAddresses: 50, globalBudget: 1e9 });
    for (let i = 0; i < 1000; i++) t.fail(`fd00::${i.toString(16)}`);
    expect(t.addresses).toBe(50);
  });

  it('reads X-Forwarded-For only from the trusted proxy, and then only its own last entry', () => {
    expect(clientAddress('203.0.113.7', '10.0.0.1', undefined)).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', '10.0.0.1', '127.0.0.1')).toBe('203.0.113.7');
    expect(clientAddress('::ffff:127.0.0.1', '10.0.0.1, 10.0.0.2', '127.0.0.1')).toBe('10.0.0.2');
    expect(clientAddress('127.0.0.1', 'not-an-address', '127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('admin password check', () => {
  it('runs scrypt off the event loop: timers keep firing while it works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-pw-'));
    try {
      const password = new AdminPassword(dir);
      password.ensure({ now: () => 0 }, 'correct-horse-battery-staple');
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      const checks = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          password.verify(i === 0 ? 'correct-horse-battery-staple' : 'wrong'),
        ),
      );
      clearInterval(timer);
      expect(checks).toEqual([true, false, false, false]);
      // four scrypt checks of ~16 MiB each take tens of ms; run on the event loop they would let
      // through at most the one or two timer turns of the file reads
      expect(ticks).toBeGreaterThanOrEqual(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('first admin password', () => {
  it('waits in a 0600 file until the first sign-in, and on the terminal when stdout is one; the log says where, never what', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-pw-'));
    try {
      const lines: string[] = [];
      const log = {
        info: (o: object, m: string) => lines.push(JSON.stringify({ ...o, m })),
        warn: (o: object, m: string) => lines.push(JSON.stringify({ ...o, m })),
      };
      const shown: string[] = [];
      const file = join(dir, 'admin-password.txt');
      deliverAdminPassword('pw-on-terminal-1', {
        dataDir: dir,
        log,
        terminal: { isTTY: true, write: (t) => shown.push(t) },
      });
      expect(shown.join('')).toContain('pw-on-terminal-1');
      expect(shown.join('')).toContain(file);
      // a start that fails after this point loses nothing: the file keeps it until the first sign-in
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('pw-on-terminal-1');
      deliverAdminPassword('pw-in-file-2', {
        dataDir: dir,
        log,
        terminal: { isTTY: false, write: (t) => shown.push(t) },
      });
      expect(shown.join('')).not.toContain('pw-in-file-2');
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('pw-in-file-2');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // a later start before any sign-in says where the password is, on the terminal and in the log
      const later: string[] = [];
      const before = lines.length;
      expect(
        announcePendingPassword({
          dataDir: dir,
          log,
          terminal: { isTTY: true, write: (t) => later.push(t) },
        }),
      ).toBe(true);
      expect(later.join('')).toContain(file);
      expect(later.join('')).not.toContain('pw-in-file-2');
      expect(lines.slice(before).some((l) => l.includes(file))).toBe(true);
      expect(lines.join('\n')).not.toMatch(/pw-on-terminal-1|pw-in-file-2/);
      expect(lines.some((l) => l.includes(file))).toBe(true);
      // after the first sign-in removed it, nothing more to say
      expect(removeInitialPasswordFile(dir)).toBe(true);
      expect(
        announcePendingPassword({
          dataDir: dir,
          log,
          terminal: { isTTY: true, write: (t) => later.push(t) },
        }),
      ).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reset replaces the hash: shown once on a terminal (an older file removed), else in the 0600 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-pw-'));
    try {
      const password = new AdminPassword(dir);
      const first = password.ensure({ now: () => 0 }) ?? '';
      deliverAdminPassword(first, {
        dataDir: dir,
        log: { info: () => undefined, warn: () => undefined },
        terminal: { isTTY: false, write: () => true },
      });
      const shown: string[] = [];
      expect(resetAdminPassword(dir, { now: () => 1 }, { isTTY: true, write: (t) => shown.push(t) })).toEqual(
        {
          shown: 'terminal',
        },
      );
      const onTerminal = /: ([a-z2-9-]{23})\n/.exec(shown.join(''))?.[1] ?? '';
      expect(existsSync(join(dir, 'admin-password.txt'))).toBe(false);
      expect(await password.verify(onTerminal)).toBe(true);
      expect(await password.verify(first)).toBe(false);
      const out = resetAdminPassword(dir, { now: () => 2 }, { isTTY: false, write: (t) => shown.push(t) });
      expect(out).toEqual({ shown: 'file', path: join(dir, 'admin-password.txt') });
      const inFile = readFileSync(join(dir, 'admin-password.txt'), 'utf8').split('\n')[0] ?? '';
      expect(statSync(join(dir, 'admin-password.txt')).mode & 0o777).toBe(0o600);
      expect(shown.join('')).not.toContain(inFile);
      expect(await password.verify(inFile)).toBe(true);
      expect(await password.verify(onTerminal)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
