/**
 * Medisana BU 5xx connect over the virtual radio (drivers/definitions/medisana-bu-5xx.ts,
 * simulators/ble/medisana-bu5xx.ts): recognized by Medisana's manufacturer data, paired (just works),
 * two users mapped to two people, and the quirk that matters — the cuff indicates its whole history at
 * every connection — giving each reading once, also when the link drops in the middle of the history.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { matchAdvertisement } from '../../drivers/definitions/index.ts';
import { MEDISANA_COMPANY_ID } from '../../drivers/definitions/medisana-bu-5xx.ts';
import { SimMedisanaBu5xx } from '../../simulators/ble/medisana-bu5xx.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function history(cuff: SimMedisanaBu5xx): Promise<void> {
  await cuff.measure({ systolic: 128, diastolic: 82, pulse: 64, userId: 1 });
  await cuff.measure({ systolic: 141, diastolic: 90, pulse: 71, userId: 2 });
  await cuff.measure({ systolic: 124, diastolic: 79, pulse: 66, userId: 1 });
}

const panels = (id: string) => h!.journal.list({ deviceId: id }).filter((r) => r.kind === 'blood-pressure');

describe('Medisana BU 5xx connect', () => {
  it('is recognized by its manufacturer data, not by the name other cuffs could share', () => {
    const adv = { localName: 'LS BPM', serviceUuids: ['1810'], manufacturerId: MEDISANA_COMPANY_ID };
    expect(matchAdvertisement(adv)?.id).toBe('medisana-bu-5xx');
    expect(matchAdvertisement({ localName: 'LS BPM', serviceUuids: ['1810'] })?.id).toBe(
      'generic-blood-pressure',
    );
  });

  it('pairs, maps its two users, and keeps each reading once although the cuff sends its history every time', async () => {
    const ID = 'C0:26:DA:00:B5:01';
    const cuff = new SimMedisanaBu5xx({ address: ID });
    h = await harness([cuff], { timing: { cooldownMs: 0 } });
    await history(cuff);
    await h.central.start();
    await h.waitState(ID, 'discovered');
    expect(h.central.get(ID)?.driver).toBe('medisana-bu-5xx');
    // The household: the cuff's user 1 is Alice, user 2 is Bob (as the device page records it).
    await h.provision({
      id: ID,
      driver: 'medisana-bu-5xx',
      patientId: 'alice',
      users: { '1': 'alice', '2': 'bob' },
      bond: 'none',
    });
    await h.central.pair(ID, { patientId: 'alice' });
    const first = await h.waitState(ID, 'synced');
    expect(cuff.isBonded(h.radio.centralAddress)).toBe(true);
    expect(first.committed).toBe(3);
    expect(
      panels(ID)
        .map((r) => r.patientId)
        .sort(),
    ).toEqual(['alice', 'alice', 'bob']);

    // Next connection: the whole history again, then one new reading; only the new one is new.
    await until(() => !cuff.connected || h!.central.get(ID)?.state === 'synced', 'the first sync');
    cuff.disconnect();
    await until(() => !cuff.connected, 'the cuff ended the link');
    await cuff.measure({ systolic: 119, diastolic: 77, pulse: 62, userId: 2 });
    const syncs = h.changes.filter((c) => c.deviceId === ID && c.state === 'synced').length;
    await h.waitState(ID, 'synced', syncs + 1);
    await until(() => panels(ID).length === 4, 'the new reading');
    expect(h.pipeline.counters.duplicate).toBeGreaterThanOrEqual(3);
    expect(panels(ID).filter((r) => r.patientId === 'bob')).toHaveLength(2);
    expect(cuff.pending).toHaveLength(0);
  });

  it('a link lost in the middle of the history: the next connection sends it all again, each reading once', async () => {
    const ID = 'C0:26:DA:00:B5:02';
    const cuff = new SimMedisanaBu5xx({ address: ID, faults: { disconnectAfterNotifications: 2 } });
    await history(cuff);
    h = await harness([cuff], { timing: { cooldownMs: 0 } });
    await h.provision({
      id: ID,
      driver: 'medisana-bu-5xx',
      patientId: 'alice',
      users: { '1': 'alice', '2': 'bob' },
    });
    cuff.bond(h.radio.centralAddress);
    await h.central.start();
    // The link drops after two readings: for a cuff that pushes, the end of that collection.
    await h.waitState(ID, 'synced');
    await until(() => !cuff.connected, 'the link lost');
    expect(panels(ID)).toHaveLength(2);
    expect(cuff.pending).toHaveLength(1);
    // The cuff advertises again (as it keeps doing while it has readings to send).
    await new Promise((r) => setTimeout(r, 50));
    cuff.advertise();
    await h.waitState(ID, 'synced', 2);
    await until(() => panels(ID).length === 3 && cuff.pending.length === 0, 'the whole history');
    // Its two readings already committed (each a panel and a heart rate) came again and collapsed.
    expect(h.pipeline.counters.duplicate).toBe(4);
    expect(
      h.changes.filter((c) => c.deviceId === ID && c.state === 'connecting').length,
    ).toBeGreaterThanOrEqual(2);
    const rows = panels(ID);
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
    expect(rows.map((r) => r.patientId).sort()).toEqual(['alice', 'alice', 'bob']);
  });
});
