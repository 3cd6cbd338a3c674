/**
 * Beurer BF105, BF500, BF788, BF950 over the virtual radio (drivers/definitions/beurer-bf950.ts,
 * simulators/ble/beurer-bf950.ts): recognised by name, bonded, the owner registered on the scale through
 * the User Data Service, weighings synced with their weight to send and their body composition kept
 * local, and a link lost between a weight and its body composition giving every reading once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findDefinition, matchAdvertisement } from '../../drivers/definitions/index.ts';
import { SimBeurerBf950 } from '../../simulators/ble/beurer-bf950.ts';
import type { BodyReading } from '../../simulators/ble/sanitas-sbf72.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const BODY: Omit<BodyReading, 'userIndex'> = {
  kg: 72.5,
  bodyFatPercent: 13.2,
  musclePercent: 44.6,
  waterKg: 44.7,
  softLeanKg: 59.4,
  impedanceOhm: 488,
  basalMetabolismKj: 7300,
};

describe('Beurer BF105 / BF500 / BF788 / BF950', () => {
  it('matches the four names, and neither the BF600 nor the Sanitas family', () => {
    for (const name of ['BF105', 'BF500', 'BF788', 'Beurer BF950'])
      expect(matchAdvertisement({ localName: name, serviceUuids: ['181D'] })?.id).toBe('beurer-bf950');
    expect(matchAdvertisement({ localName: 'BF600', serviceUuids: ['181D'] })?.id).toBe('beurer-bf600');
    expect(matchAdvertisement({ localName: 'BF720', serviceUuids: ['181D'] })?.id).toBe('sanitas-sbf72');
    expect(findDefinition('beurer-bf950').pairingHelp?.fr).toContain('balance');
  });

  it('BF950: pairs, registers the owner, syncs weight to send and body composition local; a link loss, each once', async () => {
    const ID = 'C0:26:DA:00:95:01';
    const scale = new SimBeurerBf950({ address: ID, model: 'BF950' });
    h = await harness([scale], { timing: { cooldownMs: 0 }, backoff: { baseMs: 20 } });
    await h.central.start();
    await h.waitState(ID, 'discovered');
    expect(h.central.get(ID)?.driver).toBe('beurer-bf950');
    await h.central.pair(ID, { patientId: 'alice' });
    await h.waitState(ID, 'synced');
    expect(scale.isBonded(h.radio.centralAddress)).toBe(true);
    expect(scale.users).toHaveLength(1);
    const index = scale.users[0]!.index;

    scale.disconnect();
    await until(() => !scale.connected, 'the scale ended the link');
    const syncs = h.changes.filter((c) => c.deviceId === ID && c.state === 'synced').length;
    scale.measureBody({ ...BODY, userIndex: index });
    scale.measureBody({ ...BODY, kg: 74.7, bodyFatPercent: 13.0, userIndex: index });
    scale.loseLinkBeforeComposition(2);
    expect((await h.waitState(ID, 'failed')).code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    await h.waitState(ID, 'synced', syncs + 1);
    await until(() => scale.pending.length === 0, 'both weighings');
    const rows = h.journal.list({ deviceId: ID });
    const weights = rows.filter((r) => r.kind === 'body-weight');
    expect(weights.map((r) => r.observation?.value).sort()).toEqual([72.5, 74.7]);
    expect(weights.every((r) => r.state === 'pending' && r.patientId === 'alice')).toBe(true);
    const local = rows.filter((r) => r.kind !== 'body-weight');
    expect(local).toHaveLength(12);
    expect(local.every((r) => r.observation?.context?.['neverSent'] === true)).toBe(true);
    expect(h.pipeline.counters.duplicate).toBe(1);
  });
});
