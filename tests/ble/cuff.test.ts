/**
 * The simulated BP cuff under real noble: intermediate cuff pressure notifications, then the final
 * indication; stored readings pushed once indications are enabled; kPa; the Beurer BM85 quirk.
 */
import { describe, expect, it } from 'vitest';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { connectAll, discover, must, record, until } from './helpers.ts';

async function open(cuff: SimCuff) {
  const radio = createVirtualRadio();
  radio.add(cuff);
  const p = await discover(createSimNoble(radio), ['1810']);
  const chars = await connectAll(p);
  const bpm = must(chars.get('2a35'), '2a35');
  const icp = must(chars.get('2a36'), '2a36');
  return { p, bpm, icp, log: record([bpm, icp]) };
}

describe('blood-pressure cuff', () => {
  it('notifies intermediate cuff pressures while measuring, then indicates the final reading', async () => {
    const cuff = new SimCuff({ address: 'A4:C1:38:00:02:01' });
    const { bpm, icp, log } = await open(cuff);
    await icp.subscribeAsync();
    await bpm.subscribeAsync();
    await cuff.measure({ systolic: 128, diastolic: 82, pulse: 64, userId: 1 });
    await until(() => log.some(([u]) => u === '2a35'), 'final reading');
    const kinds = log.map(([u]) => u);
    expect(kinds.at(-1)).toBe('2a35');
    expect(kinds.filter((u) => u === '2a36').length).toBeGreaterThanOrEqual(3);
    expect(kinds.indexOf('2a35')).toBe(kinds.length - 1);
    // ICP: flags 0, cuff pressure in the systolic slot, diastolic and MAP NaN (FF 07).
    expect(log[0]![1]).toBe('001400ff07ff07');
    const final = Buffer.from(log.at(-1)![1], 'hex');
    expect(final[0]).toBe(0x0e); // time stamp, pulse, user id; mmHg
    expect(final.readUInt16LE(1)).toBe(128);
    expect(final.readUInt16LE(3)).toBe(82);
    expect(final.readUInt16LE(5)).toBe(97); // MAP = 82 + 46/3 rounded
    expect(final.readUInt16LE(14)).toBe(64);
    expect(final[16]).toBe(1);
  });

  it('pushes stored readings, oldest first, as soon as indications are enabled on connect', async () => {
    const cuff = new SimCuff({ address: 'A4:C1:38:00:02:02' });
    await cuff.measure({ systolic: 140, diastolic: 90 });
    await cuff.measure({ systolic: 135, diastolic: 88 });
    expect(cuff.pending).toHaveLength(2);
    const { bpm, log } = await open(cuff);
    await bpm.subscribeAsync();
    await until(() => log.length === 2, 'stored readings');
    expect(log.map(([, h]) => Buffer.from(h, 'hex').readUInt16LE(1))).toEqual([140, 135]);
    expect(cuff.pending).toHaveLength(0);
  });

  it('sends kPa with one decimal after a unit switch', async () => {
    const cuff = new SimCuff({ address: 'A4:C1:38:00:02:03' });
    cuff.switchUnit('kPa');
    await cuff.measure({ systolic: 120, diastolic: 80, meanArterial: 93 });
    const { bpm, log } = await open(cuff);
    await bpm.subscribeAsync();
    await until(() => log.length === 1, 'reading');
    const f = Buffer.from(log[0]![1], 'hex');
    expect(f[0]! & 0x01).toBe(1);
    expect(f.readUInt16LE(1)).toBe(0xf0a0); // 160 × 10^-1 kPa = 16.0 kPa
    expect(f.readUInt16LE(3)).toBe(0xf06b); // 10.7 kPa
  });

  it('reproduces the Beurer BM85 frame: RFU bit 6, user id without its flag, pulse and status big-endian', async () => {
    const cuff = new SimCuff({ address: 'A4:C1:38:00:02:04', quirks: { beurerBm85: true } });
    await cuff.measure({
      systolic: 120,
      diastolic: 80,
      meanArterial: 93,
      pulse: 64,
      userId: 2,
      status: 0x0001,
    });
    const { bpm, log } = await open(cuff);
    await bpm.subscribeAsync();
    await until(() => log.length === 1, 'reading');
    const f = Buffer.from(log[0]![1], 'hex');
    expect(f[0]).toBe(0x56); // 0x40 RFU + 0x10 status + 0x04 pulse + 0x02 time; no 0x08
    expect(f.subarray(14).toString('hex')).toBe('0040' + '02' + '0001');
  });

  it('sets reserved flags and cuts frames under the frame faults', async () => {
    const cuff = new SimCuff({
      address: 'A4:C1:38:00:02:05',
      faults: { reservedFlags: true, frame: 'truncate' },
    });
    await cuff.measure({ systolic: 120, diastolic: 80, meanArterial: 93 });
    const { bpm, log } = await open(cuff);
    await bpm.subscribeAsync();
    await until(() => log.length === 1, 'reading');
    const f = Buffer.from(log[0]![1], 'hex');
    expect(f[0]! & 0x80).toBe(0x80);
    expect(f).toHaveLength(7 + 7 - 2);
  });
});

describe('cuff that disconnects when done, and sleeps', () => {
  it('pushes its stored readings, then ends the link itself (0x13); asleep it cannot be reached', async () => {
    const { nextDisconnect } = await import('./helpers.ts');
    const cuff = new SimCuff({ address: 'A4:C1:38:00:02:09', disconnectWhenDone: true });
    await cuff.measure({ systolic: 131, diastolic: 85 });
    const { p, bpm, log } = await open(cuff);
    const ended = nextDisconnect(p);
    await bpm.subscribeAsync();
    expect(await ended).toBe(0x13);
    expect(log).toHaveLength(1);
    cuff.sleep();
    await expect(p.connectAsync()).rejects.toMatchObject({ code: 'MEDGW_ERR_BLE_UNREACHABLE' });
    await cuff.measure({ systolic: 118, diastolic: 76 }); // wakes up and advertises
    await p.connectAsync();
    expect(p.state).toBe('connected');
  });
});
