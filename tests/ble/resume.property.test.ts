/**
 * Property: whatever the store size and wherever the link drops, a collector that resumes with
 * "report ≥ last received + 1" ends with every record exactly once (real noble over the virtual radio).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { connectAll, discover, must, nextDisconnect, record, until } from './helpers.ts';

describe('glucometer transfer resumption', () => {
  it('collects every record exactly once across any number of link losses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 0xffff - 60 }),
        fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 3 }),
        async (count, firstSequence, cuts) => {
          const meter = new SimGlucometer({
            address: 'C0:26:DA:00:05:01',
            firstSequence,
            records: Array.from({ length: count }, (_, i) => ({
              baseTime: { year: 2026, month: 11, day: 1 + (i % 28), hours: 8, minutes: 0, seconds: 0 },
              concentration: mgdl(70 + i),
              ...(i % 4 === 0 ? { context: { meal: 3 } } : {}),
            })),
          });
          const radio = createVirtualRadio();
          radio.add(meter);
          const p = await discover(createSimNoble(radio), ['1808']);
          const got: number[] = [];
          const pendingCuts = [...cuts];
          for (let attempt = 0; attempt <= cuts.length + 1; attempt++) {
            const cut = pendingCuts.shift();
            if (cut !== undefined) meter.faults.disconnectAfterNotifications = cut;
            const chars = await connectAll(p);
            const [m, ctx, racp] = [
              must(chars.get('2a18'), '2a18'),
              must(chars.get('2a34'), '2a34'),
              must(chars.get('2a52'), '2a52'),
            ];
            const log = record([m, racp]);
            await m.subscribeAsync();
            await ctx.subscribeAsync();
            await racp.subscribeAsync();
            const lost = nextDisconnect(p);
            const last = got.at(-1);
            const request =
              last === undefined ? [0x01, 0x01] : [0x01, 0x03, 0x01, (last + 1) & 0xff, (last + 1) >> 8];
            await racp.writeAsync(Buffer.from(request), false).catch(() => undefined);
            const outcome = await Promise.race([
              lost.then(() => 'lost' as const),
              until(() => log.some(([u]) => u === '2a52'), 'RACP answer').then(() => 'done' as const),
            ]);
            for (const [u, h] of log) if (u === '2a18') got.push(Buffer.from(h, 'hex').readUInt16LE(1));
            if (outcome === 'done') {
              const answer = log.find(([u]) => u === '2a52')![1];
              // Success, or "no records" when the cut fell right after the last record.
              expect(['06000101', '06000106']).toContain(answer);
              await p.disconnectAsync();
              break;
            }
          }
          expect(got).toEqual(Array.from({ length: count }, (_, i) => firstSequence + i));
        },
      ),
      { numRuns: 40 },
    );
  });
});
