/**
 * The command line and `medgw start` on storage.kind postgres: two data directories stand for two
 * instances sharing one database. What `medgw patients add` and `medgw devices add` write through one
 * is listed by the other; a device added while the other runs reaches its registry (NOTIFY) and its
 * admin API lists it; `medgw patient status` and `kinds` read the links the instances share.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { pipelineComponent } from '../../gateway/mqtt/components.ts';
import { PostgresRegistry } from '../../gateway/registry/postgres.ts';
import { AesGcmSealer } from '../../gateway/secrets/index.ts';
import { openPool } from '../../gateway/storage/postgres.ts';
import { PostgresTokenStore } from '../../gateway/storage/tokens-postgres.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
let url: string;
const root = mkdtempSync(join(tmpdir(), 'medgw-pg-cli-'));
const env = {
  MEDGW_STORAGE_KIND: 'postgres',
  MEDGW_STORAGE_URL: '',
  MEDGW_TOKEN_KEY: randomBytes(32).toString('hex'),
};

beforeAll(async () => {
  server = await startPostgres();
  url = server.database();
  env.MEDGW_STORAGE_URL = url;
}, 60_000);

/** Commands still running (a test that failed or timed out): their process groups are killed. */
const running = new Set<number>();

afterAll(async () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real `medgw` bin with the instances' storage in its environment. */
function medgw(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/medgw.mjs', ...args], {
      env: { ...process.env, MEDGW_CONFIG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid) running.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += String(b);
    });
    child.stderr.on('data', (b) => {
      stderr += String(b);
    });
    child.on('close', (code) => {
      if (child.pid) running.delete(child.pid);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await medgw(args);
  expect(r.stderr, `medgw ${args.join(' ')}`).toBe('');
  expect(r.code, `medgw ${args.join(' ')}`).toBe(0);
  return r.stdout;
}

describe('medgw on storage.kind postgres', () => {
  it('devices and patients written through one instance are the fleet of every instance', async () => {
    const one = join(root, 'one');
    const two = join(root, 'two');
    await ok(['patients', 'add', '--id', 'alice', '--name', 'Alice', '--data-dir', one]);
    const added = JSON.parse(
      await ok([
        'devices',
        'add',
        '--transport',
        'mqtt',
        '--id',
        'bp-1',
        '--patient',
        'alice',
        '--json',
        '--data-dir',
        one,
      ]),
    ) as { secret?: string };
    expect(added.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = await ok(['devices', 'list', '--data-dir', two]);
    expect(listed).toMatch(/bp-1\s+mqtt/);
    expect(listed).toContain('alice');
    expect(await ok(['patients', 'list', '--data-dir', two])).toContain('Alice');

    // instance two runs; a device added through instance one reaches it and its admin API
    const gw = await startGateway({
      config: loadConfig({ env, overrides: { dataDir: two, 'http.port': 0 } }),
      log: silentLogger(),
      components: [pipelineComponent],
    });
    try {
      const registry = gw.ctx.registry as PostgresRegistry;
      expect(registry).toBeInstanceOf(PostgresRegistry);
      const arrived = new Promise<void>((resolve) => {
        const off = registry.onChange(() => {
          if (registry.getDevice('scale-2')) {
            off();
            resolve();
          }
        });
      });
      await ok([
        'devices',
        'add',
        '--transport',
        'ble',
        '--id',
        'scale-2',
        '--patient',
        'alice',
        '--data-dir',
        one,
      ]);
      await arrived;
      // medgw devices list on instance two's data directory goes through its admin API
      expect(await ok(['devices', 'list', '--data-dir', two])).toContain('scale-2');
      expect(registry.verifyDeviceSecret('bp-1', added.secret!)).toBe(true);
    } finally {
      await gw.stop();
    }
  }, 120_000);

  it('medgw patient status and kinds read the links the instances share', async () => {
    const three = join(root, 'three');
    expect(await ok(['patient', 'status', '--data-dir', three])).toContain('no patient is linked');
    const refused = await medgw(['patient', 'kinds', 'alice', 'glucose', '--data-dir', three]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('MEDGW_ERR_NOT_LINKED');
    // a link another instance stored (sealed with the instances' key)
    const pool = await openPool(url, { max: 2 });
    const store = await PostgresTokenStore.open(
      pool,
      new AesGcmSealer(Buffer.from(env.MEDGW_TOKEN_KEY, 'hex')),
    );
    try {
      await store.put({
        patientId: 'alice',
        idPe: 'PE-ALICE',
        pairingOid: '2.25.1',
        solutionOid: '2.25.2',
        accessToken: 'at',
        idToken: 'it',
        refreshToken: 'rt',
        expiresAt: Date.parse('2030-01-01T00:00:00Z'),
        linkedAt: 0,
        status: 'linked',
        grantedKinds: ['glucose', 'weight'],
      });
      expect(await ok(['patient', 'status', '--data-dir', three])).toMatch(/alice\s+linked\s+glucose,weight/);
      await ok(['patient', 'kinds', 'alice', 'glucose', '--data-dir', three]);
      expect((await store.fresh('alice'))?.kinds).toEqual(['glucose']);
    } finally {
      await store.close();
      await pool.end();
    }
  }, 60_000);
});
