import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateTimeAt, dayOfWeekOf } from '../datetime.ts';
import { parseHex, toHex } from '../reader.ts';
import { IGNORE_RESERVED_FLAGS } from './bits.ts';
import { ADJUST_REASONS, type AdjustReasonName, currentTime, encodeCurrentTime } from './current-time.ts';
import { localTimeInformation } from './local-time-information.ts';

describe('Current Time 0x2A2B', () => {
  it('encodes the 10 bytes a device clock write needs', () => {
    // RonanB96/bluetooth-sig-python test_current_time.py: 2025-01-15 14:30:45, Wednesday, 33/256, manual.
    const bytes = encodeCurrentTime(
      { year: 2025, month: 1, day: 15, hours: 14, minutes: 30, seconds: 45 },
      'wednesday',
      33,
      { manualTimeUpdate: true },
    );
    expect(toHex(bytes)).toBe('e907010f0e1e2d032101');
    expect(
      toHex(
        encodeCurrentTime({ year: 2025, month: 12, day: 31, hours: 23, minutes: 59, seconds: 59 }, 7, 255, {
          externalReferenceTimeUpdate: true,
          changeOfTimeZone: true,
        }),
      ),
    ).toBe('e9070c1f173b3b07ff06');
  });

  it('decodes what it encodes, for any instant and adjust reason (property)', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(Date.UTC(1990, 0, 1)),
          max: new Date(Date.UTC(2200, 0, 1)),
          noInvalidDate: true,
        }),
        fc.integer({ min: -720, max: 840 }),
        fc.integer({ min: 0, max: 255 }),
        fc.subarray([...ADJUST_REASONS]),
        (date, offset, fractions, reasons) => {
          const dt = dateTimeAt(date.getTime() - (date.getTime() % 1000), offset);
          const reason = Object.fromEntries(reasons.map((r) => [r, true])) as Partial<
            Record<AdjustReasonName, boolean>
          >;
          const decoded = currentTime.decode(encodeCurrentTime(dt, dayOfWeekOf(dt), fractions, reason));
          expect(decoded.dateTime).toEqual(dt);
          expect(decoded.fractions256).toBe(fractions);
          expect(ADJUST_REASONS.filter((r) => decoded.adjustReason[r])).toEqual(reasons);
        },
      ),
    );
  });

  it('refuses bad input to the encoder with coded errors', () => {
    const dt = { year: 2025, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0 };
    expect(() => encodeCurrentTime(dt, 8, 0)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
    expect(() => encodeCurrentTime(dt, 1, 256)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
    expect(() => encodeCurrentTime({ ...dt, hours: 24 }, 1, 0)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
    expect(() => encodeCurrentTime(dt, 1, 0, { leapSecond: true } as never)).toThrow(/unknown adjust reason/);
  });

  it('accepts RFU adjust reason bits only under the ignore-reserved-flags quirk', () => {
    const bytes = parseHex('e9 07 01 01 00 00 00 01 00 11');
    expect(() => currentTime.decode(bytes)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    expect(currentTime.decode(bytes, new Set([IGNORE_RESERVED_FLAGS])).adjustReason.manualTimeUpdate).toBe(
      true,
    );
  });
});

describe('Local Time Information 0x2A0F', () => {
  it('reads negative time zones in 15-minute steps and the extreme values', () => {
    expect(localTimeInformation.decode(parseHex('ec 00'))).toEqual({
      timeZone: -20,
      timeZoneMinutes: -300,
      dstOffset: 'standard-time',
      dstOffsetMinutes: 0,
    });
    expect(localTimeInformation.decode(parseHex('d0 08')).timeZoneMinutes).toBe(-720);
    expect(localTimeInformation.decode(parseHex('38 02')).dstOffsetMinutes).toBe(30);
    expect(() => localTimeInformation.decode(parseHex('cf 00'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });
});
