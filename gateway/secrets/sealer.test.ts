import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AesGcmSealer, KEY_FILE, loadSealingKey, openSealer, processSealer } from './index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'medgw-secrets-'));
  dirs.push(d);
  return d;
}

const KEY = Buffer.from('0f'.repeat(32), 'hex');
/** Sealed under KEY by the token store's encrypt() before the sealing moved to gateway/secrets. */
const SEALED_BEFORE =
  '{"v":1,"iv":"ZqMUeYP/upn3YldA","tag":"OL0AGS4nLFUGu06Hh4WQsA==","data":"2yhURR259O9p7Bjb"}';

describe('the gateway sealer (AES-256-GCM)', () => {
  it('opens what it sealed, with a fresh IV each time, and opens what the stores sealed before', () => {
    const sealer = new AesGcmSealer(KEY);
    const a = sealer.seal('consent 4321');
    const b = sealer.seal('consent 4321');
    expect(a).not.toBe(b);
    expect(a).not.toContain('4321');
    expect(sealer.open(a)).toBe('consent 4321');
    expect(sealer.open(SEALED_BEFORE)).toBe('consent 4321');
  });

  it('refuses an altered value, another key and another format with MEDGW_ERR_TOKEN_STORE', () => {
    const sealer = new AesGcmSealer(KEY);
    const box = JSON.parse(sealer.seal('secret')) as { data: string };
    const bytes = Buffer.from(box.data, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const altered = JSON.stringify({ ...box, data: bytes.toString('base64') });
    const refused = expect.objectContaining({ code: 'MEDGW_ERR_TOKEN_STORE' });
    expect(() => sealer.open(altered)).toThrow(refused);
    expect(() => processSealer().open(SEALED_BEFORE)).toThrow(refused);
    expect(() => sealer.open('{"v":2}')).toThrow(refused);
    expect(() => new AesGcmSealer(Buffer.alloc(16))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_TOKEN_KEY' }),
    );
  });

  it('recognizes its key by a fingerprint that reveals nothing of it, and never shows the key', () => {
    const sealer = new AesGcmSealer(KEY);
    expect(sealer.fingerprint()).toBe(new AesGcmSealer(Buffer.from(KEY)).fingerprint());
    expect(sealer.fingerprint()).not.toBe(processSealer().fingerprint());
    expect(sealer.fingerprint()).not.toContain(KEY.toString('base64url'));
    for (const shown of [JSON.stringify(sealer), inspect(sealer, { showHidden: true, depth: 5 })]) {
      expect(shown).not.toContain(KEY.toString('hex'));
      expect(shown).not.toContain('15, 15, 15');
    }
  });

  it("takes a data directory's key from MEDGW_TOKEN_KEY, else from its 0600 key file", () => {
    const dir = tempDir();
    const fromFile = openSealer(dir, {});
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(openSealer(dir, {}).open(fromFile.seal('x'))).toBe('x');
    const fromEnv = openSealer(dir, { MEDGW_TOKEN_KEY: '0f'.repeat(32) });
    expect(fromEnv.open(SEALED_BEFORE)).toBe('consent 4321');
    expect(loadSealingKey(dir, { MEDGW_TOKEN_KEY: '0F'.repeat(32) })).toEqual(KEY);
  });
});
