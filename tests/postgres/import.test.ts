/**
 * `medgw storage import`: one box's registry file and encrypted links move into the PostgreSQL
 * storage the instances share. The devices keep their secrets (the stored hashes move), the links
 * are sealed again with the instances' key, ids already there are skipped, a second run changes
 * nothing, and a running source is refused.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { acquireLock } from '../../gateway/datadir.ts';
import { addDevice, addPatient } from '../../gateway/registry/operations.ts';
import { PostgresRegistry } from '../../gateway/registry/postgres.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';
import { AesGcmSealer } from '../../gateway/secrets/index.ts';
import { openPool } from '../../gateway/storage/postgres.ts';
import { TokenStore } from '../../gateway/storage/tokens-file.ts';
import { PostgresTokenStore } from '../../gateway/storage/tokens-postgres.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
const root = mkdtempSync(join(tmpdir(), 'medgw-pg-import-'));
const running = new Set<number>();

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

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

function medgw(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
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

const clock = { now: () => 1_700_000_000_000 };
const link: PatientLink = {
  patientId: 'alice',
  idPe: 'PE-ALICE',
  pairingOid: '2.25.1',
  solutionOid: '2.25.2',
  accessToken: 'access-token-alice',
  idToken: 'id.token.alice',
  refreshToken: 'refresh-token-alice',
  expiresAt: Date.parse('2030-01-01T00:00:00Z'),
  linkedAt: 1,
  status: 'linked',
};

describe('medgw storage import', () => {
  it('moves a registry file and its links into the shared storage, once', async () => {
    const from = join(root, 'box');
    mkdirSync(from, { mode: 0o700 });
    const box = await LowRegistry.open(join(from, 'registry.json'));
    await addPatient(box, { id: 'alice', displayName: 'Alice' }, clock);
    await addPatient(box, { id: 'bob', displayName: 'Bob' }, clock);
    const { secret } = await addDevice(box, { id: 'bp-1', transport: 'mqtt', patientId: 'alice' }, clock);
    await addDevice(box, { id: 'C0:26:DA:00:08:01', transport: 'ble', patientId: 'bob' }, clock);
    await box.putSection('ble', { devices: { 'C0:26:DA:00:08:01': { bond: 'bonded' } } });
    await new TokenStore(from, {}).put(link); // sealed with the box's own token.key

    const url = server.database();
    const key = randomBytes(32);
    const env = {
      MEDGW_STORAGE_KIND: 'postgres',
      MEDGW_STORAGE_URL: url,
      MEDGW_TOKEN_KEY: key.toString('hex'),
    };
    // bob already exists in the shared storage: left as it is
    const pool = await openPool(url, { max: 4 });
    const shared = await PostgresRegistry.open(pool);
    try {
      await addPatient(shared, { id: 'bob', displayName: 'Bob (already shared)' }, clock);

      const first = await medgw(
        ['storage', 'import', from, '--json', '--data-dir', join(root, 'instance')],
        env,
      );
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({
        patients: { imported: ['alice'], skipped: ['bob'] },
        devices: { imported: ['C0:26:DA:00:08:01', 'bp-1'], skipped: [] },
        // the identity migration's record, for an operator to review, moves too
        sections: { imported: ['ble', 'identity-migration'], skipped: [] },
        links: { imported: ['alice'], skipped: [] },
      });
      await shared.reload();
      expect(shared.getPatient('bob')?.displayName).toBe('Bob (already shared)');
      expect(shared.getDevice('bp-1')).toEqual(box.getDevice('bp-1'));
      // the device keeps its secret
      expect(shared.verifyDeviceSecret('bp-1', secret!)).toBe(true);
      expect(shared.getSection('ble')).toEqual({ devices: { 'C0:26:DA:00:08:01': { bond: 'bonded' } } });
      // the link, sealed again with the instances' key
      const links = await PostgresTokenStore.open(await openPool(url, { max: 2 }), new AesGcmSealer(key));
      try {
        expect(links.get('alice')).toEqual(link);
      } finally {
        await links.close();
      }

      const again = await medgw(['storage', 'import', from, '--data-dir', join(root, 'instance')], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('patients: 0 imported; already there, left as they are: alice, bob');
      expect(again.stdout).toContain('links: 0 imported; already there, left as they are: alice');

      // a source a gateway is running on is refused
      const lock = acquireLock(from, 'gateway');
      try {
        const refused = await medgw(['storage', 'import', from, '--data-dir', join(root, 'instance')], env);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain('MEDGW_ERR_DATADIR_LOCKED');
      } finally {
        lock.release();
      }
    } finally {
      await shared.close();
      await pool.end();
    }
  }, 120_000);

  it('refuses without shared storage configured', async () => {
    const r = await medgw(['storage', 'import', join(root, 'box')], {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('MEDGW_ERR_USAGE');
  }, 30_000);
});
