/**
 * Exact unit conversions to the canonical UCUM units of the vocabulary. Values travel as
 * mantissa × 10^exponent (the device's precision) and are converted with integer arithmetic, so
 * 95 × 10^-5 kg/L is exactly 95 mg/dL and 150.00 [lb_av] is exactly 68.04 kg, never 68.03999….
 */
import { MedgwError } from '../../kernel/errors.ts';
import { decimal } from '../ieee11073.ts';
import type { DecimalValue } from '../types.ts';

/** Values keep at most this many decimal places (no home device displays more). */
export const MAX_DECIMALS = 8;

export interface Converted {
  readonly value: number;
  /** Decimal places that carry the device's precision in the canonical unit. */
  readonly decimals: number;
  /** Set when a real conversion happened (not a mere change of SI prefix). */
  readonly original?: { readonly value: number; readonly unit: string; readonly decimals: number };
}

/** A rational factor num/den applied to the value, and how many decimals the result keeps. */
interface Rule {
  readonly num: bigint;
  readonly den: bigint;
  /** Decimals of the result from the exponent of the source (−exponent = source decimals). */
  readonly decimals: (sourceDecimals: number) => number;
  /** Whether the source value and unit are kept as `original`. */
  readonly keepOriginal: boolean;
  /** Unit reported in `original` (mol/L is shown as the mmol/L a meter displays). */
  readonly originalUnit?: { readonly unit: string; readonly shift: number };
  /** Offset subtracted before scaling (°F → °C), in source units × 10^offsetExponent. */
  readonly offset?: bigint;
}

const same = (d: number) => d;
const identity: Rule = { num: 1n, den: 1n, decimals: same, keepOriginal: false };
/** Power of ten shift: exact, only an SI prefix changes (kg/L → mg/dL is ×10^5). */
const shift = (n: number): Rule => ({
  num: 10n ** BigInt(Math.max(n, 0)),
  den: 10n ** BigInt(Math.max(-n, 0)),
  decimals: (d) => Math.max(0, d - n),
  keepOriginal: false,
});

/** Glucose molar mass 180.156 g/mol: 1 mmol/L = 18.0156 mg/dL (one significant digit is lost). */
const MMOL_TO_MGDL: Rule = {
  num: 180156n,
  den: 10000n,
  decimals: (d) => Math.max(0, d - 1),
  keepOriginal: true,
};

/** Conversion rules: source unit → canonical unit. */
const RULES: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  'mg/dL': {
    'mg/dL': identity,
    'kg/L': shift(5), // GLS concentration unit bit 0: kg/L; 1 mg/dL = 10^-5 kg/L
    'g/L': shift(2),
    'mmol/L': MMOL_TO_MGDL,
    // GLS concentration unit bit 1: mol/L; shown and kept as the mmol/L the meter displays
    'mol/L': {
      num: 180156n * 1000n,
      den: 10000n,
      decimals: (d) => Math.max(0, d - 3 - 1),
      keepOriginal: true,
      originalUnit: { unit: 'mmol/L', shift: 3 },
    },
  },
  kg: {
    kg: identity,
    g: shift(-3),
    '[lb_av]': { num: 45359237n, den: 100000000n, decimals: same, keepOriginal: true }, // 1 lb = 0.45359237 kg exactly
  },
  cm: {
    cm: identity,
    m: shift(2),
    mm: shift(-1),
    '[in_i]': { num: 254n, den: 100n, decimals: same, keepOriginal: true }, // 1 in = 2.54 cm exactly
  },
  'kg/m2': { 'kg/m2': identity },
  'mm[Hg]': {
    'mm[Hg]': identity,
    // 1 mm[Hg] = 133.322387415 Pa (UCUM); one kPa digit is worth 7.5 mmHg, so one decimal is lost
    kPa: {
      num: 1000_000000000n,
      den: 133322387415n,
      decimals: (d) => Math.max(0, d - 1),
      keepOriginal: true,
    },
  },
  '/min': { '/min': identity },
  Cel: {
    Cel: identity,
    '[degF]': { num: 5n, den: 9n, decimals: same, keepOriginal: true, offset: 32n },
  },
  '%': { '%': identity },
  Ohm: { Ohm: identity },
  'kJ/d': { 'kJ/d': identity },
};

/** Units a canonical unit can be reached from. */
export function acceptedUnits(canonical: string): string[] {
  return Object.keys(RULES[canonical] ?? {});
}

/** Rounds num/den to `decimals` places (half away from zero) and returns the JS number. */
function roundRational(num: bigint, den: bigint, decimals: number): number {
  const scale = 10n ** BigInt(decimals);
  let n = num * scale;
  let d = den;
  if (d < 0n) {
    d = -d;
    n = -n;
  }
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  if ((abs % d) * 2n >= d) q += 1n;
  const digits = q.toString().padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return Number(negative && q !== 0n ? `-${text}` : text);
}

/** Converts a device decimal in `unit` to the canonical unit, or MEDGW_ERR_UNIT. */
export function toCanonical(what: string, v: DecimalValue, unit: string, canonical: string): Converted {
  const rule = RULES[canonical]?.[unit];
  if (!rule) {
    throw new MedgwError(
      'MEDGW_ERR_UNIT',
      `${what}: unit "${unit}" cannot be converted to ${canonical}; accepted: ${acceptedUnits(canonical).join(', ')}`,
      { unit, canonical },
    );
  }
  const sourceDecimals = Math.max(0, -v.exponent);
  if (rule === identity && sourceDecimals <= MAX_DECIMALS)
    return { value: v.value, decimals: sourceDecimals };
  // value = mantissa × 10^exponent, as a fraction num/den
  let num = BigInt(v.mantissa) * 10n ** BigInt(Math.max(v.exponent, 0));
  const den0 = 10n ** BigInt(Math.max(-v.exponent, 0));
  if (rule.offset !== undefined) num -= rule.offset * den0;
  // Beyond 8 decimal places no device reading carries information (a FLOAT may announce 10^-128).
  const decimals = Math.min(rule.decimals(sourceDecimals), MAX_DECIMALS);
  const value = roundRational(num * rule.num, den0 * rule.den, decimals);
  if (!rule.keepOriginal) return { value, decimals };
  const o = rule.originalUnit;
  const original = o
    ? {
        value: decimal(v.mantissa, v.exponent + o.shift).value,
        unit: o.unit,
        decimals: Math.min(Math.max(0, -(v.exponent + o.shift)), MAX_DECIMALS),
      }
    : { value: v.value, unit, decimals: Math.min(sourceDecimals, MAX_DECIMALS) };
  return { value, decimals, original };
}

/**
 * Turns a plain number with a known number of decimals (MQTT payloads) into a device decimal, so both
 * transports share one conversion path. `decimals` defaults to the digits the number shows, at most 8.
 */
export function decimalFromNumber(value: number, decimals?: number): DecimalValue {
  const d = Math.min(decimals ?? decimalsOf(value), MAX_DECIMALS);
  const mantissa = Math.round(value * 10 ** d);
  return decimal(mantissa, d === 0 ? 0 : -d);
}

/** Number of decimal places a JS number shows (36.6 → 1, 128 → 0, 1e-7 → 7). */
export function decimalsOf(value: number): number {
  if (Number.isInteger(value)) return 0;
  const text = String(value);
  const exp = /e-(\d+)$/.exec(text);
  if (exp) {
    const mant = text.slice(0, exp.index);
    const frac = mant.split('.')[1]?.length ?? 0;
    return frac + Number(exp[1]);
  }
  return text.split('.')[1]?.length ?? 0;
}
