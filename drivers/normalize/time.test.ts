/**
 * The reading's time against the IANA rules of Europe/Paris (summer time from the last Sunday of March,
 * 01:00 UTC, to the last Sunday of October, 01:00 UTC: 2026-03-29 and 2026-10-25). Every expected
 * instant below is worked out by hand in the comment beside it, not by the code under test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimal } from '../ieee11073.ts';
import type { CoincidentTime, DeviceDateTime, Measurement } from '../types.ts';
import { icuOffsetMinutes, resolveTime, wallToUtc, zoneOffsetMinutes } from './time.ts';

const PARIS = 'Europe/Paris';
const dt = (y: number, mo: number, d: number, h: number, mi: number, s = 0): DeviceDateTime => ({
  year: y,
  month: mo,
  day: d,
  hours: h,
  minutes: mi,
  seconds: s,
});
const glucose = (deviceTime: DeviceDateTime | undefined, source = '2A18'): Measurement => ({
  kind: 'glucose',
  source,
  ...(deviceTime ? { deviceTime } : {}),
  components: [{ name: 'glucose', value: decimal(100, -5), unit: 'kg/L' }],
  final: true,
});

// Read in November (winter, UTC+1): gateway 2026-11-20T10:00:00Z = 11:00 civil; the device shows 11:03,
// so its clock runs 3 minutes fast.
const NOVEMBER: CoincidentTime = {
  device: dt(2026, 11, 20, 11, 3),
  gatewayMs: Date.UTC(2026, 10, 20, 10, 0),
};
// The same device, whose Local Time Information 0x2A0F says "standard time" (DST offset 0): it keeps summer time.
const NOVEMBER_LTI: CoincidentTime = { ...NOVEMBER, dstOffsetMinutes: 0 };

describe('zone rules', () => {
  it('zoneOffsetMinutes (a per-year table of changes) is the ICU offset at any instant', () => {
    // Zones with one-hour, half-hour (Lord Howe) and Ramadan-suspended (Casablanca) summer times, none
    // (Tokyo, Kolkata +05:30), and a southern-hemisphere one (Sydney).
    const zones = [
      'Europe/Paris',
      'America/New_York',
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Africa/Casablanca',
      'Asia/Tokyo',
      'Asia/Kolkata',
      'America/Santiago',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2001, 0, 1), max: Date.UTC(2040, 0, 1) }),
        (zone, t) => zoneOffsetMinutes(zone, t) === icuOffsetMinutes(zone, t),
      ),
      { numRuns: 400 },
    );
    // Either side of each Paris change of 2026, to the minute.
    for (const change of [Date.UTC(2026, 2, 29, 1), Date.UTC(2026, 9, 25, 1)]) {
      for (const t of [change - 60_000, change - 1, change, change + 60_000]) {
        expect(zoneOffsetMinutes(PARIS, t)).toBe(icuOffsetMinutes(PARIS, t));
      }
    }
  });

  it('zoneOffsetMinutes and wallToUtc follow the IANA rules of the date', () => {
    expect(zoneOffsetMinutes(PARIS, Date.UTC(2026, 7, 10, 12))).toBe(120);
    expect(zoneOffsetMinutes(PARIS, Date.UTC(2026, 10, 10, 12))).toBe(60);
    expect(zoneOffsetMinutes('America/New_York', Date.UTC(2026, 0, 10, 12))).toBe(-300);
    // 2026-08-10 08:30 civil in Paris is 06:30Z
    expect(wallToUtc(PARIS, Date.UTC(2026, 7, 10, 8, 30))).toEqual([Date.UTC(2026, 7, 10, 6, 30)]);
    // 02:30 on 2026-10-25 happens twice: 00:30Z (summer) and 01:30Z (winter)
    expect(wallToUtc(PARIS, Date.UTC(2026, 9, 25, 2, 30))).toEqual([
      Date.UTC(2026, 9, 25, 0, 30),
      Date.UTC(2026, 9, 25, 1, 30),
    ]);
    // 02:30 on 2026-03-29 never happens (01:59:59 is followed by 03:00:00)
    expect(wallToUtc(PARIS, Date.UTC(2026, 2, 29, 2, 30))).toEqual([]);
  });
});

describe('clock correction for stored readings', () => {
  it('an August reading corrected in November keeps its summer time (Europe/Paris)', () => {
    // device 08:33 − 3 min drift = 08:30 civil on 10 August, UTC+2 that day → 06:30Z
    const { time, quarantine } = resolveTime(glucose(dt(2026, 8, 10, 8, 33)), {
      coincident: NOVEMBER_LTI,
      timeZone: PARIS,
    });
    expect(quarantine).toBeUndefined();
    expect(time).toEqual({
      device: '2026-08-10T08:33:00',
      utc: '2026-08-10T06:30:00.000Z',
      quality: 'corrected',
    });
    // The offset measured in November applied as it is would have said 07:30Z: an hour late.
    expect(resolveTime(glucose(dt(2026, 8, 10, 8, 33)), { coincident: NOVEMBER_LTI }).time.utc).toBe(
      '2026-08-10T07:30:00.000Z',
    );
  });

  it('a reading in the same period as the coincident timestamp is corrected, LTI or not', () => {
    // device 09:03 on 2 November − 3 min = 09:00 civil, UTC+1 → 08:00Z
    const { time } = resolveTime(glucose(dt(2026, 11, 2, 9, 3)), { coincident: NOVEMBER, timeZone: PARIS });
    expect(time).toEqual({
      device: '2026-11-02T09:03:00',
      utc: '2026-11-02T08:00:00.000Z',
      quality: 'corrected',
    });
    const synced = resolveTime(glucose(dt(2026, 11, 20, 11, 4)), {
      coincident: { ...NOVEMBER, deviceClockSet: true },
      timeZone: PARIS,
    });
    expect(synced.time.quality).toBe('synced');
    expect(synced.time.utc).toBe('2026-11-20T10:01:00.000Z');
  });

  it('across a year boundary', () => {
    // Read on 2027-01-02 at 12:00Z = 13:00 civil; the device shows 12:58 (2 min slow).
    const january: CoincidentTime = {
      device: dt(2027, 1, 2, 12, 58),
      gatewayMs: Date.UTC(2027, 0, 2, 12, 0),
    };
    // device 2026-12-31 23:58:30 + 2 min = 2027-01-01 00:00:30 civil, UTC+1 → 2026-12-31T23:00:30Z
    const newYear = resolveTime(glucose(dt(2026, 12, 31, 23, 58, 30)), {
      coincident: january,
      timeZone: PARIS,
    });
    expect(newYear.time).toEqual({
      device: '2026-12-31T23:58:30',
      utc: '2026-12-31T23:00:30.000Z',
      quality: 'corrected',
    });
    // A July 2026 reading read in January 2027 by a device that keeps summer time (LTI):
    // device 2026-07-14 21:58 + 2 min = 22:00 civil, UTC+2 → 20:00Z
    const july = resolveTime(glucose(dt(2026, 7, 14, 21, 58)), {
      coincident: { ...january, dstOffsetMinutes: 0 },
      timeZone: PARIS,
    });
    expect(july.time).toEqual({
      device: '2026-07-14T21:58:00',
      utc: '2026-07-14T20:00:00.000Z',
      quality: 'corrected',
    });
  });

  it('says so when it cannot be decided whether the device clock keeps summer time', () => {
    // No Local Time Information: an August reading read in November may be civil (06:30Z) or on a clock
    // that ignores summer time (07:30Z). The civil reading is kept; the quality says which hour is unsure.
    const { time, quarantine } = resolveTime(glucose(dt(2026, 8, 10, 8, 33)), {
      coincident: NOVEMBER,
      timeZone: PARIS,
    });
    expect(quarantine).toBeUndefined();
    expect(time).toEqual({
      device: '2026-08-10T08:33:00',
      utc: '2026-08-10T06:30:00.000Z',
      quality: 'dst-unknown',
    });
    // 02:33 device = 02:30 civil on 2026-10-25 happens twice, even for a clock that keeps summer time;
    // the clock as it runs (UTC+1 measured in November) says 01:30Z, one of the two.
    const repeated = resolveTime(glucose(dt(2026, 10, 25, 2, 33)), {
      coincident: NOVEMBER_LTI,
      timeZone: PARIS,
    });
    expect(repeated.time).toMatchObject({ utc: '2026-10-25T01:30:00.000Z', quality: 'dst-unknown' });
    // 02:33 device = 02:30 civil on 2026-03-29 does not exist: only a clock that ignores summer time shows
    // it; read at UTC+1 → 01:30Z
    const skipped = resolveTime(glucose(dt(2026, 3, 29, 2, 33)), { coincident: NOVEMBER, timeZone: PARIS });
    expect(skipped.time).toMatchObject({ utc: '2026-03-29T01:30:00.000Z', quality: 'dst-unknown' });
  });

  it('a clock never set (2094) is corrected by the offset measured now, its winter date notwithstanding', () => {
    // Read on 1 July 2026 at 10:00Z (summer); the unset clock shows 2094-01-01 00:10, a winter date.
    const unset: CoincidentTime = { device: dt(2094, 1, 1, 0, 10), gatewayMs: Date.UTC(2026, 6, 1, 10, 0) };
    // taken 5 minutes before the read on that clock → 09:55Z (its civil time lands beside the read, in July)
    expect(resolveTime(glucose(dt(2094, 1, 1, 0, 5)), { coincident: unset, timeZone: PARIS }).time).toEqual({
      device: '2094-01-01T00:05:00',
      utc: '2026-07-01T09:55:00.000Z',
      quality: 'corrected',
    });
  });

  it('a clock fault still refuses any correction', () => {
    const m = { ...glucose(dt(2026, 8, 10, 8, 33)), flags: ['timeFault'] };
    expect(resolveTime(m, { coincident: NOVEMBER_LTI, timeZone: PARIS }).time).toEqual({
      device: '2026-08-10T08:33:00',
      quality: 'untrusted',
    });
  });

  it('the zone judges a zone-less time in the future by its own offset', () => {
    const nowMs = Date.UTC(2026, 7, 10, 6, 0); // 08:00 civil (UTC+2)
    const at = (h: number, mi: number) =>
      resolveTime(glucose(dt(2026, 8, 10, h, mi), '2A35'), { nowMs, timeZone: PARIS }).quarantine?.code;
    expect(at(8, 4)).toBeUndefined(); // 06:04Z, within the 5-minute margin
    expect(at(8, 6)).toBe('MEDGW_ERR_TIME_IMPOSSIBLE'); // 06:06Z
  });
});

describe('readings without a device time', () => {
  const receivedMs = Date.UTC(2026, 10, 20, 10, 0, 1, 250);

  it('are dated at reception, with a quality that says so', () => {
    const { time, quarantine } = resolveTime(glucose(undefined, '2A35'), { receivedMs, timeZone: PARIS });
    expect(quarantine).toBeUndefined();
    expect(time).toEqual({
      utc: '2026-11-20T10:00:01.250Z',
      received: '2026-11-20T10:00:01.250Z',
      quality: 'received',
    });
    // Without a reception instant (the decode command) nothing is invented.
    expect(resolveTime(glucose(undefined, '2A35')).time).toEqual({ quality: 'untrusted' });
  });

  it('a glucose record without its mandatory time stays quarantined, reception kept', () => {
    const { time, quarantine } = resolveTime(glucose(undefined), { receivedMs });
    expect(quarantine?.code).toBe('MEDGW_ERR_TIME_IMPOSSIBLE');
    expect(time).toEqual({ received: '2026-11-20T10:00:01.250Z', quality: 'untrusted' });
  });

  it('a reading with a device time records its reception beside it', () => {
    const { time } = resolveTime(glucose(dt(2026, 11, 20, 11, 0)), {
      receivedMs,
      coincident: NOVEMBER,
      timeZone: PARIS,
    });
    // 11:00 − 3 min = 10:57 civil → 09:57Z
    expect(time).toEqual({
      device: '2026-11-20T11:00:00',
      utc: '2026-11-20T09:57:00.000Z',
      received: '2026-11-20T10:00:01.250Z',
      quality: 'corrected',
    });
  });
});

describe('a time with the offset the device stated', () => {
  it('keeps the fraction of a second and the offset', () => {
    const m: Measurement = {
      ...glucose({ ...dt(2026, 8, 10, 8, 15), fraction: '250' }, 'mqtt'),
      deviceUtcOffsetMinutes: 120,
    };
    expect(resolveTime(m, { timeZone: PARIS }).time).toEqual({
      device: '2026-08-10T08:15:00.250',
      utc: '2026-08-10T06:15:00.250Z',
      utcOffsetMinutes: 120,
      quality: 'untrusted',
    });
  });
});
