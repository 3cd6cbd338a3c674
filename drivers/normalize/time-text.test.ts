import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviceTimeText } from './time-text.ts';

describe('device time text', () => {
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
