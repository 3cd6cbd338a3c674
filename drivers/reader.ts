/**
 * A bounds-checked little-endian reader over one GATT value. Every read past the end throws
 * MEDGW_ERR_FRAME_TRUNCATED naming the field, so codecs never read garbage.
 */
import { MedgwError } from '../kernel/errors.ts';
import { decodeFloat, decodeSfloat } from './ieee11073.ts';
import type { DeviceDateTime, MedNumber } from './types.ts';

export class ByteReader {
  private offset = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Characteristic name, used in error messages. */
    readonly what: string,
  ) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private take(n: number, field: string): number {
    if (this.offset + n > this.bytes.length) {
      throw new MedgwError(
        'MEDGW_ERR_FRAME_TRUNCATED',
        `${this.what}: field "${field}" needs ${n} byte(s) at offset ${this.offset}, but the frame is ${this.bytes.length} byte(s) long`,
        { field, offset: this.offset, length: this.bytes.length },
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(field: string): number {
    return this.bytes[this.take(1, field)]!;
  }

  u16(field: string): number {
    const at = this.take(2, field);
    return this.bytes[at]! | (this.bytes[at + 1]! << 8);
  }

  /** Big-endian uint16, for device quirks only. */
  u16be(field: string): number {
    const at = this.take(2, field);
    return (this.bytes[at]! << 8) | this.bytes[at + 1]!;
  }

  s16(field: string): number {
    const v = this.u16(field);
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  u24(field: string): number {
    const at = this.take(3, field);
    return this.bytes[at]! | (this.bytes[at + 1]! << 8) | (this.bytes[at + 2]! << 16);
  }

  u32(field: string): number {
    const at = this.take(4, field);
    return (
      (this.bytes[at]! |
        (this.bytes[at + 1]! << 8) |
        (this.bytes[at + 2]! << 16) |
        (this.bytes[at + 3]! << 24)) >>>
      0
    );
  }

  sfloat(field: string): MedNumber {
    return decodeSfloat(this.u16(field));
  }

  float(field: string): MedNumber {
    return decodeFloat(this.u32(field));
  }

  /** Date Time (0x2A08): year uint16, month, day, hours, minutes, seconds. Range-checked. */
  dateTime(field: string): DeviceDateTime {
    const dt: DeviceDateTime = {
      year: this.u16(`${field}.year`),
      month: this.u8(`${field}.month`),
      day: this.u8(`${field}.day`),
      hours: this.u8(`${field}.hours`),
      minutes: this.u8(`${field}.minutes`),
      seconds: this.u8(`${field}.seconds`),
    };
    checkDateTime(dt, `${this.what}: ${field}`);
    return dt;
  }

  rest(): Uint8Array {
    const out = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return out;
  }

  /** Refuses trailing bytes the flags did not announce. */
  end(): void {
    if (this.offset !== this.bytes.length) {
      throw new MedgwError(
        'MEDGW_ERR_FRAME_TOO_LONG',
        `${this.what}: ${this.bytes.length - this.offset} byte(s) after the last announced field (offset ${this.offset})`,
        { offset: this.offset, length: this.bytes.length },
      );
    }
  }
}

/** Date Time field ranges (GSS Date Time 0x2A08): year 1582-9999 or 0, month/day 0 = unknown. */
export function checkDateTime(dt: DeviceDateTime, what: string): void {
  const bad =
    (dt.year !== 0 && (dt.year < 1582 || dt.year > 9999)) ||
    dt.month > 12 ||
    dt.day > 31 ||
    dt.hours > 23 ||
    dt.minutes > 59 ||
    dt.seconds > 59;
  if (bad) {
    throw new MedgwError(
      'MEDGW_ERR_DATETIME',
      `${what}: ${dt.year}-${dt.month}-${dt.day} ${dt.hours}:${dt.minutes}:${dt.seconds} is out of range`,
    );
  }
}

/** Parses hex text (spaces, colons and dashes allowed) into bytes, or MEDGW_ERR_HEX. */
export function parseHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:-]/g, '').replace(/^0x/i, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new MedgwError(
      'MEDGW_ERR_HEX',
      clean.length % 2 !== 0
        ? `"${text}" has an odd number of hex digits (${clean.length})`
        : `"${text}" contains characters that are not hex digits`,
    );
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
