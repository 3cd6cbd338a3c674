import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

const opts = { baseMs: 100, maxMs: 1_000, maxAttempts: 5 };

describe('backoffDelay', () => {
  it('doubles each attempt between half and the whole step, capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('spreads retries of devices that failed together (jitter)', () => {
    let x = 0.1;
    const random = () => {
      x = (x * 7.31) % 1;
      return x;
    };
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(3, opts, random)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});
