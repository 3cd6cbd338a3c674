import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { loadSealingKey } from '../secrets/index.ts';
import { TokenStore } from './tokens-file.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'medgw-tokens-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const link: PatientLink = {
  patientId: 'p1',
  idPe: 'PE-SECRET-IDPE',
  pairingOid: '2.25.1',
  solutionOid: '2.25.2',
  accessToken: 'access-token-value-1234',
  idToken: 'id.token.value',
  refreshToken: 'refresh-token-value-5678',
  expiresAt: 1_000,
  linkedAt: 0,
  status: 'linked',
};

describe('token store (the file of one data directory)', () => {
  it('creates a 0600 key file and keeps tokens encrypted at rest', async () => {
    const dir = tempDir();
    const store = new TokenStore(dir, {});
    await store.put(link);
    expect(statSync(join(dir, 'token.key')).mode & 0o777).toBe(0o600);
    const onDisk = readFileSync(store.path, 'utf8');
    for (const secret of [link.accessToken, link.refreshToken ?? '', link.idPe, link.idToken]) {
      expect(onDisk).not.toContain(secret);
    }
    expect(new TokenStore(dir, {}).get('p1')).toEqual(link);
    expect(JSON.stringify(store)).not.toContain(link.accessToken);
  });

  it('refuses a key file others can read, a malformed env key and a wrong key', async () => {
    const dir = tempDir();
    await new TokenStore(dir, {}).put(link);
    chmodSync(join(dir, 'token.key'), 0o644);
    expect(() => loadSealingKey(dir, {})).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_TOKEN_KEY' }));
    expect(() => loadSealingKey(dir, { MEDGW_TOKEN_KEY: 'abc' })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_TOKEN_KEY' }),
    );
    expect(() => new TokenStore(dir, { MEDGW_TOKEN_KEY: 'ab'.repeat(32) })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_TOKEN_STORE' }),
    );
  });

  it('detects an altered file', async () => {
    const dir = tempDir();
    const env = { MEDGW_TOKEN_KEY: '0f'.repeat(32) };
    const store = new TokenStore(dir, env);
    await store.put(link);
    const box = JSON.parse(readFileSync(store.path, 'utf8')) as { data: string };
    const bytes = Buffer.from(box.data, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    writeFileSync(store.path, JSON.stringify({ ...box, data: bytes.toString('base64') }));
    expect(() => new TokenStore(dir, env)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_TOKEN_STORE' }),
    );
  });

  it('updates and removes links', async () => {
    const dir = tempDir();
    const store = new TokenStore(dir, {});
    await store.put(link);
    await store.update('p1', { status: 'reauth-required' });
    expect(new TokenStore(dir, {}).get('p1')?.status).toBe('reauth-required');
    expect(await store.remove('p1')).toBe(true);
    expect(new TokenStore(dir, {}).list()).toEqual([]);
    await expect(store.update('p1', {})).rejects.toMatchObject({ code: 'MEDGW_ERR_NOT_LINKED' });
  });

  it('sees links another process wrote (the patient command beside a running gateway)', async () => {
    const dir = tempDir();
    const gateway = new TokenStore(dir, {});
    const cli = new TokenStore(dir, {});
    expect(gateway.get('p1')).toBeUndefined();
    await cli.put(link);
    expect(gateway.get('p1')?.idPe).toBe(link.idPe);
    await gateway.update('p1', { status: 'consent-withdrawn' });
    await cli.put({ ...link, patientId: 'p2' });
    expect(gateway.list().map((l) => [l.patientId, l.status])).toEqual([
      ['p1', 'consent-withdrawn'],
      ['p2', 'linked'],
    ]);
  });
});
