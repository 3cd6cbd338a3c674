/**
 * The Medisana BU 570 seen as "1872B" and the Medisana BT 580 over the virtual radio
 * (drivers/definitions/medisana-bu-570.ts, medisana-bt-580.ts, simulators/ble/medisana-variants.ts): each
 * recognised by what it advertises (a name alone, another company id), paired without a code, its two
 * users mapped to two people, and its history indicated again at every connection giving each reading once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findDefinition, matchAdvertisement } from '../../drivers/definitions/index.ts';
import { MEDISANA_BT580_COMPANY_ID } from '../../drivers/definitions/medisana-bt-580.ts';
import type { SimMedisanaBu5xx } from '../../simulators/ble/medisana-bu5xx.ts';
import { SimMedisanaBt580, SimMedisanaBu570 } from '../../simulators/ble/medisana-variants.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const panels = (id: string) => h!.journal.list({ deviceId: id }).filter((r) => r.kind === 'blood-pressure');

async function pairedTwice(cuff: SimMedisanaBu5xx, id: string, driver: string): Promise<void> {
  await cuff.measure({ systolic: 128, diastolic: 82, pulse: 64, userId: 1 });
  await cuff.measure({ systolic: 141, diastolic: 90, pulse: 71, userId: 2 });
  h = await harness([cuff], { timing: { cooldownMs: 0 } });
  await h.central.start();
  await h.waitState(id, 'discovered');
  expect(h.central.get(id)?.driver).toBe(driver);
  await h.provision({ id, driver, patientId: 'alice', users: { '1': 'alice', '2': 'bob' }, bond: 'none' });
  await h.central.pair(id, { patientId: 'alice' });
  const first = await h.waitState(id, 'synced');
  expect(first.committed).toBe(2);
  expect(
    panels(id)
      .map((r) => r.patientId)
      .sort(),
  ).toEqual(['alice', 'bob']);
  // the next connection: the whole history again and one new reading; only the new one is new
  cuff.disconnect();
  await until(() => !cuff.connected, 'the cuff ended the link');
  const syncs = h.changes.filter((c) => c.deviceId === id && c.state === 'synced').length;
  await cuff.measure({ systolic: 119, diastolic: 77, pulse: 62, userId: 1 });
  await h.waitState(id, 'synced', syncs + 1);
  await until(() => panels(id).length === 3 && cuff.pending.length === 0, 'the new reading');
  expect(h.pipeline.counters.duplicate).toBeGreaterThanOrEqual(2);
  expect(new Set(panels(id).map((r) => r.id)).size).toBe(3);
}

describe('Medisana BU 570 advertising as "1872B"', () => {
  it('is recognised by its name alone, with the pairing help of the BU 5xx family', () => {
    expect(matchAdvertisement({ localName: '1872B', serviceUuids: ['1810'] })?.id).toBe('medisana-bu-570');
    expect(matchAdvertisement({ localName: '1872C', serviceUuids: ['1810'] })?.id).toBe(
      'generic-blood-pressure',
    );
    expect(findDefinition('medisana-bu-570').pairingHelp?.fr).toContain('bouton');
  });

  it('pairs, maps its users and keeps each reading of its re-sent history once', async () => {
    await pairedTwice(
      new SimMedisanaBu570({ address: 'C0:26:DA:00:B5:70' }),
      'C0:26:DA:00:B5:70',
      'medisana-bu-570',
    );
  });
});

describe('Medisana BT 580', () => {
  it('is recognised by its company id 0x7A18, not by the BU 5xx one', () => {
    const adv = { localName: 'BT580', serviceUuids: ['1810'], manufacturerId: MEDISANA_BT580_COMPANY_ID };
    expect(matchAdvertisement(adv)?.id).toBe('medisana-bt-580');
    expect(findDefinition('medisana-bt-580').pairingHelp?.en).toContain('Nothing to type');
  });

  it('pairs, maps its users and keeps each reading of its re-sent history once', async () => {
    await pairedTwice(
      new SimMedisanaBt580({ address: 'C0:26:DA:00:B5:80' }),
      'C0:26:DA:00:B5:80',
      'medisana-bt-580',
    );
  });
});
