/**
 * Normalization happens once, in the pipeline: the BLE session hands device-unit records to the sink
 * and never normalizes them itself. Every call of drivers/normalize during a glucometer sync is counted
 * (the module is wrapped, the real function runs), with the glucose context merged before the pipeline.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { type Harness, harness } from './harness.ts';

const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock(import('../../drivers/normalize/index.ts'), async (original) => {
  const real = await original();
  return {
    ...real,
    normalize: (...args: Parameters<typeof real.normalize>) => {
      calls.n += 1;
      return real.normalize(...args);
    },
  };
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ID = 'C0:26:DA:00:00:31';

describe('BLE: normalize once', () => {
  it('each glucometer record is normalized exactly once, by the pipeline', async () => {
    const records = Array.from({ length: 12 }, (_, i) => ({
      baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: i, seconds: 0 },
      concentration: mgdl(100 + i),
      ...(i % 2 === 0 ? { context: { meal: 1 + (i % 5) } } : {}),
    }));
    const g = new SimGlucometer({ address: ID, records });
    h = await harness([g], { autoPair: [ID] });
    await h.provision({ id: ID, patientId: 'alice', driver: 'roche-accu-chek-guide' });
    calls.n = 0;
    await h.central.start();
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(12);
    const stored = h.journal.list({ deviceId: ID });
    expect(stored).toHaveLength(12);
    // The merged context reached the pipeline (meal on every other record).
    expect(stored.filter((r) => JSON.stringify(r).includes('meal')).length).toBeGreaterThanOrEqual(6);
    expect(calls.n).toBe(12);
  });
});
