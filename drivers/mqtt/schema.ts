/**
 * THE schema of an MQTT reading (docs/mqtt-payloads.md). JSON, CBOR and protobuf payloads all decode to
 * this shape and are validated by it; the TypeScript type is derived from it, never written beside it.
 */
import { z } from 'zod';

export const MEALS = ['preprandial', 'postprandial', 'fasting', 'casual', 'bedtime'] as const;

/**
 * ISO-8601 date-time with seconds optional, fractions allowed and a mandatory UTC offset (Z or ±hh:mm).
 * Groups: 1-6 year, month, day, hours, minutes, seconds; 7 the fraction's digits; 8 the offset.
 */
export const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/** Days in a month of the proleptic Gregorian calendar (month 1-12). */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

function validTime(text: string): boolean {
  const m = ISO_TIME.exec(text);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || s > 59) return false;
  const zone = m[8] ?? 'Z';
  return zone === 'Z' || (Number(zone.slice(1, 3)) <= 14 && Number(zone.slice(4, 6)) <= 59);
}

const time = z
  .string()
  .refine(validTime, 'must be an ISO-8601 date-time with its UTC offset, e.g. 2026-11-22T08:15:00+01:00');

/** The device's record number (a re-published message carries the same one). */
export const SeqSchema = z.int().min(0).max(0xffffffff);

/** One value and its UCUM unit; `decimals` says how many digits the device displays (36.60 → 2). */
const quantity = <const U extends readonly [string, ...string[]]>(units: U) =>
  z.strictObject({
    // No reading is anywhere near 10^9 in its unit; the bound keeps the decimal arithmetic exact.
    value: z
      .number()
      .refine(
        (v) => Number.isFinite(v) && Math.abs(v) <= 1e9,
        'must be a finite number between -1e9 and 1e9',
      ),
    unit: z.enum(units),
    decimals: z.int().min(0).max(8).optional(),
  });

const common = { time, seq: SeqSchema.optional() };

export const ReadingSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('glucose'),
    ...common,
    meal: z.enum(MEALS).optional(),
    values: z.strictObject({ glucose: quantity(['mg/dL', 'mmol/L']) }),
  }),
  z.strictObject({
    kind: z.literal('body-weight'),
    ...common,
    values: z.strictObject({ weight: quantity(['kg', '[lb_av]']) }),
  }),
  z.strictObject({
    kind: z.literal('blood-pressure'),
    ...common,
    values: z.strictObject({
      systolic: quantity(['mm[Hg]', 'kPa']),
      diastolic: quantity(['mm[Hg]', 'kPa']),
      'mean-arterial': quantity(['mm[Hg]', 'kPa']).optional(),
      pulse: quantity(['/min']).optional(),
    }),
  }),
  z.strictObject({
    kind: z.literal('body-temperature'),
    ...common,
    values: z.strictObject({ temperature: quantity(['Cel', '[degF]']) }),
  }),
  z.strictObject({
    kind: z.literal('spo2'),
    ...common,
    values: z.strictObject({ spo2: quantity(['%']), pulse: quantity(['/min']).optional() }),
  }),
]);

/** A validated MQTT reading. */
export type Reading = z.infer<typeof ReadingSchema>;
export type ReadingKind = Reading['kind'];
export const READING_KINDS: readonly ReadingKind[] = ReadingSchema.options.map((o) => o.shape.kind.value);
