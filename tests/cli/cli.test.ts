/**
 * The administrative commands as a person runs them: real `medgw` processes, first on a stopped
 * instance (directly on the data directory, under its lock), then while `medgw start` runs (through
 * the admin API), and the orderly stop on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { reading } from '../journal/conformance.ts';
import { medgw, ok } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-cli-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** The same administrative session, run against a data directory. */
async function session(dir: string, tag: string) {
  const d = ['--data-dir', dir];
  expect(await ok(['patients', 'add', '--id', `alice-${tag}`, '--name', 'Alice Martin', ...d])).toContain(
    `added patient alice-${tag}`,
  );
  await ok(['patients', 'add', '--id', `bob-${tag}`, '--name', 'Bob Martin', ...d]);
  const added = await ok([
    'devices',
    'add',
    '--transport',
    'mqtt',
    '--id',
    `cuff-${tag}`,
    '--patient',
    `alice-${tag}`,
    ...d,
  ]);
  const secret = /secret: (\S+)/.exec(added)?.[1];
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(added).toContain('shown once');
  const scale = JSON.parse(
    await ok(['devices', 'add', '--transport', 'ble', '--id', `scale-${tag}`, '--json', ...d]),
  );
  expect(scale.secret).toBeUndefined();
  await ok(['devices', 'assign', `scale-${tag}`, '--user', `1=alice-${tag}`, '--user', `2=bob-${tag}`, ...d]);
  const devices = JSON.parse(await ok(['devices', 'list', '--json', ...d])) as {
    id: string;
    users?: object;
  }[];
  const mine = devices.filter((x) => x.id.endsWith(tag));
  expect(mine.map((x) => x.id)).toEqual([`cuff-${tag}`, `scale-${tag}`]);
  expect(mine[1]?.users).toEqual({ '1': `alice-${tag}`, '2': `bob-${tag}` });
  expect(JSON.stringify(devices)).not.toContain(secret!);
  // the patient still assigned is refused, with its code, exit 2
  const refused = await medgw(['patients', 'remove', `bob-${tag}`, ...d]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('MEDGW_ERR_REGISTRY_IN_USE');
  await ok(['devices', 'assign', `scale-${tag}`, '--unassign-user', '2', ...d]);
  await ok(['patients', 'remove', `bob-${tag}`, ...d]);
  const table = await ok(['patients', 'list', ...d]);
  expect(table).toContain(`alice-${tag}`);
  expect(table).not.toContain(`bob-${tag}`);
  const audit = JSON.parse(await ok(['audit', 'list', '--patient', `alice-${tag}`, '--json', ...d])) as {
    event: string;
  }[];
  expect(audit.map((e) => e.event)).toEqual(['patient.added', 'device.added', 'device.user-assigned']);
  expect(await ok(['audit', 'verify', ...d])).toMatch(/audit chain intact: \d+ entries/);
  const stats = JSON.parse(await ok(['journal', 'stats', '--json', ...d]));
  // other components (demo devices) may have stored readings: the shape is what matters here
  expect(Object.keys(stats.byState).sort()).toEqual([
    'dead-letter',
    'delivered',
    'held',
    'in-flight',
    'local',
    'pending',
    'quarantined',
  ]);
  expect(Object.values(stats.byState).every((n) => typeof n === 'number')).toBe(true);
  return { secret: secret! };
}

describe('medgw administrative commands', () => {
  const dir = join(root, 'instance');

  it('work directly on the data directory when no gateway runs', async () => {
    await session(dir, 'direct');
    expect(existsSync(join(dir, 'medgw.lock'))).toBe(false);
  }, 180_000);

  it('work through the admin API while the gateway runs, and the gateway stops cleanly on SIGTERM', async () => {
    const gw = spawn(
      process.execPath,
      [
        'bin/medgw.mjs',
        'start',
        '--data-dir',
        dir,
        '--http-port',
        '0',
        '--mqtt-port',
        '0',
        '--sandbox-port',
        '0',
        '--ble',
        'off',
        '--log-level',
        'warn',
      ],
      // the `npm start` demo (its own patient and devices) is not part of this session
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MEDGW_CONFIG: '', MEDGW_DEMO_ENABLED: 'false' },
      },
    );
    children.push(gw);
    let out = '';
    let err = '';
    gw.stderr!.on('data', (b) => {
      err += String(b);
    });
    const lines = createInterface({ input: gw.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (l) => {
        out += `${l}\n`;
        if (l.includes('Press Ctrl+C')) resolve();
      });
      gw.on('exit', (code) => reject(new Error(`medgw start exited ${code}: ${err}${out}`)));
    });
    expect(out).toMatch(/admin API\s+http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
    expect(existsSync(join(dir, 'admin-token'))).toBe(true);

    // a second gateway on the same directory is refused
    const second = await medgw([
      'start',
      '--data-dir',
      dir,
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--sandbox-port',
      '0',
      '--ble',
      'off',
    ]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('MEDGW_ERR_DATADIR_LOCKED');

    await session(dir, 'api');
    // what was done before the start is visible through the API
    const devices = JSON.parse(await ok(['devices', 'list', '--json', '--data-dir', dir])) as {
      id: string;
    }[];
    expect(devices.map((x) => x.id).filter((id) => /-(direct|api)$/.test(id))).toEqual([
      'cuff-direct',
      'scale-direct',
      'cuff-api',
      'scale-api',
    ]);

    const exited = new Promise<number | null>((resolve) => gw.on('exit', (code) => resolve(code)));
    gw.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('medgw stopped (SIGTERM)');
    expect(existsSync(join(dir, 'medgw.lock'))).toBe(false);
    expect(existsSync(join(dir, 'admin-endpoint.json'))).toBe(false);
    // and the data written through the API is there for the direct path
    expect(await ok(['devices', 'list', '--data-dir', dir])).toContain('cuff-api');
  }, 180_000);

  it('lists, retries and discards readings of the outbox', async () => {
    const j = new SqliteJournal({ path: join(dir, 'journal.db') });
    const before = j.stats(Date.now()).byState;
    j.append([
      reading('r-held', {
        deviceId: 'cuff-direct',
        state: 'held',
        reason: { code: 'MEDGW_ERR_X', message: 'no consent' },
      }),
      reading('r-pending', { deviceId: 'cuff-direct' }),
    ]);
    j.close();
    const held = JSON.parse(
      await ok([
        'journal',
        'list',
        '--state',
        'held',
        '--device',
        'cuff-direct',
        '--json',
        '--data-dir',
        dir,
      ]),
    ) as { id: string }[];
    expect(held.map((r) => r.id)).toEqual(['r-held']);
    expect(await ok(['journal', 'retry', 'r-held', '--data-dir', dir])).toBe('r-held: pending\n');
    expect(await ok(['journal', 'discard', 'r-pending', '--data-dir', dir])).toBe('r-pending: dead-letter\n');
    const again = await medgw(['journal', 'discard', 'r-pending', 'r-ghost', '--data-dir', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('r-pending: MEDGW_ERR_JOURNAL_STATE');
    expect(again.stderr).toContain('r-ghost: MEDGW_ERR_JOURNAL_UNKNOWN_READING');
    const stats = JSON.parse(await ok(['journal', 'stats', '--json', '--data-dir', dir]));
    expect(stats.byState).toMatchObject({
      pending: before.pending + 1,
      'dead-letter': before['dead-letter'] + 1,
      held: before.held,
    });
    expect(await ok(['devices', 'forget', 'scale-api', '--data-dir', dir])).toBe(
      'forgot device scale-api (pair it again to use it)\n',
    );
  }, 120_000);

  it('audit verify reports an audit log altered behind the gateway’s back', async () => {
    const db = new Database(join(dir, 'journal.db'));
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET event = 'device.removed' WHERE seq = 3").run();
    db.close();
    const r = await medgw(['audit', 'verify', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('BROKEN at entry 3');
  });

  it('refuses bad usage and bad configuration with codes, never a stack trace', async () => {
    const a = await medgw(['devices', 'frobnicate', '--data-dir', dir]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('MEDGW_ERR_USAGE');
    const b = await medgw(['devices', 'add', '--transport', 'zigbee', '--id', 'x', '--data-dir', dir]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('MEDGW_ERR_USAGE');
    const c = await medgw(['start', '--data-dir', dir, '--http-port', 'eighty']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(
      'MEDGW_ERR_CONFIG: http.port: expected an integer from 0 to 65535, got "eighty" (from the command line)',
    );
    expect(c.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
