/**
 * Device clocks and pushed readings through the BLE central: a meter whose clock says 2094 gets its
 * clock set through Current Time and its readings corrected by the coincident timestamp; a cuff's
 * intermediate cuff pressures never reach the journal; a multi-user scale's second household user,
 * not mapped to a patient, is quarantined; the UDS user is registered once and consented every time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const parisNow = () => {
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Paris',
    dateStyle: 'short',
    timeStyle: 'medium',
  });
  return Date.parse(`${f.format(new Date()).replace(' ', 'T')}Z`);
};

describe('BLE central: device time', () => {
  it('sets a 2094 clock through CTS and corrects the readings taken with it (device time kept)', async () => {
    const G = 'C0:26:DA:00:00:21';
    const g = new SimGlucometer({ address: G, faults: { clock: '2094' } });
    const takenAt = Date.now();
    g.measure({ mgdl: 97, context: { meal: 3 } });
    g.measure({ mgdl: 131, context: { meal: 3 } });
    expect(g.deviceNow().year).toBe(2094);
    h = await harness([g]);
    await h.provision({ id: G, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await h.central.start();
    await h.waitState(G, 'synced');

    // The device clock now shows the gateway's local time (Europe/Paris), to the second.
    const dev = g.deviceNow();
    const devMs = Date.UTC(dev.year, dev.month - 1, dev.day, dev.hours, dev.minutes, dev.seconds);
    expect(Math.abs(devMs - parisNow())).toBeLessThan(3_000);

    const rows = h.journal.list({ deviceId: G });
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.state).toBe('pending');
      expect(r.observation?.time.device?.startsWith('2094-01-01T')).toBe(true);
      expect(r.observation?.time.quality).toBe('corrected');
      const utc = Date.parse(r.observation?.time.utc ?? '');
      expect(Math.abs(utc - takenAt)).toBeLessThan(5_000);
    }
  });

  it('corrects without writing when the device does not let its clock be set', async () => {
    const G = 'C0:26:DA:00:00:22';
    const g = new SimGlucometer({ address: G, ctsWritable: false, faults: { clockOffsetMinutes: -42 } });
    const takenAt = Date.now();
    g.measure({ mgdl: 110, context: { meal: 3 } });
    h = await harness([g]);
    await h.provision({ id: G, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await h.central.start();
    await h.waitState(G, 'synced');
    const [r] = h.journal.list({ deviceId: G });
    expect(r?.observation?.time.quality).toBe('corrected');
    expect(Math.abs(Date.parse(r?.observation?.time.utc ?? '') - takenAt)).toBeLessThan(5_000);
    // Still 42 minutes behind: nothing was written.
    const dev = g.deviceNow();
    const devMs = Date.UTC(dev.year, dev.month - 1, dev.day, dev.hours, dev.minutes, dev.seconds);
    expect(Math.round((parisNow() - devMs) / 60_000)).toBe(42);
  });
});

describe('BLE central: pushed readings', () => {
  it('forwards stored and new cuff readings, never the intermediate cuff pressures', async () => {
    const C = 'C0:26:DA:00:00:31';
    const cuff = new SimCuff({
      address: C,
      stored: [
        {
          unit: 'mmHg',
          systolic: 128,
          diastolic: 82,
          meanArterial: 97,
          pulse: 66,
          time: { year: 2026, month: 11, day: 22, hours: 8, minutes: 0, seconds: 0 },
        },
      ],
    });
    h = await harness([cuff]);
    await h.provision({ id: C, driver: 'generic-blood-pressure', patientId: 'carol' });
    await h.central.start();
    const synced = await h.waitState(C, 'synced');
    expect(synced.committed).toBe(1);
    expect(cuff.connected).toBe(true);
    // Measuring while connected: 7 intermediate cuff pressure notifications, then the final indication.
    await cuff.measure({ systolic: 131, diastolic: 84, pulse: 70 });
    const panels = () => h?.journal.list({ deviceId: C }).filter((r) => r.kind === 'blood-pressure') ?? [];
    await until(() => panels().length === 2, 'the new reading');
    await until(() => h?.central.get(C)?.session?.intermediate === 7, 'intermediate values counted');
    const rows = h.journal.list({ deviceId: C });
    // Each final reading is a blood-pressure panel and a heart rate; nothing else reached the journal.
    expect(rows.map((r) => r.kind).sort()).toEqual([
      'blood-pressure',
      'blood-pressure',
      'heart-rate',
      'heart-rate',
    ]);
    expect(rows.every((r) => r.patientId === 'carol' && r.state === 'pending')).toBe(true);
    const systolic = panels()
      .map((r) => r.observation?.components?.find((c) => c.kind === 'systolic')?.value)
      .sort();
    expect(systolic).toEqual([128, 131]);
    expect(h.central.get(C)?.session).toMatchObject({ committed: 2, intermediate: 7, rejected: 0 });
  });

  it('consents each household user; the unmapped second user is quarantined MEDGW_ERR_HOUSEHOLD_USER', async () => {
    const S = 'C0:26:DA:00:00:41';
    const scale = new SimScale({
      address: S,
      users: [
        { index: 0, consentCode: 1234 },
        { index: 1, consentCode: 4321 },
      ],
    });
    scale.measure({ kg: 72.4, userIndex: 0 });
    scale.measure({ kg: 58.1, userIndex: 1 });
    h = await harness([scale]);
    await h.provision({ id: S, driver: 'generic-weight-scale', bond: 'none', users: { '0': 'alice' } });
    await h.central.start();
    await h.waitState(S, 'discovered');
    await h.central.pair(S, {
      udsUsers: [
        { index: 0, consentCode: 1234 },
        { index: 1, consentCode: 4321 },
      ],
    });
    await h.waitState(S, 'synced');
    const rows = h.journal.list({ deviceId: S });
    expect(rows).toHaveLength(2);
    const alice = rows.find((r) => r.patientId === 'alice');
    expect(alice?.state).toBe('pending');
    expect(alice?.observation?.value).toBe(72.4);
    const other = rows.find((r) => r.patientId === undefined);
    expect(other?.state).toBe('quarantined');
    expect(other?.reason?.code).toBe('MEDGW_ERR_HOUSEHOLD_USER');
    expect(other?.observation?.value).toBe(58.1);
    expect(scale.pending).toHaveLength(0);
    // The consent codes are kept sealed, never in clear in the registry file.
    const file = readFileSync(join(h.dir, 'registry.json'), 'utf8');
    expect(file).toContain('"sealed"');
    expect(file).not.toMatch(/1234|4321/);
  });

  it('registers one UDS user once, maps it to the owner, and consents again on the next connection', async () => {
    const S = 'C0:26:DA:00:00:42';
    const scale = new SimScale({ address: S });
    h = await harness([scale], { timing: { cooldownMs: 0 } });
    await h.provision({ id: S, driver: 'generic-weight-scale', patientId: 'bob' });
    await h.central.start();
    await h.waitState(S, 'synced');
    expect(scale.users).toHaveLength(1);
    const index = scale.users[0]!.index;
    expect(h.registry.getDevice(S)?.users).toEqual({ [String(index)]: 'bob' });
    expect(scale.consentedUser).toBe(index);
    scale.measure({ kg: 81.3 });
    await until(() => (h?.journal.list({ deviceId: S }).length ?? 0) === 1, 'the weight');
    expect(h.journal.list({ deviceId: S })[0]).toMatchObject({ patientId: 'bob', state: 'pending' });

    // The link drops; the scale advertises again; the stored consent code opens it again.
    h.radio.linkLoss(S);
    await h.waitState(S, 'synced', 2);
    expect(scale.users).toHaveLength(1);
    expect(scale.consentedUser).toBe(index);
  });
});
