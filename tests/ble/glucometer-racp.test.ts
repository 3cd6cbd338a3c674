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
