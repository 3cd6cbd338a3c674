/**
 * Sanitas SBF72 / SBF73, Beurer BF720 / BF915 over the fake BlueZ (private dbus-daemon, noble's D-Bus
 * bindings, the gateway's pairing agent): a scale on Weight Scale + Body Composition + User Data that
 * answers only on a bonded link. Over D-Bus as over the virtual radio:
 *
 * - `medgw pair --user <index>=<consent code>` for a person already registered on the scale: a wrong
 *   consent code is refused by the scale's User Control Point (MEDGW_ERR_BLE_UDS_CONSENT), the right one
 *   gives the weighings stored for that user;
 * - paired without a user given, the gateway registers the owner on the scale (Register New User);
 * - each weight is forwarded-to-be, its body composition (0x2A9C: fat, muscle, water, impedance…) stays local;
 * - a link lost between a weight and its body composition gives every reading once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BodyReading, SimSanitasSbf72 } from '../../simulators/ble/sanitas-sbf72.ts';
import {
  type GatewayOverBluez,
  gatewayOverBluez,
  type ModelBench,
  modelOverBluez,
  until,
} from './harness.ts';

let g: GatewayOverBluez | undefined;
let m: ModelBench<SimSanitasSbf72> | undefined;
afterEach(async () => {
  await g?.close();
  await m?.close();
  g = undefined;
  m = undefined;
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

describe('Sanitas SBF72 / Beurer BF720 family over BlueZ (D-Bus)', () => {
  it('medgw pair --user: a wrong consent code is refused by the scale, the right one syncs; weight to send, the rest local', async () => {
    const SCALE = 'C0:26:DA:00:72:11';
    g = await gatewayOverBluez();
    const scale = g.bluez.add(
      new SimSanitasSbf72({ address: SCALE, model: 'BF915', users: [{ index: 1, consentCode: 4321 }] }),
      {
        pairing: 'just-works',
      },
    );
    scale.measureBody({ ...ANNA, userIndex: 1 });
    await g.discovered(SCALE);

    const wrong = await g.medgw(['pair', SCALE, '--patient', 'alice', '--user', '1=1111']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('MEDGW_ERR_BLE_UDS_CONSENT');
    expect(scale.pending).toHaveLength(1);
    expect(g.gw.ctx.journal.list({ deviceId: SCALE })).toHaveLength(0);

    const right = await g.medgw(['pair', SCALE, '--patient', 'alice', '--user', '1=4321']);
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
    expect(right.stdout).toContain('paired and synced');
    expect(g.bluez.device(SCALE)).toMatchObject({ paired: true, trusted: true });
    await until(() => scale.pending.length === 0, 'the stored weighing');
    const rows = g.gw.ctx.journal.list({ deviceId: SCALE });
    expect(rows.map((r) => r.kind).sort()).toEqual([...BODY_KINDS, 'body-weight'].sort());
    expect(rows.every((r) => r.patientId === 'alice')).toBe(true);
    const weight = rows.find((r) => r.kind === 'body-weight');
    expect(weight?.observation?.value).toBe(79.96);
    expect(weight?.state).toBe('pending');
    expect(weight?.observation?.context?.['neverSent']).toBeUndefined();
    expect(
      rows
        .filter((r) => r.kind !== 'body-weight')
        .every((r) => r.observation?.context?.['neverSent'] === true),
    ).toBe(true);
  }, 90_000);

  it('registers the owner on the scale, then a link lost between a weight and its body composition: each reading once', async () => {
    const ID = 'C0:26:DA:00:72:12';
    const scale = new SimSanitasSbf72({ address: ID });
    m = await modelOverBluez(scale, {
      fake: { pairing: 'just-works' },
      central: { timing: { cooldownMs: 0 }, backoff: { baseMs: 20, maxMs: 50 } },
    });
    await m.h.central.start();
    await m.h.waitState(ID, 'discovered');
    expect(m.h.central.get(ID)?.driver).toBe('sanitas-sbf72');
    await m.pair();
    await m.h.waitState(ID, 'synced');
    expect(m.bonded()).toBe(true);
    expect(scale.users).toHaveLength(1);
    const index = scale.users[0]!.index;
    expect(m.h.registry.getDevice(ID)).toMatchObject({ bond: 'bonded', users: { [String(index)]: 'alice' } });

    // the scale goes to sleep; two weighings; at the next connection the link drops before composition 2
    scale.disconnect();
    await until(() => !scale.connected, 'the scale ended the link');
    const syncs = m.syncs();
    scale.measureBody({ ...ANNA, userIndex: index });
    scale.measureBody({ ...ANNA, kg: 80.4, bodyFatPercent: 19.9, userIndex: index });
    scale.loseLinkBeforeComposition(2);
    const failed = await m.h.waitState(ID, 'failed');
    expect(failed.code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    expect(scale.pending).toHaveLength(1);
    await m.h.waitState(ID, 'synced', syncs + 1);
    await until(() => scale.pending.length === 0, 'the second weighing again');
    const kinds = m.h.journal
      .list({ deviceId: ID })
      .map((r) => r.kind)
      .sort();
    expect(kinds).toEqual([...BODY_KINDS, ...BODY_KINDS, 'body-weight', 'body-weight'].sort());
    // weight 2 came twice (before the loss and again with its composition): the second collapsed on its id
    expect(m.h.pipeline.counters.duplicate).toBe(1);
    const weights = m.h.journal.list({ deviceId: ID }).filter((r) => r.kind === 'body-weight');
    expect(weights.map((r) => r.observation?.value).sort()).toEqual([79.96, 80.4]);
  });
});
