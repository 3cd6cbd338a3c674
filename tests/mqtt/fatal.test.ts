/**
 * The process-level guard of `medgw start`: an unhandled rejection or an uncaught exception is logged
 * as MEDGW_ERR_FATAL, the lifecycle stops in order (the broker closes, the lock is released) and the
 * process exits with status 70, never silently.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { FATAL_EXIT_CODE } from '../../gateway/lifecycle.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function runFault(fault: 'rejection' | 'exception') {
  const dir = mkdtempSync(join(tmpdir(), 'medgw-fatal-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['bin/run.mjs', 'tests/mqtt/fatal-gateway.ts', dir, fault], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${lines.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const [tag, p] = line.split(' ');
      if (tag === 'ready' && p) resolve(Number(p));
    });
  });
  try {
    expect(await canConnect(port)).toBe(true);
    expect(existsSync(join(dir, 'medgw.lock'))).toBe(true);
    child.kill('SIGUSR2');
    const code = await exited;
    return { code, lines, port, dir };
  } finally {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  }
}

const parsed = (lines: string[]) =>
  lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('fatal errors in the gateway process', () => {
  for (const fault of ['rejection', 'exception'] as const) {
    it(`an unhandled ${fault} is logged as MEDGW_ERR_FATAL and the gateway stops in order`, async () => {
      const { code, lines, port, dir } = await runFault(fault);
      expect(code).toBe(FATAL_EXIT_CODE);
      const logs = parsed(lines);
      const fatal = logs.findIndex((l) => l.code === 'MEDGW_ERR_FATAL' && l.level === 60);
      expect(fatal).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(logs[fatal])).toContain('injected');
      expect(logs[fatal]?.origin).toBe(fault === 'rejection' ? 'unhandledRejection' : 'uncaughtException');
      const stopped = logs.findIndex((l) => l.msg === 'medgw stopped');
      expect(stopped).toBeGreaterThan(fatal);
      expect(lines.some((l) => l.includes('stopped after a fatal error'))).toBe(true);
      expect(existsSync(join(dir, 'medgw.lock'))).toBe(false);
      expect(await canConnect(port)).toBe(false);
    }, 30_000);
  }
});
