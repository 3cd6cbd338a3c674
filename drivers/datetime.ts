/**
 * Pure date arithmetic on device date-times (GSS Date Time 0x2A08: no time zone, 0 in year, month or
 * day means "unknown"). Device times are calendar values, not instants: arithmetic is done on the
 * proleptic Gregorian calendar without any zone, so a DST change on the device never shifts a value.
 */
import { MedgwError } from '../kernel/errors.ts';
import { checkDateTime } from './reader.ts';
import type { DeviceDateTime } from './types.ts';

const MINUTE_MS = 60_000;

/** True when year, month and day are all known (GSS Date Time: 0 = unknown). */
export function isDateKnown(dt: DeviceDateTime): boolean {
  return dt.year !== 0 && dt.month !== 0 && dt.day !== 0;
}

/** Number of days in a month of the Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True when the date-time is known and names a day that exists (no 30 February). */
export function isCalendarDate(dt: DeviceDateTime): boolean {
  return isDateKnown(dt) && dt.month <= 12 && dt.day <= daysInMonth(dt.year, dt.month);
}

/** Milliseconds of the date-time read as if it were UTC (a zone-free calendar position). */
function calendarMs(dt: DeviceDateTime): number {
  const d = new Date(0);
  d.setUTCFullYear(dt.year, dt.month - 1, dt.day);
  d.setUTCHours(dt.hours, dt.minutes, dt.seconds, 0);
  return d.getTime();
}

/** A calendar position (ms read as UTC) as device date-time fields. */
export function fromCalendarMs(ms: number): DeviceDateTime {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
  };
}

/**
 * Adds a signed number of minutes (GLS Time Offset) to a device date-time. Returns undefined when the
 * date is unknown or not a real calendar date: an unknown date stays unknown, never invented.
 */
export function addMinutes(dt: DeviceDateTime, minutes: number): DeviceDateTime | undefined {
  if (!isCalendarDate(dt)) return undefined;
  return fromCalendarMs(calendarMs(dt) + minutes * MINUTE_MS);
}

/** GLS user-facing time (GLS v1.0.1 §3.106 via GSS): Base Time + Time Offset (minutes, absent = 0). */
export function userFacingTime(baseTime: DeviceDateTime, timeOffset?: number): DeviceDateTime | undefined {
  return addMinutes(baseTime, timeOffset ?? 0);
}

/** Compares two known date-times: negative, 0 or positive. */
export function compareDateTime(a: DeviceDateTime, b: DeviceDateTime): number {
  return calendarMs(a) - calendarMs(b);
}

/** ISO-8601 local form without zone (`2026-11-22T08:15:00`), or undefined when the date is unknown. */
export function toIsoLocal(dt: DeviceDateTime): string | undefined {
  if (!isCalendarDate(dt)) return undefined;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(dt.year).padStart(4, '0')}-${p2(dt.month)}-${p2(dt.day)}T${p2(dt.hours)}:${p2(dt.minutes)}:${p2(dt.seconds)}`;
}

/**
 * The wall-clock date-time at a UTC offset for an instant given in milliseconds since the epoch
 * (what the gateway writes to a device clock). Pure: the caller passes the instant.
 */
export function dateTimeAt(epochMs: number, utcOffsetMinutes: number): DeviceDateTime {
  if (!Number.isFinite(epochMs) || !Number.isInteger(utcOffsetMinutes)) {
    throw new MedgwError(
      'MEDGW_ERR_DATETIME',
      `cannot build a date-time from ${epochMs} ms at offset ${utcOffsetMinutes} min`,
    );
  }
  const dt = fromCalendarMs(epochMs + utcOffsetMinutes * MINUTE_MS);
  checkDateTime(dt, 'date-time');
  return dt;
}

/** The instant (ms since the epoch) of a device date-time known to be at a UTC offset; undefined if unknown. */
export function epochMsOf(dt: DeviceDateTime, utcOffsetMinutes: number): number | undefined {
  if (!isCalendarDate(dt)) return undefined;
  return calendarMs(dt) - utcOffsetMinutes * MINUTE_MS;
}

/** ISO day of week of a known date: 1 = Monday … 7 = Sunday (the Day of Week 0x2A09 numbering); 0 if unknown. */
export function dayOfWeekOf(dt: DeviceDateTime): number {
  if (!isCalendarDate(dt)) return 0;
  const js = new Date(calendarMs(dt)).getUTCDay();
  return js === 0 ? 7 : js;
}

/** Encodes a Date Time (GSS 0x2A08): year uint16 LE, month, day, hours, minutes, seconds; range-checked. */
export function encodeDateTime(dt: DeviceDateTime): Uint8Array {
  for (const [k, v] of Object.entries(dt)) {
    if (!Number.isInteger(v) || v < 0) {
      throw new MedgwError(
        'MEDGW_ERR_DATETIME',
        `date-time field ${k} must be a non-negative integer, got ${v}`,
      );
    }
  }
  checkDateTime(dt, 'date-time to encode');
  return Uint8Array.of(dt.year & 0xff, dt.year >> 8, dt.month, dt.day, dt.hours, dt.minutes, dt.seconds);
}
