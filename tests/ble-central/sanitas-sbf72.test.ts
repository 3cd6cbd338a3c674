/**
 * Sanitas SBF72 / SBF73, Beurer BF720 / BF915 over the virtual radio (drivers/definitions/sanitas-sbf72.ts,
 * simulators/ble/sanitas-sbf72.ts): a scale on Weight Scale + Body Composition + User Data that answers
 * only on a bonded link. With its definition: bonded (just works), a UDS user registered for the owner,
 * the weighings stored while nobody listened synced at the next connection after the consent — each
 * weight forwarded-to-be, its body composition kept local —, zeroed placeholder records left out with
 * their code, and a link lost between a weight and its body composition giving every reading once.
 * Contrast: the generic weight-scale driver never enables 0x2A9C, so only the weights arrive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findDefinition, matchAdvertisement } from '../../drivers/definitions/index.ts';
import { type BodyReading, SimSanitasSbf72 } from '../../simulators/ble/sanitas-sbf72.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const BODY_KINDS = [
  'basal-metabolism',
  'body-fat-percentage',
  'body-impedance',
  'body-water-mass',
  'muscle-percentage',
  'soft-lean-mass',
];

const ANNA: Omit<BodyReading, 'userIndex'> = {
  kg: 79.96,
  bodyFatPercent: 19.4,
  musclePercent: 40.7,
  waterKg: 43.25,
  softLeanKg: 61.18,
  impedanceOhm: 452,
  basalMetabolismKj: 6879,
};

/** Pairs the scale for alice: bonded, one UDS user registered and mapped to her; returns its index. */
async function pairAlice(scale: SimSanitasSbf72, id: string): Promise<number> {
  await h!.central.start();
  await h!.waitState(id, 'discovered');
  expect(h!.central.get(id)?.driver).toBe('sanitas-sbf72');
  await h!.central.pair(id, { patientId: 'alice' });
  await h!.waitState(id, 'synced');
  expect(scale.isBonded(h!.radio.centralAddress)).toBe(true);
  expect(scale.users).toHaveLength(1);
  const index = scale.users[0]!.index;
  expect(h!.registry.getDevice(id)).toMatchObject({
    bond: 'bonded',
    driver: 'sanitas-sbf72',
    users: { [String(index)]: 'alice' },
  });
  return index;
}

/**
 * The scale ends the link the central lingers on (as it does when it goes to sleep): what is weighed now is
 * stored on the scale, released at the next connection after the consent. Returns the syncs so far.
 */
async function asleep(scale: SimSanitasSbf72, id: string): Promise<number> {
  scale.disconnect();
  await until(() => !scale.connected, 'the scale ended the link');
  return h!.changes.filter((c) => c.deviceId === id && c.state === 'synced').length;
}

/** The central lingers on the link after a sync and connects again as soon as the scale advertises. */
const TIMING = { timing: { cooldownMs: 0 } } as const;

function kinds(id: string): string[] {
  return h!.journal
    .list({ deviceId: id })
    .map((r) => r.kind)
    .sort();
}

describe('Sanitas SBF72 / Beurer BF720 family', () => {
  it('matches the four models by name, and the BF600 stays with its own definition', () => {
    for (const name of ['SBF72', 'SANITAS SBF73', 'BF720', 'Beurer BF915'])
      expect(matchAdvertisement({ localName: name, serviceUuids: ['181D'] })?.id).toBe('sanitas-sbf72');
    expect(matchAdvertisement({ localName: 'BF600', serviceUuids: ['181D'] })?.id).toBe('beurer-bf600');
    const d = findDefinition('sanitas-sbf72');
    expect(d.pairing).toBe('just-works');
    expect(d.profiles.map((p) => p.id)).toEqual([
      'weight-scale',
      'body-composition',
      'user-data',
      'current-time',
      'device-information',
    ]);
  });

  it('pairs, registers the owner, then syncs stored weighings: weights to send, body composition local, once', async () => {
    const ID = 'C0:26:DA:00:72:01';
    const scale = new SimSanitasSbf72({ address: ID });
    h = await harness([scale], TIMING);
    const index = await pairAlice(scale, ID);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(0);
    let syncs = await asleep(scale, ID);

    // Two weighings while nobody listens: the scale stores them for alice's user.
    scale.measureBody({ ...ANNA, userIndex: index });
    scale.measureBody({ ...ANNA, kg: 79.5, bodyFatPercent: 19.1, userIndex: index });
    expect(scale.pending).toHaveLength(2);
    const synced = await h.waitState(ID, 'synced', syncs + 1);
    // Each weighing: one weight (0x2A9D) and one body composition record (0x2A9C).
    expect(synced.committed).toBe(4);
    expect(scale.pending).toHaveLength(0);
    const rows = h.journal.list({ deviceId: ID });
    expect(kinds(ID)).toEqual([...BODY_KINDS, ...BODY_KINDS, 'body-weight', 'body-weight'].sort());
    expect(rows.every((r) => r.patientId === 'alice')).toBe(true);
    const weights = rows.filter((r) => r.kind === 'body-weight');
    expect(weights.map((r) => r.observation?.value).sort()).toEqual([79.5, 79.96]);
    expect(weights.every((r) => r.state === 'pending' && !r.observation?.context?.['neverSent'])).toBe(true);
    // The body composition values are decoded and kept local: never sent.
    const fat = rows.filter((r) => r.kind === 'body-fat-percentage');
    expect(fat.map((r) => r.observation?.value).sort()).toEqual([19.1, 19.4]);
    const local = rows.filter((r) => r.kind !== 'body-weight');
    expect(local.every((r) => r.observation?.context?.['neverSent'] === true)).toBe(true);
    // The scale clock was set through Current Time on each connection.
    expect(h.central.get(ID)?.clock).toBe('synced');

    // The same records sent again by the scale collapse: nothing new.
    syncs = await asleep(scale, ID);
    scale.faults.resendOld = 2;
    scale.advertise();
    await h.waitState(ID, 'synced', syncs + 1);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(rows.length);
  });

  it('leaves out the zeroed placeholder body composition records, with their code, and keeps the weight', async () => {
    const ID = 'C0:26:DA:00:72:02';
    const scale = new SimSanitasSbf72({ address: ID, model: 'BF720' });
    h = await harness([scale], TIMING);
    const index = await pairAlice(scale, ID);
    const syncs = await asleep(scale, ID);
    scale.measurePlaceholder({ kg: 117.92, userIndex: index });
    scale.measureBody({ ...ANNA, userIndex: index });
    const synced = await h.waitState(ID, 'synced', syncs + 1);
    expect(synced.committed).toBe(3);
    expect(h.central.get(ID)?.session?.dropped).toBe(1);
    expect(kinds(ID)).toEqual([...BODY_KINDS, 'body-weight', 'body-weight'].sort());
    // No 0 % body fat anywhere, quarantined or not.
    expect(h.journal.list({ deviceId: ID }).some((r) => r.observation?.value === 0)).toBe(false);
  });

  it('a link lost between a weight and its body composition: the scale sends both again, each reading once', async () => {
    const ID = 'C0:26:DA:00:72:03';
    const scale = new SimSanitasSbf72({ address: ID, model: 'BF915' });
    h = await harness([scale], { ...TIMING, backoff: { baseMs: 20 } });
    const index = await pairAlice(scale, ID);
    const syncs = await asleep(scale, ID);
    scale.measureBody({ ...ANNA, userIndex: index });
    scale.measureBody({ ...ANNA, kg: 80.4, bodyFatPercent: 19.9, userIndex: index });
    // At the next connection: weight 1, composition 1, weight 2, then the link drops instead of composition 2.
    scale.loseLinkBeforeComposition(2);
    const failed = await h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    // Weighing 2 stays on the scale whole: its weight reached the gateway, its composition did not.
    expect(scale.pending).toHaveLength(1);
    await h.waitState(ID, 'synced', syncs + 1);
    expect(scale.pending).toHaveLength(0);
    expect(kinds(ID)).toEqual([...BODY_KINDS, ...BODY_KINDS, 'body-weight', 'body-weight'].sort());
    // Weight 2 came twice (before the loss, and again with its composition): the second collapsed on its id.
    expect(h.pipeline.counters.duplicate).toBe(1);
    const weights = h.journal.list({ deviceId: ID }).filter((r) => r.kind === 'body-weight');
    expect(weights.map((r) => r.observation?.value).sort()).toEqual([79.96, 80.4]);
  });

  it('under the generic weight-scale driver, 0x2A9C is never enabled: the weights arrive, no body composition', async () => {
    const ID = 'C0:26:DA:00:72:04';
    const scale = new SimSanitasSbf72({ address: ID });
    scale.users.push({ index: 0, consentCode: 1234 });
    scale.measureBody({ ...ANNA, userIndex: 0 });
    h = await harness([scale], {
      timing: { cooldownMs: 0 },
      autoPairUsers: { [ID]: [{ index: 0, consentCode: 1234 }] },
    });
    await h.provision({
      id: ID,
      driver: 'generic-weight-scale',
      patientId: 'alice',
      users: { '0': 'alice' },
    });
    scale.bond(h.radio.centralAddress);
    await h.central.start();
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(1);
    expect(kinds(ID)).toEqual(['body-weight']);
    expect(scale.pending).toHaveLength(0);
  });
});
