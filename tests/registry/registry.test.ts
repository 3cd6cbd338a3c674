import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addDevice, addPatient } from '../../gateway/registry/operations.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';
import { registryConformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const clock = { now: () => 1_700_000_000_000 };

registryConformance('lowdb file', () => LowRegistry.open(join(dir, `r${n++}.json`)));
registryConformance('memory', () => LowRegistry.memory());

describe('file registry', () => {
  it('survives a restart, keeps the file private and leaves no temporary file', async () => {
    const path = join(dir, 'restart.json');
    const a = await LowRegistry.open(path);
    await addPatient(a, { id: 'p1', displayName: 'Alice' }, clock);
    const { secret } = await addDevice(a, { id: 'dev-1', transport: 'mqtt', patientId: 'p1' }, clock);
    await a.putSection('consents', { p1: { 'body-weight': true } });
    const b = await LowRegistry.open(path);
    expect(b.getPatient('p1')?.displayName).toBe('Alice');
    expect(b.getDevice('dev-1')?.patientId).toBe('p1');
    expect(b.verifyDeviceSecret('dev-1', secret!)).toBe(true);
    expect(b.getSection('consents')).toEqual({ p1: { 'body-weight': true } });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).not.toContain(secret!);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('verifies secrets off the event loop with the same answers', async () => {
    const r = await LowRegistry.open(join(dir, 'async.json'));
    const devices = await Promise.all(
      Array.from({ length: 8 }, (_, i) => addDevice(r, { id: `m${i}`, transport: 'mqtt' }, clock)),
    );
    const fresh = await LowRegistry.open(join(dir, 'async.json')); // nothing cached yet
    const answers = await Promise.all([
      ...devices.map((d) => fresh.verifyDeviceSecretAsync(d.device.id, d.secret!)),
      fresh.verifyDeviceSecretAsync('m0', devices[1]!.secret!),
      fresh.verifyDeviceSecretAsync('ghost', devices[0]!.secret!),
      fresh.verifyDeviceSecretAsync('m2', ''),
    ]);
    expect(answers).toEqual([true, true, true, true, true, true, true, true, false, false, false]);
    expect(fresh.verifyDeviceSecret('m3', devices[3]!.secret!)).toBe(true);
    await r.removeDevice('m4');
    const after = await LowRegistry.open(join(dir, 'async.json'));
    expect(await after.verifyDeviceSecretAsync('m4', devices[4]!.secret!)).toBe(false);
  });

  it('concurrent writes all land', async () => {
    const path = join(dir, 'concurrent.json');
    const r = await LowRegistry.open(path);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => addPatient(r, { id: `p${i}`, displayName: `P ${i}` }, clock)),
    );
    const again = await LowRegistry.open(path);
    expect(again.listPatients()).toHaveLength(20);
  });

  it('refuses a file that is not a registry instead of overwriting it', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"devices": ');
    await expect(LowRegistry.open(bad)).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_CORRUPT' });
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"hello": 1}');
    await expect(LowRegistry.open(other)).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_CORRUPT' });
    expect(readFileSync(other, 'utf8')).toBe('{"hello": 1}');
  });
});
