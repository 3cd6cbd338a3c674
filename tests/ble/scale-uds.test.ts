/**
 * The simulated multi-user scale under real noble: User Data Service registration and consent,
 * per-user stored weights released only after consent, SI and imperial frames, unknown users.
 */
import { describe, expect, it } from 'vitest';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { connectAll, discover, must, record, until } from './helpers.ts';

async function open(scale: SimScale) {
  const radio = createVirtualRadio();
  radio.add(scale);
  const p = await discover(createSimNoble(radio), ['181d']);
  const chars = await connectAll(p);
  const ucp = must(chars.get('2a9f'), '2a9f');
  const weight = must(chars.get('2a9d'), '2a9d');
  const log = record([ucp, weight]);
  await ucp.subscribeAsync();
  const ask = async (hex: string) => {
    const before = log.filter(([u]) => u === '2a9f').length;
    await ucp.writeAsync(Buffer.from(hex, 'hex'), false);
    await until(() => log.filter(([u]) => u === '2a9f').length > before, `UCP answer to ${hex}`);
    return log.filter(([u]) => u === '2a9f').at(-1)![1];
  };
  const weights = () => log.filter(([u]) => u === '2a9d').map(([, h]) => h);
  return { p, chars, ucp, weight, ask, weights };
}

describe('multi-user scale with the User Data Service', () => {
  it('registers a user with a consent code, refuses a wrong code, accepts the right one', async () => {
    const scale = new SimScale({ address: 'D4:36:39:00:01:01', users: [{ index: 0, consentCode: 1234 }] });
    const { ask, chars } = await open(scale);
    expect(await ask('011a0a')).toBe('20010101'); // consent code 2586 → new user index 1
    expect(await ask('0201d204')).toBe('200205'); // user 1 with user 0's code: not authorized
    expect(await ask('0209d204')).toBe('200203'); // unknown user index: invalid parameter
    expect(await ask('01ffff')).toBe('200103'); // consent code above 9999: invalid parameter
    expect(await ask('02011a0a')).toBe('200201');
    expect((await must(chars.get('2a9a'), '2a9a').readAsync()).toString('hex')).toBe('01');
    expect(await ask('09')).toBe('200902');
    expect(scale.consentedUser).toBe(1);
  });

  it('keeps user data closed without consent, and UCP writes need indications first', async () => {
    const scale = new SimScale({ address: 'D4:36:39:00:01:02', users: [{ index: 0, consentCode: 1 }] });
    const radio = createVirtualRadio();
    radio.add(scale);
    const chars = await connectAll(await discover(createSimNoble(radio), ['181d']));
    await expect(
      must(chars.get('2a9f'), '2a9f').writeAsync(Buffer.from('02000100', 'hex'), false),
    ).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0xfd,
    });
    await expect(must(chars.get('2a99'), '2a99').readAsync()).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0x80,
    });
  });

  it('stores weights per user and indicates a user’s weights only after that user consents', async () => {
    const scale = new SimScale({
      address: 'D4:36:39:00:01:03',
      users: [
        { index: 0, consentCode: 1111, heightM: 1.7 },
        { index: 1, consentCode: 2222 },
      ],
    });
    scale.measure({ kg: 72.4, userIndex: 0 });
    scale.measure({ kg: 58.1, userIndex: 1 });
    scale.measure({ kg: 72.2, userIndex: 0 });
    const { ask, weight, weights } = await open(scale);
    await weight.subscribeAsync();
    await new Promise((r) => setTimeout(r, 20));
    expect(weights()).toEqual([]);
    expect(await ask('02005704')).toBe('200201'); // user 0, code 1111 (0x0457)
    await until(() => weights().length === 2, "user 0's two weights");
    const first = Buffer.from(weights()[0]!, 'hex');
    // flags 0x0E: time stamp, user id, BMI + height; SI.
    expect(first[0]).toBe(0x0e);
    expect(first.readUInt16LE(1)).toBe(14480); // 72.4 kg / 0.005
    expect(first[10]).toBe(0); // user index
    expect(first.readUInt16LE(11)).toBe(251); // BMI 25.1 (72.4 / 1.7²)
    expect(first.readUInt16LE(13)).toBe(1700); // 1.700 m
    expect(Buffer.from(weights()[1]!, 'hex').readUInt16LE(1)).toBe(14440);
    expect(scale.pending.map((r) => r.userIndex)).toEqual([1]);
  });

  it('indicates a live weighing once (final weight only), in imperial units after a unit switch', async () => {
    const scale = new SimScale({ address: 'D4:36:39:00:01:04', users: [{ index: 0, consentCode: 42 }] });
    const { ask, weight, weights } = await open(scale);
    await weight.subscribeAsync();
    expect(await ask('02002a00')).toBe('200201');
    scale.switchUnits('imperial');
    scale.measure({ lb: 165.3 });
    await until(() => weights().length === 1, 'the weight');
    await new Promise((r) => setTimeout(r, 20));
    expect(weights()).toHaveLength(1);
    const frame = Buffer.from(weights()[0]!, 'hex');
    expect(frame[0]).toBe(0x07); // imperial, time stamp, user id
    expect(frame.readUInt16LE(1)).toBe(16530); // 165.30 lb / 0.01
    expect(frame[10]).toBe(0);
  });

  it('sends a weighing by an unknown person with user 0xFF, and a second household user under that fault', async () => {
    const scale = new SimScale({ address: 'D4:36:39:00:01:05', faults: { householdUser: 2 } });
    scale.measure({ kg: 80 });
    const unknown = new SimScale({ address: 'D4:36:39:00:01:06' });
    unknown.measure({ kg: 80 });
    expect(scale.pending[0]!.userIndex).toBe(2);
    const { weight, weights } = await open(unknown);
    await weight.subscribeAsync();
    await until(() => weights().length === 1, 'the unknown user weight');
    expect(Buffer.from(weights()[0]!, 'hex')[10]).toBe(0xff);
  });
});
