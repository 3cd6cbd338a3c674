/**
 * Time texts written without a Date object or a string per field: the device date-time
 * `YYYY-MM-DDThh:mm:ss` (ISO-8601 local, no zone), exactly as `String(n).padStart(w, '0')` writes each
 * field, used by the observation time (normalize) and the reading id material (reading-id.ts); and the
 * UTC instant exactly as `Date.prototype.toISOString` writes it. Both must stay byte-identical.
 */
import type { DeviceDateTime } from '../types.ts';

const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/** `String(n).padStart(2, '0')`, from a table for the integers 0-99. */
function p2(n: number): string {
  return Number.isInteger(n) && n >= 0 && n < 100 ? TWO_DIGITS[n]! : String(n).padStart(2, '0');
}

/** `String(n).padStart(4, '0')`; four-digit years are their own text. */
function p4(n: number): string {
  return Number.isInteger(n) && n >= 1000 && n <= 9999 ? String(n) : String(n).padStart(4, '0');
}

/** `2026-11-22T08:15:00`: the device time as sent, zero-padded, whatever the values (0 = unknown stays 00). */
export function deviceTimeText(dt: DeviceDateTime): string {
  return `${p4(dt.year)}-${p2(dt.month)}-${p2(dt.day)}T${p2(dt.hours)}:${p2(dt.minutes)}:${p2(dt.seconds)}`;
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: up to there every year has four digits. */
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * `new Date(ms).toISOString()` (`2026-11-22T07:15:00.000Z`). Integer instants from 1970 to 9999 are
 * written from the civil date of their day (H. Hinnant, "chrono-compatible low-level date
 * algorithms", civil_from_days); any other value goes through Date itself.
 */
export function utcText(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  const inDay = ms - days * DAY_MS;
  const milli = inDay % 1000;
  const secondsOfDay = (inDay - milli) / 1000;
  const seconds = secondsOfDay % 60;
  const minutesOfDay = (secondsOfDay - seconds) / 60;
  const minutes = minutesOfDay % 60;
  const hours = (minutesOfDay - minutes) / 60;
  const z = days + 719_468; // days since 0000-03-01
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153); // month from March = 0
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const msText = milli >= 100 ? String(milli) : milli >= 10 ? `0${milli}` : `00${milli}`;
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${msText}Z`;
}
