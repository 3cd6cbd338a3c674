/**
 * OneTouch Verio Reflect / Flex over BLE: LifeScan's proprietary service, its commands and the records
 * they return. Pure: the gateway's collector (gateway/ble/collectors/record-counter.ts) asks, this file
 * encodes the questions and reads the answers.
 *
 * Sources (protocol knowledge only; no code copied), Tidepool uploader, BSD-2-Clause,
 * lib/drivers/onetouch/oneTouchVerioBLE.js at commit 01858093192408ce3499763af07aa5a40452acb0:
 * - service af9df7a1-e595-11e3-96b4-0002a5d5c51b, write characteristic af9df7a2-…, notifications af9df7a3-…;
 *   the meter advertises a name beginning "OneTouch" (`filters: [{ namePrefix: 'OneTouch' }]`);
 * - get time `20 02` → status + 32-bit seconds; set time `20 01` + 32-bit seconds (the meter acknowledges);
 * - "T counter" `0A 02 06` → status + 32-bit record counter (the index of the newest record);
 *   "R counter" `27 00` → status + 16-bit number of records held; the records held are the indexes
 *   counter − number + 1 … counter, read one by one with `B3` + 16-bit index (little-endian);
 * - a record answer is status + 11 bytes: 32-bit time, 16-bit glucose in mg/dL, a byte that is non-zero
 *   for a control-solution test (`controlSolutionFlag`, skipped there), 4 bytes not described; a glucose
 *   of 0 is "not a valid reading";
 * - the host writes the one-byte acknowledgement 0x81 after each response that carries data.
 * Times are seconds since 2000-01-01 00:00:00 in the meter's local time: Tidepool sets the clock with the
 * zone offset added; its USB Verio driver (oneTouchVerio.js, commit 000d11a7cc6e1e542eec6fc386b84d48a9439347)
 * and glucometer-protocols (onetouch-verio-2015.md) give the epoch as 946684800 (2000-01-01T00:00:00); the
 * BLE driver's constant is one second less (946684799), which we do not follow.
 * HI / LO: Tidepool's checklist for the Verio family (developer.tidepool.org uploader docs, checklists/
 * oneTouchVerio) says the meter's range is 20-600 mg/dL per its user manual; a value beyond is out of range.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import type { DeviceDateTime, Measurement } from '../types.ts';
import { decodeLifescanFrame, encodeLifescanPacket, LINK_ACK, STATUS_SUCCESS } from './frame.ts';

/** The service and characteristics in the gateway's form (128-bit, upper-case, no dashes). */
export const VERIO = {
  service: 'AF9DF7A1E59511E396B40002A5D5C51B',
  write: 'AF9DF7A2E59511E396B40002A5D5C51B',
  notify: 'AF9DF7A3E59511E396B40002A5D5C51B',
} as const;

/** Seconds from 1970-01-01 to 2000-01-01, the meter's epoch. */
export const LIFESCAN_EPOCH_S = 946_684_800;
/** The meter's measuring range (mg/dL); a value outside is shown HI / LO. */
export const VERIO_RANGE = { low: 20, high: 600 } as const;

export const verioCommand = {
  readTime: (): Uint8Array => encodeLifescanPacket([0x20, 0x02]),
  writeTime: (seconds: number): Uint8Array => encodeLifescanPacket([0x20, 0x01, ...u32le(seconds)]),
  readRecordCounter: (): Uint8Array => encodeLifescanPacket([0x0a, 0x02, 0x06]),
  readRecordCount: (): Uint8Array => encodeLifescanPacket([0x27, 0x00]),
  readRecord: (index: number): Uint8Array => encodeLifescanPacket([0xb3, index & 0xff, (index >> 8) & 0xff]),
  /** The host's acknowledgement of a response that carried data. */
  ack: (): Uint8Array => Uint8Array.of(LINK_ACK),
} as const;

/** The data of a successful response, or MEDGW_ERR_LIFESCAN_REFUSED with the status the meter gave. */
export function responseData(bytes: Uint8Array, what: string): Uint8Array {
  const f = decodeLifescanFrame(bytes);
  if (f.ack) {
    throw new MedgwError('MEDGW_ERR_LIFESCAN_FRAME', `${what}: a link acknowledgement, not a response`);
  }
  if (f.status !== STATUS_SUCCESS) {
    throw new MedgwError(
      'MEDGW_ERR_LIFESCAN_REFUSED',
      `${what}: the meter answered with status 0x${f.status.toString(16).padStart(2, '0')}`,
      { status: f.status },
    );
  }
  return f.data;
}

/** Seconds since 2000-01-01 (meter local time) → the civil time it stands for. */
export function meterSecondsToDateTime(seconds: number): DeviceDateTime {
  const d = new Date((LIFESCAN_EPOCH_S + seconds) * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
  };
}

/** Civil time → seconds since 2000-01-01, for `writeTime`. */
export function dateTimeToMeterSeconds(t: DeviceDateTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hours, t.minutes, t.seconds) / 1000 - LIFESCAN_EPOCH_S;
}

/** Read time / read record counter: a 32-bit little-endian number. */
export function readU32Answer(bytes: Uint8Array, what: string): number {
  return u32(expectLength(responseData(bytes, what), 4, what), 0);
}

/** Read record count: a 16-bit little-endian number. */
export function readU16Answer(bytes: Uint8Array, what: string): number {
  const d = expectLength(responseData(bytes, what), 2, what);
  return d[0]! | (d[1]! << 8);
}

export interface VerioRecordFields {
  /** Seconds since 2000-01-01, meter local time. */
  readonly meterSeconds: number;
  readonly deviceTime: DeviceDateTime;
  /** Glucose as sent, mg/dL; 0 is "not a valid reading". */
  readonly glucoseMgdl: number;
  readonly controlSolution: boolean;
  /** The 4 bytes after the control-solution flag, not described by the sources, kept as sent. */
  readonly undescribed: string;
}

/** The 11 data bytes of a record answer. */
export function decodeVerioRecordData(d: Uint8Array): VerioRecordFields {
  expectLength(d, 11, 'record');
  const meterSeconds = u32(d, 0);
  return {
    meterSeconds,
    deviceTime: meterSecondsToDateTime(meterSeconds),
    glucoseMgdl: d[4]! | (d[5]! << 8),
    controlSolution: d[6]! !== 0,
    undescribed: toHex(d, 7, 11),
  };
}

/**
 * The reading of a record, in device units, numbered with the index it was asked for (the answer does not
 * repeat it); undefined for "not a valid reading" (glucose 0). HI / LO: the value is the meter's range end
 * with the flag the normalization turns into `>` / `<` (FHIR Quantity.comparator). A control-solution test
 * carries `controlSolution: true`: the pipeline quarantines it (MEDGW_ERR_CONTROL_SOLUTION), never forwards it.
 */
export function verioRecordMeasurement(f: VerioRecordFields, index?: number): Measurement | undefined {
  if (f.glucoseMgdl === 0) return undefined;
  const high = f.glucoseMgdl > VERIO_RANGE.high;
  const low = f.glucoseMgdl < VERIO_RANGE.low;
  const value = high ? VERIO_RANGE.high : low ? VERIO_RANGE.low : f.glucoseMgdl;
  const flags = high ? ['resultHigherThanDeviceCanProcess'] : low ? ['resultLowerThanDeviceCanProcess'] : [];
  return {
    kind: 'glucose',
    source: VERIO.notify,
    ...(index !== undefined ? { sequence: index } : {}),
    deviceTime: f.deviceTime,
    components: [{ name: 'glucose', value: { mantissa: value, exponent: 0, value }, unit: 'mg/dL' }],
    ...(f.controlSolution ? { context: { controlSolution: true } } : {}),
    ...(flags.length > 0 ? { flags } : {}),
    final: true,
  };
}

/** A record answer → its reading numbered `index` (undefined for "not a valid reading"). */
export function decodeVerioRecord(bytes: Uint8Array, index: number): Measurement | undefined {
  return verioRecordMeasurement(decodeVerioRecordData(responseData(bytes, `record ${index}`)), index);
}

/** What `medgw decode` and the fixtures read from one notification of af9df7a3-…. */
export interface VerioNotificationFields {
  readonly ack: boolean;
  readonly status?: number;
  /** Response data after the status, hex. */
  readonly data?: string;
  /** Present when the data has the length of a record answer. */
  readonly record?: VerioRecordFields;
}

export const lifescanVerioNotification: CharacteristicCodec<VerioNotificationFields> = {
  uuid: VERIO.notify,
  name: 'lifescan-verio-notification',
  spec: 'LifeScan OneTouch Verio BLE frame as documented by Tidepool uploader oneTouchVerioBLE.js (BSD-2-Clause)',
  decode(bytes) {
    const f = decodeLifescanFrame(bytes);
    if (f.ack) return { ack: true };
    const out: VerioNotificationFields = { ack: false, status: f.status, data: toHex(f.data) };
    if (f.status === STATUS_SUCCESS && f.data.length === 11) {
      return { ...out, record: decodeVerioRecordData(f.data) };
    }
    return out;
  },
  toMeasurements(f) {
    const m = f.record ? verioRecordMeasurement(f.record) : undefined;
    return m ? [m] : [];
  },
};

/** Two hex digits per byte, by table (a few bytes per frame: cheaper than a Buffer round trip). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
function toHex(d: Uint8Array, start = 0, end = d.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[d[i]!]!;
  return s;
}

function expectLength(d: Uint8Array, n: number, what: string): Uint8Array {
  if (d.length < n) {
    throw new MedgwError('MEDGW_ERR_FRAME_TRUNCATED', `${what}: ${d.length} data bytes, ${n} expected`);
  }
  if (d.length > n) {
    throw new MedgwError('MEDGW_ERR_FRAME_TOO_LONG', `${what}: ${d.length} data bytes, ${n} expected`);
  }
  return d;
}

function u32(d: Uint8Array, at: number): number {
  return (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
