/**
 * The real @stoprocent/noble drives the simulated glucometer over the virtual radio: discovery by
 * service UUID, subscriptions, RACP record transfer, link loss in the middle and resumption.
 */
import { describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { connectAll, discover, must, nextDisconnect, record, until } from './helpers.ts';

function meter(count: number, faults = {}) {
  const records = Array.from({ length: count }, (_, i) => ({
    baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: i % 60, seconds: 0 },
    concentration: mgdl(90 + i),
    ...(i % 3 === 0 ? { context: { meal: 1 + (i % 5) } } : {}),
  }));
  return new SimGlucometer({ address: 'C0:26:DA:00:00:01', records, faults });
}

/** Sequence number of a 0x2A18 notification, read by hand: bytes 1-2 little-endian. */
const seqOf = (hex: string) => Buffer.from(hex, 'hex').readUInt16LE(1);

describe('glucometer over the virtual radio', () => {
  it('reports every record exactly once, each context right after its measurement, then success', async () => {
    const radio = createVirtualRadio();
    radio.add(meter(25));
    const noble = createSimNoble(radio);
    const p = await discover(noble, ['1808']);
    expect(p.advertisement.localName).toBe('meter+ 4000');
    const chars = await connectAll(p);
    const [m, ctx, racp] = [
      must(chars.get('2a18'), '2a18'),
      must(chars.get('2a34'), '2a34'),
      must(chars.get('2a52'), '2a52'),
    ];
    expect(racp.properties).toEqual(['write', 'indicate']);
    const log = record([m, ctx, racp]);
    await m.subscribeAsync();
    await ctx.subscribeAsync();
    await racp.subscribeAsync();
    await racp.writeAsync(Buffer.from([0x01, 0x01]), false);
    await until(() => log.some(([u]) => u === '2a52'), 'RACP response');
    const last = log.at(-1);
    expect(last).toEqual(['2a52', '06000101']);
    const seqs = log.filter(([u]) => u === '2a18').map(([, h]) => seqOf(h));
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // Every context follows its own measurement (same sequence number at bytes 1-2).
    log.forEach(([u, h], i) => {
      if (u === '2a34') expect(seqOf(log[i - 1]![1])).toBe(seqOf(h));
    });
    expect(log.filter(([u]) => u === '2a34')).toHaveLength(9);
    // Hand-checked first frame: flags 0x12 (concentration + type/location, bit2=0 kg/L, bit4 context follows), seq 1, 2026-11-20 08:00:00, 90e-5 kg/L (0xB05A), type 1 location 1.
    expect(log[0]).toEqual(['2a18', '120100ea070b14080000' + '5ab0' + '11']);
    await p.disconnectAsync();
  });

  it('resumes with "report ≥ last+1" after a link loss in the middle: the union is every record once', async () => {
    const radio = createVirtualRadio();
    radio.add(meter(40, { disconnectAfterNotifications: 12 }));
    const noble = createSimNoble(radio);
    const p = await discover(noble, ['1808']);
    const got: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const chars = await connectAll(p);
      const [m, racp] = [must(chars.get('2a18'), '2a18'), must(chars.get('2a52'), '2a52')];
      const log = record([m, racp]);
      await m.subscribeAsync();
      await racp.subscribeAsync();
      const lost = nextDisconnect(p);
      const request =
        got.length === 0
          ? [0x01, 0x01]
          : [0x01, 0x03, 0x01, (got.at(-1)! + 1) & 0xff, (got.at(-1)! + 1) >> 8];
      await racp.writeAsync(Buffer.from(request), false);
      const outcome = await Promise.race([
        lost.then(() => 'lost' as const),
        until(() => log.some(([u]) => u === '2a52'), 'RACP response').then(() => 'done' as const),
      ]);
      for (const [u, h] of log) if (u === '2a18') got.push(seqOf(h));
      if (attempt === 0) {
        expect(outcome).toBe('lost');
        expect(await lost).toBe(0x08);
        expect(got).toHaveLength(12);
      } else {
        expect(outcome).toBe('done');
        expect(log.at(-1)).toEqual(['2a52', '06000101']);
        await p.disconnectAsync();
      }
    }
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe('glucometer RACP procedures', () => {
  async function session(m: SimGlucometer) {
    const radio = createVirtualRadio();
    radio.add(m);
    const noble = createSimNoble(radio);
    const p = await discover(noble, ['1808']);
    const chars = await connectAll(p);
    const [meas, racp] = [must(chars.get('2a18'), '2a18'), must(chars.get('2a52'), '2a52')];
    const log = record([meas, racp]);
    await meas.subscribeAsync();
    await racp.subscribeAsync();
    /** Writes a request and waits for the RACP answer; returns [answer, sequence numbers received]. */
    const ask = async (hex: string) => {
      log.length = 0;
      await racp.writeAsync(Buffer.from(hex, 'hex'), false);
      await until(() => log.some(([u]) => u === '2a52'), `answer to ${hex}`);
      const answer = log.find(([u]) => u === '2a52')![1];
      return [answer, log.filter(([u]) => u === '2a18').map(([, h]) => seqOf(h))] as const;
    };
    return { p, racp, meas, log, ask };
  }

  it('counts, filters by sequence number and by user-facing time, and reports first and last', async () => {
    const { ask } = await session(meter(10));
    expect(await ask('0401')).toEqual(['05000a00', []]);
    expect(await ask('04030107 00'.replace(' ', ''))).toEqual(['05000400', []]);
    expect(await ask('0102010300')).toEqual(['06000101', [1, 2, 3]]);
    expect(await ask('01040104000600')).toEqual(['06000101', [4, 5, 6]]);
    expect(await ask('0105')).toEqual(['06000101', [1]]);
    expect(await ask('0106')).toEqual(['06000101', [10]]);
    // User-facing time ≥ 2026-11-20 08:08:00 → records 9 and 10 (minute = index).
    expect(await ask('010302ea070b14080800')).toEqual(['06000101', [9, 10]]);
  });

  it('answers no records, op code not supported, invalid operator, operator and operand errors', async () => {
    const { ask } = await session(meter(3));
    expect(await ask('0103010a00')).toEqual(['06000106', []]);
    expect(await ask('0700')).toEqual(['06000702', []]);
    expect(await ask('0100')).toEqual(['06000103', []]);
    expect(await ask('0109')).toEqual(['06000104', []]);
    expect(await ask('010301')).toEqual(['06000105', []]);
    expect(await ask('01030905')).toEqual(['06000109', []]);
    expect(await ask('010101')).toEqual(['06000105', []]);
  });

  it('deletes records, then reports what is left', async () => {
    const { ask } = await session(meter(5));
    expect(await ask('0202010200')).toEqual(['06000201', []]);
    expect(await ask('0401')).toEqual(['05000300', []]);
    expect(await ask('0101')).toEqual(['06000101', [3, 4, 5]]);
    expect(await ask('0201')).toEqual(['06000201', []]);
    expect(await ask('0101')).toEqual(['06000106', []]);
  });

  it('aborts a transfer in progress: the abort succeeds and the report ends without its own response', async () => {
    const { racp, meas, log } = await session(meter(300));
    let seen = 0;
    meas.on('data', () => {
      // The abort goes out as soon as the fifth record arrives.
      if (++seen === 5) racp.write(Buffer.from('0300', 'hex'), false);
    });
    await racp.writeAsync(Buffer.from('0101', 'hex'), false);
    await until(() => log.some(([u]) => u === '2a52'), 'abort response');
    await new Promise((r) => setTimeout(r, 20));
    const answers = log.filter(([u]) => u === '2a52').map(([, h]) => h);
    expect(answers).toEqual(['06000301']);
    // The record already queued when the abort arrived may still go out; nothing after it.
    expect(log.filter(([u]) => u === '2a18').length).toBeLessThanOrEqual(6);
  });

  it('refuses a second request while one runs, and any request before RACP indications are enabled', async () => {
    const { racp, log } = await session(meter(300));
    await racp.writeAsync(Buffer.from('0101', 'hex'), false);
    await expect(racp.writeAsync(Buffer.from('0401', 'hex'), false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0x80,
    });
    await until(() => log.some(([u]) => u === '2a52'), 'end of transfer');

    const radio = createVirtualRadio();
    radio.add(meter(1));
    const chars = await connectAll(await discover(createSimNoble(radio), ['1808']));
    await expect(
      must(chars.get('2a52'), '2a52').writeAsync(Buffer.from('0101', 'hex'), false),
    ).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0xfd,
    });
  });

  it('re-sends old records with "report ≥ N" under the re-sent-records fault', async () => {
    const { ask } = await session(meter(6, { resendOld: 2 }));
    expect(await ask('0102010400')).toEqual(['06000101', [1, 2, 3, 4]]);
    expect(await ask('0103010500')).toEqual(['06000101', [3, 4, 5, 6]]);
  });

  it('notifies a new reading at once while a central listens, with the device clock', async () => {
    const m = new SimGlucometer({ address: 'C0:26:DA:00:00:0C', faults: { clock: '2094' }, unit: 'mol/L' });
    const { log } = await session(m);
    const r = m.measure({ mmol: 5.3 });
    await until(() => log.length === 1, 'notification');
    expect(r.sequence).toBe(1);
    const frame = Buffer.from(log[0]![1], 'hex');
    expect(frame[0]).toBe(0x06); // concentration present, mol/L
    expect(frame.readUInt16LE(3)).toBe(2094);
    expect(frame.readUInt16LE(10)).toBe(0xc035); // 53 × 10^-4 mol/L
  });
});
