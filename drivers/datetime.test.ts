import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMinutes,
  compareDateTime,
  dateTimeAt,
  dayOfWeekOf,
  encodeDateTime,
  epochMsOf,
  isCalendarDate,
  toIsoLocal,
  userFacingTime,
} from './datetime.ts';
import { ByteReader } from './reader.ts';
import type { DeviceDateTime } from './types.ts';

const dt = (
  year: number,
  month: number,
  day: number,
  hours = 0,
  minutes = 0,
  seconds = 0,
): DeviceDateTime => ({
  year,
  month,
  day,
  hours,
  minutes,
  seconds,
});

describe('device date arithmetic', () => {
  it('adds a negative GLS time offset within the hour (Nordic GLS test: 11:10:30 − 5 min)', () => {
    expect(userFacingTime(dt(2019, 2, 27, 11, 10, 30), -5)).toEqual(dt(2019, 2, 27, 11, 5, 30));
  });

  it('crosses day, month, leap-day and year boundaries', () => {
    expect(addMinutes(dt(2024, 2, 28, 23, 30), 60)).toEqual(dt(2024, 2, 29, 0, 30));
    expect(addMinutes(dt(2023, 2, 28, 23, 30), 60)).toEqual(dt(2023, 3, 1, 0, 30));
    expect(addMinutes(dt(2025, 12, 31, 23, 59, 59), 1)).toEqual(dt(2026, 1, 1, 0, 0, 59));
    expect(addMinutes(dt(2026, 1, 1, 0, 10), -20)).toEqual(dt(2025, 12, 31, 23, 50));
    expect(addMinutes(dt(2000, 1, 2, 3, 4, 5), 0x5634)).toEqual(dt(2000, 1, 17, 10, 52, 5));
  });

  it('keeps an unknown date unknown and refuses days that do not exist', () => {
    expect(userFacingTime(dt(0, 0, 0, 18, 26, 32), 10)).toBeUndefined();
    expect(userFacingTime(dt(2024, 0, 1), 0)).toBeUndefined();
    expect(userFacingTime(dt(2023, 2, 29), 0)).toBeUndefined();
    expect(isCalendarDate(dt(2024, 2, 29))).toBe(true);
    expect(isCalendarDate(dt(2024, 4, 31))).toBe(false);
  });

  it('writes ISO-8601 local text only for known dates', () => {
    expect(toIsoLocal(dt(2026, 11, 22, 8, 15))).toBe('2026-11-22T08:15:00');
    expect(toIsoLocal(dt(1582, 10, 15, 0, 0, 1))).toBe('1582-10-15T00:00:01');
    expect(toIsoLocal(dt(0, 0, 0, 8, 15))).toBeUndefined();
  });

  it('names the ISO day of week (1 Monday … 7 Sunday)', () => {
    expect(dayOfWeekOf(dt(2025, 1, 15))).toBe(3);
    expect(dayOfWeekOf(dt(2025, 1, 1))).toBe(3);
    expect(dayOfWeekOf(dt(2026, 11, 22))).toBe(7);
    expect(dayOfWeekOf(dt(2026, 11, 23))).toBe(1);
    expect(dayOfWeekOf(dt(0, 0, 0))).toBe(0);
  });

  it('builds the wall clock at an offset and back to the same instant', () => {
    const ms = Date.UTC(2026, 10, 23, 11, 20, 24);
    expect(dateTimeAt(ms, 60)).toEqual(dt(2026, 11, 23, 12, 20, 24));
    expect(epochMsOf(dateTimeAt(ms, -300), -300)).toBe(ms);
    expect(() => dateTimeAt(Number.NaN, 0)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }));
  });

  it('adding then subtracting an offset is the identity (property)', () => {
    const arbDate = fc
      .date({ min: new Date(Date.UTC(1600, 0, 1)), max: new Date(Date.UTC(9990, 0, 1)), noInvalidDate: true })
      .map((d) => dateTimeAt(Math.floor(d.getTime() / 1000) * 1000, 0));
    fc.assert(
      fc.property(arbDate, fc.integer({ min: -32768, max: 32767 }), (base, offset) => {
        const moved = addMinutes(base, offset);
        expect(moved).toBeDefined();
        expect(addMinutes(moved!, -offset)).toEqual(base);
        expect(Math.sign(compareDateTime(moved!, base))).toBe(Math.sign(offset));
      }),
    );
  });

  it('encodes a Date Time that the reader decodes back, and refuses out-of-range fields', () => {
    const value = dt(2018, 4, 17, 15, 51, 0);
    // Nordic DateTimeDataCallbackTest.onDateTimeReceived_today: E2 07 04 11 0F 33 00.
    expect(Buffer.from(encodeDateTime(value)).toString('hex')).toBe('e20704110f3300');
    expect(new ByteReader(encodeDateTime(value), 't').dateTime('d')).toEqual(value);
    expect(() => encodeDateTime(dt(2025, 13, 1))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
    expect(() => encodeDateTime(dt(2025, 1, 1, -1))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
    expect(() => encodeDateTime(dt(2025, 1, 1.5))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }),
    );
  });
});
