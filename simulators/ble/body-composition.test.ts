/** The simulator's 0x2A9C encoder reproduces the bytes real scales sent (captures cited in the fixtures). */
import { describe, expect, it } from 'vitest';
import { encodeBodyComposition } from './body-composition.ts';

describe('encodeBodyComposition', () => {
  it('gives the Beurer BF720 capture byte for byte (ble-scale-sync#168)', () => {
    const frame = encodeBodyComposition({
      bodyFatRaw: 194,
      basalMetabolismKj: 6879,
      musclePercentRaw: 407,
      softLeanMassRaw: 12236,
      bodyWaterMassRaw: 8650,
      impedanceRaw: 4520,
    });
    expect(frame.toString('hex')).toBe('9803c200df1a9701cc2fca21a811');
  });

  it('puts the time stamp and user after the body fat, and sets the imperial bit', () => {
    const frame = encodeBodyComposition({
      bodyFatRaw: 250,
      imperial: true,
      time: { year: 2026, month: 12, day: 3, hours: 8, minutes: 5, seconds: 9 },
      userIndex: 2,
      weightRaw: 17000,
    });
    expect(frame.toString('hex')).toBe('0704fa00ea070c0308050902' + '6842');
  });
});
