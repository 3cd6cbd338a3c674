/**
 * The admin password with the real `medgw` bin, stdout not a terminal: a first start that fails on a
 * busy port keeps the password in its 0600 file and the next start says where it is until the first
 * sign-in; `medgw admin reset-password` refuses while the gateway runs, then replaces the password
 * (written to the file), and after the restart the new password signs in over HTTP, the old one not.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { killAllGateways, type MedgwProcess, startMedgw } from '../support/gateway.ts';
import { Client } from '../web/harness.ts';
import { medgw } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-admin-pw-'));
afterAll(async () => {
  await killAllGateways();
  rmSync(root, { recursive: true, force: true });
});

function start(dataDir: string, httpPort: number): MedgwProcess {
  return startMedgw([
    '--data-dir',
    dataDir,
    '--mqtt-port',
    '0',
    '--http-port',
    String(httpPort),
    '--sandbox-port',
    '0',
    '--ble',
    'off',
  ]);
}

const PAGES = /local pages +(http\S+)/;

async function pagesUrl(s: MedgwProcess): Promise<string> {
  await s.waitFor('the start-up banner', (out) => PAGES.test(out));
  return PAGES.exec(s.output())?.[1] ?? '';
}

function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function signIn(base: string, password: string): Promise<number> {
  const c = new Client(base);
  const page = await (await c.go('/login')).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  return (await c.go('/login', { form: { _csrf: csrf, password, next: '/status' } })).status;
}

it('keeps the first password through a failed start, then resets it with the gateway stopped', async () => {
  const dataDir = join(root, 'gw');
  const file = join(dataDir, 'admin-password.txt');

  // a first start on a busy port fails after creating the password
  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  let failed: MedgwProcess;
  try {
    failed = start(dataDir, port);
    expect(await failed.exited).not.toBe(0);
  } finally {
    await new Promise((r) => busy.close(r));
  }
  expect(failed.output()).toMatch(/EADDRINUSE|address already in use/i);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const first = readFileSync(file, 'utf8').split('\n')[0] ?? '';
  expect(first).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);

  // the next start says where the password is (never what), and it signs in
  const running = start(dataDir, 0);
  try {
    const base = await pagesUrl(running);
    const told = logLines(running.output()).find((l) => l.path === file);
    expect(told?.msg).toMatch(/no sign-in yet/);
    expect(running.output()).not.toContain(first);

    // while the gateway runs, a reset is refused with a coded error and changes nothing
    const refused = await medgw(['admin', 'reset-password', '--data-dir', dataDir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('MEDGW_ERR_DATADIR_LOCKED');
    expect(refused.stderr).toContain('stop the gateway');
    expect(await signIn(base, first)).toBe(303);
    expect(existsSync(file)).toBe(false);
  } finally {
    await running.stop();
  }

  // gateway stopped: the reset writes the new password to the 0600 file (stdout is a pipe) and says where
  const reset = await medgw(['admin', 'reset-password', '--data-dir', dataDir]);
  expect(reset.stderr).toBe('');
  expect(reset.code).toBe(0);
  expect(reset.stdout).toContain(file);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const second = readFileSync(file, 'utf8').split('\n')[0] ?? '';
  expect(second).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
  expect(second).not.toBe(first);
  expect(reset.stdout).not.toContain(second);

  const again = start(dataDir, 0);
  try {
    const base = await pagesUrl(again);
    expect(await signIn(base, first)).toBe(401);
    expect(await signIn(base, second)).toBe(303);
    expect(existsSync(file)).toBe(false);
  } finally {
    await again.stop();
  }
}, 90_000);

it('refuses a reset on a directory no gateway has started on', async () => {
  const r = await medgw(['admin', 'reset-password', '--data-dir', join(root, 'typo')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('MEDGW_ERR_DATADIR');
  expect(existsSync(join(root, 'typo'))).toBe(false);
});
