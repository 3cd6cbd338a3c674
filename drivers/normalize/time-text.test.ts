import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviceTimeText, utcText } from './time-text.ts';

const YEAR_10000_MS = Date.UTC(10000, 0, 1);

describe('time texts', () => {
  it('utcText is toISOString on every day from 1970 to 9999 (its first, a middle or its last millisecond)', () => {
    let day = 0;
    for (let ms = 0; ms < YEAR_10000_MS; ms += 86_400_000, day++) {
      const t = ms + [0, 86_399_999, (day * 7_919_123) % 86_400_000][day % 3]!;
      if (utcText(t) !== new Date(t).toISOString()) expect(utcText(t)).toBe(new Date(t).toISOString());
    }
  });
  it('utcText is toISOString for any instant, fractional, negative or beyond 9999 alike', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: YEAR_10000_MS + 1000 }),
          fc.integer({ min: -8.64e15, max: 8.64e15 }),
          fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
        ),
        (ms) => {
          expect(utcText(ms)).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 20_000 },
    );
    expect(() => utcText(Number.NaN)).toThrow(RangeError);
    expect(() => utcText(8.64e15 + 1)).toThrow(RangeError);
  });
  it('deviceTimeText pads each field as padStart does, whatever the values', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const field = fc.oneof(
      fc.integer({ min: 0, max: 120 }),
      fc.integer({ min: -5, max: 70000 }),
      fc.double(),
    );
    fc.assert(
      fc.property(
        fc.tuple(field, field, field, field, field, field),
        ([year, month, day, hours, minutes, seconds]) => {
          expect(deviceTimeText({ year, month, day, hours, minutes, seconds })).toBe(
            `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hours)}:${pad(minutes)}:${pad(seconds)}`,
          );
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
