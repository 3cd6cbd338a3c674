/**
 * Byte encoders of the simulated peripherals. Written on their own, from the specifications, so that
 * a simulator → driver round trip checks two independent readings of the same text.
 *
 * IEEE 11073-20601 §F.8 numbers: SFLOAT = 4-bit exponent + 12-bit mantissa, FLOAT = 8-bit exponent +
 * 24-bit mantissa, both two's complement, sent little-endian.
 */

import type { DeviceDateTime } from '../../drivers/types.ts';
import { MedgwError } from '../../kernel/errors.ts';

/** A special value of IEEE 11073-20601 (§F.8, table F.5): never a number. */
export type SpecialValue = 'nan' | 'nres' | '+inf' | '-inf' | 'reserved';

/**
 * A number a simulated device sends. A plain number gets the shortest exponent that holds it exactly;
 * `{ mantissa, exponent }` fixes the precision as a device display would (2.0 is `{ mantissa: 20, exponent: -1 }`).
 */
export type SimNumber =
  | number
  | { readonly mantissa: number; readonly exponent: number }
  | { readonly special: SpecialValue };

const SFLOAT_SPECIAL: Record<SpecialValue, number> = {
  nan: 0x07ff,
  nres: 0x0800,
  '+inf': 0x07fe,
  '-inf': 0x0802,
  reserved: 0x0801,
};
const FLOAT_SPECIAL: Record<SpecialValue, number> = {
  nan: 0x007fffff,
  nres: 0x00800000,
  '+inf': 0x007ffffe,
  '-inf': 0x00800002,
  reserved: 0x00800001,
};

interface Limits {
  readonly maxMantissa: number;
  readonly minExp: number;
  readonly maxExp: number;
}
const SFLOAT_LIMITS: Limits = { maxMantissa: 2045, minExp: -8, maxExp: 7 };
const FLOAT_LIMITS: Limits = { maxMantissa: 8388605, minExp: -128, maxExp: 127 };

/** Splits a plain number into mantissa and exponent, preferring the exponent closest to zero. */
function toDecimal(value: number, limits: Limits, kind: string): { mantissa: number; exponent: number } {
  if (!Number.isFinite(value)) {
    throw new MedgwError(
      'MEDGW_ERR_FLOAT_RANGE',
      `${kind}: ${value} is not finite; use { special: 'nan' | '+inf' | … }`,
    );
  }
  for (let exponent = 0; exponent >= limits.minExp; exponent--) {
    const scaled = value / 10 ** exponent;
    const mantissa = Math.round(scaled);
    if (Math.abs(mantissa) > limits.maxMantissa) break;
    if (Math.abs(scaled - mantissa) < 1e-9 * Math.max(1, Math.abs(scaled))) return { mantissa, exponent };
  }
  for (let exponent = 1; exponent <= limits.maxExp; exponent++) {
    const scaled = value / 10 ** exponent;
    const mantissa = Math.round(scaled);
    if (Math.abs(mantissa) <= limits.maxMantissa && Math.abs(scaled - mantissa) < 1e-9 * Math.abs(scaled)) {
      return { mantissa, exponent };
    }
  }
  throw new MedgwError(
    'MEDGW_ERR_FLOAT_RANGE',
    `${kind}: ${value} has no exact mantissa within ±${limits.maxMantissa}; give { mantissa, exponent } explicitly`,
  );
}

function checkDecimal(m: number, e: number, limits: Limits, kind: string): void {
  if (
    !Number.isInteger(m) ||
    Math.abs(m) > limits.maxMantissa ||
    !Number.isInteger(e) ||
    e < limits.minExp ||
    e > limits.maxExp
  ) {
    throw new MedgwError(
      'MEDGW_ERR_FLOAT_RANGE',
      `${kind}: mantissa ${m} exponent ${e} is out of range (mantissa ±${limits.maxMantissa}, exponent ${limits.minExp}..${limits.maxExp})`,
    );
  }
}

/** Raw 16-bit SFLOAT (host order). */
export function sfloatRaw(n: SimNumber): number {
  if (typeof n === 'object' && 'special' in n) return SFLOAT_SPECIAL[n.special];
  const { mantissa, exponent } = typeof n === 'number' ? toDecimal(n, SFLOAT_LIMITS, 'SFLOAT') : n;
  checkDecimal(mantissa, exponent, SFLOAT_LIMITS, 'SFLOAT');
  return ((exponent & 0x0f) << 12) | (mantissa & 0x0fff);
}

/** Raw 32-bit FLOAT (host order, unsigned). */
export function floatRaw(n: SimNumber): number {
  if (typeof n === 'object' && 'special' in n) return FLOAT_SPECIAL[n.special];
  const { mantissa, exponent } = typeof n === 'number' ? toDecimal(n, FLOAT_LIMITS, 'FLOAT') : n;
  checkDecimal(mantissa, exponent, FLOAT_LIMITS, 'FLOAT');
  return (((exponent & 0xff) << 24) | (mantissa & 0xffffff)) >>> 0;
}

/** The value a SimNumber stands for (undefined for a special value). */
export function simValue(n: SimNumber): number | undefined {
  if (typeof n === 'number') return n;
  if ('special' in n) return undefined;
  return Number((n.mantissa * 10 ** n.exponent).toFixed(Math.max(0, -n.exponent)));
}

/** Little-endian byte writer with range checks. */
export class ByteWriter {
  private readonly bytes: number[] = [];

  private check(v: number, min: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new MedgwError('MEDGW_ERR_SIM_OPTION', `${what} ${v} does not fit (${min}..${max})`);
    }
  }

  u8(v: number): this {
    this.check(v, 0, 0xff, 'uint8');
    this.bytes.push(v);
    return this;
  }
  u16(v: number): this {
    this.check(v, 0, 0xffff, 'uint16');
    this.bytes.push(v & 0xff, v >>> 8);
    return this;
  }
  /** Big-endian uint16: only for reproducing devices that break the little-endian rule. */
  u16be(v: number): this {
    this.check(v, 0, 0xffff, 'uint16');
    this.bytes.push(v >>> 8, v & 0xff);
    return this;
  }
  s16(v: number): this {
    this.check(v, -0x8000, 0x7fff, 'sint16');
    return this.u16(v & 0xffff);
  }
  u24(v: number): this {
    this.check(v, 0, 0xffffff, 'uint24');
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, v >>> 16);
    return this;
  }
  u32(v: number): this {
    this.check(v, 0, 0xffffffff, 'uint32');
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    return this;
  }
  sfloat(n: SimNumber): this {
    return this.u16(sfloatRaw(n));
  }
  float(n: SimNumber): this {
    return this.u32(floatRaw(n));
  }
  /** Date Time 0x2A08: year u16, month, day, hours, minutes, seconds (org.bluetooth.characteristic.date_time). */
  dateTime(t: DeviceDateTime): this {
    return this.u16(t.year).u8(t.month).u8(t.day).u8(t.hours).u8(t.minutes).u8(t.seconds);
  }
  raw(b: Iterable<number>): this {
    for (const v of b) this.u8(v);
    return this;
  }
  get length(): number {
    return this.bytes.length;
  }
  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** Device wall-clock milliseconds → Date Time fields (the device clock has no zone: read as UTC fields). */
export function toDeviceDateTime(wallMs: number): DeviceDateTime {
  const d = new Date(wallMs);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
  };
}

/** Date Time fields → device wall-clock milliseconds (fields read as UTC). */
export function fromDeviceDateTime(t: DeviceDateTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hours, t.minutes, t.seconds);
}

/** Battery Level 0x2A19 (BAS 1.0 §3.1): one uint8, percent of full charge, 0 to 100 (101-255 reserved). */
export function encodeBatteryLevel(percent: number): Buffer {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new MedgwError('MEDGW_ERR_SIM_OPTION', `battery level ${percent} is not a whole percent 0..100`);
  }
  return Buffer.from([percent]);
}
