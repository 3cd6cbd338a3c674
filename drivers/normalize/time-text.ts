/**
 * The device date-time text `YYYY-MM-DDThh:mm:ss` (ISO-8601 local, no zone), written without a string
 * per field, exactly as `String(n).padStart(w, '0')` writes each one: the observation time
 * (normalize) and the reading id material (reading-id.ts) share it, and ids depend on its bytes.
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
