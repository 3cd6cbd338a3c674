/**
 * The simulated device never leaves a receipt promise to reject on its own: a PUBACK slower than the
 * receipt timeout still ends in the receipt (the clock starts at the PUBACK), and a publish the broker
 * closes without PUBACK rejects once, with nothing left to reject later (no unhandled rejection).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h?.stop();
  h = undefined;
  unhandled.length = 0;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulated MQTT device receipts', () => {
  it('a PUBACK slower than the receipt timeout still yields the receipt, with no unhandled rejection', async () => {
    process.on('unhandledRejection', onUnhandled);
    h = await startHarness({
      // each commit waits 300 ms: the PUBACK comes three receipt timeouts late
      commits: (journal) => {
        const real = new GroupCommit(journal);
        return {
          append: async (readings, cursor) => {
            await sleep(300);
            return real.append(readings, cursor);
          },
          counters: () => real.counters(),
        };
      },
    });
    const dev = h.device('bp-1', { receiptTimeoutMs: 100 });
    await dev.connect();
    const outcome = await dev.publish(sampleReading('glucose', 1, Date.now() - 60_000));
    expect(outcome.receipt).toMatchObject({ seq: 1, status: 'accepted' });
    await sleep(200);
    expect(unhandled).toEqual([]);
  });

  it('a publish closed without PUBACK or receipt rejects once and leaves nothing to reject later', async () => {
    process.on('unhandledRejection', onUnhandled);
    h = await startHarness();
    const dev = h.device('bp-1', { receiptTimeoutMs: 100 });
    await dev.connect();
    // beyond the packet limit: the broker closes the connection before reading it (no PUBACK, no receipt)
    await expect(dev.publishMalformed(Buffer.alloc(200_000, 0x20))).rejects.toThrow(
      /closed the connection without acknowledging/,
    );
    await sleep(300);
    expect(unhandled).toEqual([]);
  });
});
