import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

  it('a failed write changes nothing in memory, and the next write does not carry it either', async () => {
    const sub = mkdtempSync(join(dir, 'fail-'));
    const path = join(sub, 'registry.json');
    const r = await LowRegistry.open(path);
    await addPatient(r, { id: 'p1', displayName: 'Alice' }, clock);
    // the temporary file cannot be created (as a full disk would refuse it): a directory holds its name
    const blocker = join(sub, `.registry.json.${process.pid}.tmp`);
    mkdirSync(blocker);
    await expect(addPatient(r, { id: 'p2', displayName: 'Bob' }, clock)).rejects.toMatchObject({
      code: 'MEDGW_ERR_DATADIR',
    });
    await expect(r.putSection('consents', { p1: {} })).rejects.toMatchObject({ code: 'MEDGW_ERR_DATADIR' });
    await expect(r.removePatient('p1')).rejects.toMatchObject({ code: 'MEDGW_ERR_DATADIR' });
    expect(r.getPatient('p2')).toBeUndefined();
    expect(r.listPatients().map((p) => p.id)).toEqual(['p1']);
    expect(r.getSection('consents')).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8')).patients).toEqual({
      p1: { id: 'p1', displayName: 'Alice', createdAt: clock.now() },
    });
    rmSync(blocker, { recursive: true });
    await addPatient(r, { id: 'p3', displayName: 'Carol' }, clock);
    const again = await LowRegistry.open(path);
    expect(again.listPatients().map((p) => p.id)).toEqual(['p1', 'p3']);
  });

  const valid = {
    version: 1,
    patients: { p1: { id: 'p1', displayName: 'Alice', createdAt: 1 } },
    devices: { d1: { id: 'd1', transport: 'ble', patientId: 'p1', createdAt: 1 } },
    sections: {},
  };
  const CORRUPT: [string, unknown, string][] = [
    ['devices as a list', { ...valid, devices: [] }, 'devices'],
    ['a null device', { ...valid, devices: { d1: null } }, 'devices.d1'],
    ['a null patient', { ...valid, patients: { p1: null }, devices: {} }, 'patients.p1'],
    [
      'a wrong transport',
      { ...valid, devices: { d1: { ...valid.devices.d1, transport: 'usb' } } },
      'devices.d1.transport',
    ],
    ['a record under another key', { ...valid, devices: { d2: valid.devices.d1 } }, 'devices.d2.id'],
    ['a device of an unknown patient', { ...valid, patients: {} }, 'devices.d1.patientId'],
    [
      'an MQTT device without credential',
      { ...valid, devices: { d1: { ...valid.devices.d1, transport: 'mqtt' } } },
      'devices.d1.secretHash',
    ],
    [
      'a raw secret',
      { ...valid, devices: { d1: { ...valid.devices.d1, transport: 'mqtt', secretHash: 'hunter2' } } },
      'devices.d1.secretHash',
    ],
    ['a missing version', { ...valid, version: undefined }, 'version'],
    ['an unknown top-level key', { ...valid, extra: 1 }, '(the top level)'],
    [
      'a household user of an unknown patient',
      { ...valid, devices: { d1: { ...valid.devices.d1, users: { '1': 'px' } } } },
      'devices.d1.users."1"',
    ],
  ];
  it.each(CORRUPT)(
    'refuses a registry with %s, naming the path inside the file',
    async (_what, content, where) => {
      const path = join(dir, `corrupt-${n++}.json`);
      const text = JSON.stringify(content);
      writeFileSync(path, text);
      const refusal = await LowRegistry.open(path).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; details?: { path?: string } },
      );
      expect(refusal?.code).toBe('MEDGW_ERR_REGISTRY_CORRUPT');
      expect(refusal?.details?.path).toBe(where);
      expect(refusal?.message).toContain(path);
      expect(readFileSync(path, 'utf8')).toBe(text);
    },
  );

  it('opens a valid file, a file without sections, and "__proto__" as a plain key', async () => {
    const path = join(dir, `valid-${n++}.json`);
    const { sections: _s, ...noSections } = valid;
    writeFileSync(path, JSON.stringify(noSections));
    const r = await LowRegistry.open(path);
    expect(r.getDevice('d1')?.patientId).toBe('p1');
    const odd = join(dir, `proto-${n++}.json`);
    writeFileSync(
      odd,
      '{"version":1,"devices":{},"patients":{"__proto__":{"id":"__proto__","displayName":"P","createdAt":1}},"sections":{}}',
    );
    const o = await LowRegistry.open(odd);
    expect(o.listPatients().map((p) => p.id)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).id).toBeUndefined();
  });
});
