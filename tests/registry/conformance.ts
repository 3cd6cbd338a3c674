/** The registry conformance suite: the same expectations against every Registry implementation. */
import { describe, expect, it } from 'vitest';
import type { Registry } from '../../gateway/contracts.ts';
import { addDevice, addPatient, assignDevice } from '../../gateway/registry/operations.ts';
import { expectedFastHash, legacyScryptHash } from './legacy-secret.ts';

const clock = { now: () => 1_700_000_000_000 };

export function registryConformance(name: string, factory: () => Promise<Registry>): void {
  describe(`Registry conformance: ${name}`, () => {
    it('adds, lists and removes patients', async () => {
      const r = await factory();
      await addPatient(r, { id: 'p1', displayName: 'Alice' }, clock);
      await addPatient(r, { id: 'p2', displayName: 'Bob' }, clock);
      expect(r.listPatients().map((p) => p.id)).toEqual(['p1', 'p2']);
      expect(r.getPatient('p1')).toEqual({ id: 'p1', displayName: 'Alice', createdAt: clock.now() });
      await expect(addPatient(r, { id: 'p1', displayName: 'Again' }, clock)).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_EXISTS',
      });
      expect(await r.removePatient('p2')).toBe(true);
      expect(await r.removePatient('p2')).toBe(false);
      expect(r.getPatient('p2')).toBeUndefined();
    });

    it('provisions an MQTT device: the secret verifies, is never stored, and a wrong one fails', async () => {
      const r = await factory();
      await addPatient(r, { id: 'p1', displayName: 'Alice' }, clock);
      const { device, secret } = await addDevice(
        r,
        { id: 'bp-7', transport: 'mqtt', patientId: 'p1' },
        clock,
      );
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // 256 random bits stored as their SHA-256 (computed here independently)
      expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
      expect(device.secretHash).toBe(expectedFastHash(secret!));
      expect(JSON.stringify(r.getDevice('bp-7'))).not.toContain(secret!);
      expect(r.verifyDeviceSecret('bp-7', secret!)).toBe(true);
      expect(r.verifyDeviceSecret('bp-7', secret!)).toBe(true);
      expect(r.verifyDeviceSecret('bp-7', `${secret!.slice(0, -1)}x`)).toBe(false);
      expect(r.verifyDeviceSecret('bp-7', '')).toBe(false);
      expect(r.verifyDeviceSecret('nobody', secret!)).toBe(false);
      // each device gets its own secret, so its own hash
      const other = await addDevice(r, { id: 'bp-8', transport: 'mqtt' }, clock);
      expect(other.device.secretHash).not.toBe(device.secretHash);
      expect(r.verifyDeviceSecret('bp-8', secret!)).toBe(false);
    });

    it('a removed device no longer authenticates, even after a cached success', async () => {
      const r = await factory();
      const { secret } = await addDevice(r, { id: 'm1', transport: 'mqtt' }, clock);
      expect(r.verifyDeviceSecret('m1', secret!)).toBe(true);
      expect(await r.removeDevice('m1')).toBe(true);
      expect(r.verifyDeviceSecret('m1', secret!)).toBe(false);
      expect(await r.removeDevice('m1')).toBe(false);
    });

    it('the off-loop check gives the same answers, before and after a cached success, and after removal', async () => {
      const r = await factory();
      const { secret } = await addDevice(r, { id: 'm2', transport: 'mqtt' }, clock);
      const ble = await addDevice(r, { id: 'AA:BB:CC:DD:EE:01', transport: 'ble' }, clock);
      expect(ble.secret).toBeUndefined();
      expect(
        await Promise.all([
          r.verifyDeviceSecretAsync('m2', secret!),
          r.verifyDeviceSecretAsync('m2', `${secret!.slice(0, -1)}x`),
          r.verifyDeviceSecretAsync('m2', ''),
          r.verifyDeviceSecretAsync('nobody', secret!),
          r.verifyDeviceSecretAsync('AA:BB:CC:DD:EE:01', ''),
        ]),
      ).toEqual([true, false, false, false, false]);
      // cached success: still true for the right secret, still false for a wrong one
      expect(await r.verifyDeviceSecretAsync('m2', secret!)).toBe(true);
      expect(await r.verifyDeviceSecretAsync('m2', `${secret!.slice(0, -1)}x`)).toBe(false);
      expect(r.verifyDeviceSecret('m2', secret!)).toBe(true);
      expect(await r.removeDevice('m2')).toBe(true);
      expect(await r.verifyDeviceSecretAsync('m2', secret!)).toBe(false);
    });

    it('an older scrypt record still verifies and is rewritten to the fast hash only after a proof', async () => {
      const r = await factory();
      const secret = 'an-older-device-secret';
      await r.putDevice({
        id: 'old-1',
        transport: 'mqtt',
        secretHash: legacyScryptHash(secret),
        createdAt: 1,
      });
      const stored = r.getDevice('old-1')?.secretHash;
      expect(stored).toMatch(/^scrypt\$/);
      // a secret not proven yet (and a wrong one, even after) never migrates the record
      expect(await r.upgradeDeviceSecret?.('old-1', secret)).toBe(false);
      expect(await r.verifyDeviceSecretAsync('old-1', `${secret}x`)).toBe(false);
      expect(await r.upgradeDeviceSecret?.('old-1', `${secret}x`)).toBe(false);
      expect(r.getDevice('old-1')?.secretHash).toBe(stored);
      expect(r.knowsDeviceSecret?.('old-1', secret)).toBe(false);
      // the right secret: scrypt passes, then the record holds SHA-256 of the secret
      expect(await r.verifyDeviceSecretAsync('old-1', secret)).toBe(true);
      expect(r.verifyDeviceSecret('old-1', secret)).toBe(true);
      expect(await r.upgradeDeviceSecret?.('old-1', secret)).toBe(true);
      expect(r.getDevice('old-1')?.secretHash).toBe(expectedFastHash(secret));
      expect(await r.upgradeDeviceSecret?.('old-1', secret)).toBe(false);
      expect(r.knowsDeviceSecret?.('old-1', secret)).toBe(true);
      expect(await r.verifyDeviceSecretAsync('old-1', secret)).toBe(true);
      expect(await r.verifyDeviceSecretAsync('old-1', `${secret}x`)).toBe(false);
      // logins arriving together: every proven record rewritten, each reported once
      const others = ['old-2', 'old-3'];
      for (const id of others)
        await r.putDevice({
          id,
          transport: 'mqtt',
          secretHash: legacyScryptHash(`${id}-secret`),
          createdAt: 1,
        });
      for (const id of others) expect(await r.verifyDeviceSecretAsync(id, `${id}-secret`)).toBe(true);
      const upgraded = await Promise.all([
        r.upgradeDeviceSecret?.('old-2', 'old-2-secret'),
        r.upgradeDeviceSecret?.('old-3', 'old-3-secret'),
        r.upgradeDeviceSecret?.('old-2', 'old-2-secret'),
      ]);
      expect(upgraded).toEqual([true, true, false]);
      for (const id of others) expect(r.getDevice(id)?.secretHash).toBe(expectedFastHash(`${id}-secret`));
      // unknown ids: no upgrade, no answer but false
      expect(await r.upgradeDeviceSecret?.('nobody', secret)).toBe(false);
      expect(r.knowsDeviceSecret?.('nobody', secret)).toBe(false);
    });

    it('a BLE device has no credential and never authenticates over MQTT', async () => {
      const r = await factory();
      const { device, secret } = await addDevice(r, { id: 'AA:BB:CC:DD:EE:FF', transport: 'ble' }, clock);
      expect(secret).toBeUndefined();
      expect(device.bond).toBe('none');
      expect(r.verifyDeviceSecret('AA:BB:CC:DD:EE:FF', '')).toBe(false);
    });

    it('assigns a device and its household users to known patients only', async () => {
      const r = await factory();
      await addPatient(r, { id: 'p1', displayName: 'Alice' }, clock);
      await addPatient(r, { id: 'p2', displayName: 'Bob' }, clock);
      await addDevice(r, { id: 'scale-1', transport: 'ble' }, clock);
      const d = await assignDevice(r, 'scale-1', { users: { '1': 'p1', '2': 'p2' } });
      expect(d.users).toEqual({ '1': 'p1', '2': 'p2' });
      expect(r.getDevice('scale-1')?.users).toEqual({ '1': 'p1', '2': 'p2' });
      // what a read returns cannot change the stored record behind the registry's back
      const read = r.getDevice('scale-1') as { users: Record<string, string> };
      expect(() => {
        read.users['1'] = 'p2';
      }).toThrow(TypeError);
      expect(r.getDevice('scale-1')?.users).toEqual({ '1': 'p1', '2': 'p2' });
      await expect(assignDevice(r, 'scale-1', { patientId: 'ghost' })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_UNKNOWN',
      });
      await expect(assignDevice(r, 'scale-1', { users: { '300': 'p1' } })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_INVALID',
      });
      await expect(assignDevice(r, 'nope', { patientId: 'p1' })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_UNKNOWN',
      });
      // a patient in use cannot be removed until unassigned
      await expect(r.removePatient('p2')).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_IN_USE' });
      await assignDevice(r, 'scale-1', { users: { '2': null }, patientId: 'p1' });
      expect(r.getDevice('scale-1')).toMatchObject({ patientId: 'p1', users: { '1': 'p1' } });
      expect(await r.removePatient('p2')).toBe(true);
      await assignDevice(r, 'scale-1', { patientId: null });
      expect(r.getDevice('scale-1')?.patientId).toBeUndefined();
    });

    it('refuses invalid ids, raw secrets and missing credentials', async () => {
      const r = await factory();
      await expect(addDevice(r, { id: 'a/b', transport: 'mqtt' }, clock)).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_INVALID',
      });
      await expect(addDevice(r, { id: '+', transport: 'mqtt' }, clock)).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_INVALID',
      });
      await expect(
        r.putDevice({ id: 'x', transport: 'mqtt', secretHash: 'plain-secret', createdAt: 1 }),
      ).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_INVALID' });
      await expect(r.putDevice({ id: 'x', transport: 'mqtt', createdAt: 1 })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_INVALID',
      });
      await expect(r.putPatient({ id: 'p', displayName: ' ', createdAt: 1 })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_INVALID',
      });
      expect(r.listDevices()).toEqual([]);
    });

    it('two adds of one id at once: one is stored, the other refused', async () => {
      const r = await factory();
      const device = { id: 'twice', transport: 'ble' as const, createdAt: 1 };
      const outcomes = await Promise.allSettled([
        r.putDevice({ ...device, name: 'first' }, { create: true }),
        r.putDevice({ ...device, name: 'second' }, { create: true }),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'MEDGW_ERR_REGISTRY_EXISTS' });
      expect(r.getDevice('twice')?.name).toBe(outcomes[0]?.status === 'fulfilled' ? 'first' : 'second');
      const patient = { id: 'pp', displayName: 'P', createdAt: 1 };
      await r.putPatient(patient, { create: true });
      await expect(r.putPatient(patient, { create: true })).rejects.toMatchObject({
        code: 'MEDGW_ERR_REGISTRY_EXISTS',
      });
      // without create, a put replaces
      await r.putDevice({ ...device, name: 'third' });
      expect(r.getDevice('twice')?.name).toBe('third');
    });

    it('returns copies: changing a returned record does not change the registry', async () => {
      const r = await factory();
      await addPatient(r, { id: 'p1', displayName: 'Alice' }, clock);
      const p = r.getPatient('p1') as { displayName: string };
      p.displayName = 'Mallory';
      expect(r.getPatient('p1')?.displayName).toBe('Alice');
    });
  });
}
