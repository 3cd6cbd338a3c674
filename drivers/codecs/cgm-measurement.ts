/**
 * CGM Measurement 0x2AA7 (CGMS v1.0.1 "CGM Measurement"; GSS "CGM Measurement"): one notification holds
 * one or more records, each: Size (uint8, the record's octets including Size and the E2E-CRC), Flags
 * (uint8), CGM Glucose Concentration (SFLOAT, mg/dL), Time Offset (uint16, minutes since the session
 * start), the Sensor Status Annunciation octets the flags announce (Status, Cal/Temp, Warning), CGM Trend
 * Information (SFLOAT, (mg/dL)/min) if bit 0, CGM Quality (SFLOAT, %) if bit 1, then the E2E-CRC (uint16)
 * when the CGM Feature says E2E-CRC is supported (bit 12). Flag bits 2-4 are RFU.
 *
 * A CGM reads interstitial fluid: every record becomes a glucose Measurement of sample type
 * interstitial-fluid, which normalization holds (MEDGW_ERR_GLUCOSE_INTERSTITIAL) as a spot value.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { userFacingTime } from '../datetime.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, Measurement, MedNumber } from '../types.ts';
import { refuseReservedBits } from './bits.ts';
import { type CgmCrcExpectation, checkCgmCrc } from './cgm-crc.ts';
import { CGM_ANNUNCIATION_OCTETS, decodeCgmSensorStatus } from './cgm-sensor-status.ts';

const WHAT = 'CGM Measurement';

const FLAG_TREND = 0x01;
const FLAG_QUALITY = 0x02;
const FLAGS_RESERVED = 0x1c;
/** Size + Flags + Glucose Concentration + Time Offset: the smallest record. */
const MIN_RECORD = 6;

export interface CgmMeasurementRecord {
  /** The Size field as sent (octets of the record, Size and E2E-CRC included). */
  readonly size: number;
  readonly flags: number;
  /** mg/dL (the unit CGMS fixes for this field). */
  readonly glucoseConcentration: MedNumber;
  /** Minutes since the session start (Session Start Time 0x2AAA). */
  readonly timeOffset: number;
  /** Names of the set annunciation bits of the octets the flags announce. */
  readonly sensorStatusAnnunciation?: string[];
  /** (mg/dL)/min. */
  readonly trend?: MedNumber;
  /** Percent. */
  readonly quality?: MedNumber;
  /** The E2E-CRC, checked, when the record carries one. */
  readonly e2eCrc?: number;
}

export interface CgmMeasurementFields {
  readonly records: CgmMeasurementRecord[];
}

export interface CgmDecodeOptions {
  readonly quirks?: ReadonlySet<string>;
  /** What the CGM Feature said about the E2E-CRC (undefined: told by each record's Size field). */
  readonly e2eCrc?: CgmCrcExpectation;
}

function decodeRecord(bytes: Uint8Array, index: number, options: CgmDecodeOptions): CgmMeasurementRecord {
  const what = `${WHAT} record ${index}`;
  const r = new ByteReader(bytes, what);
  const size = r.u8('size');
  const flags = r.u8('flags');
  const glucoseConcentration = r.sfloat('glucoseConcentration');
  const timeOffset = r.u16('timeOffset');
  let annunciation: number | undefined;
  for (const octet of CGM_ANNUNCIATION_OCTETS) {
    if (flags & octet.flag)
      annunciation = (annunciation ?? 0) | (r.u8(`sensorStatus.${octet.name}`) << octet.shift);
  }
  const trend = flags & FLAG_TREND ? r.sfloat('trend') : undefined;
  const quality = flags & FLAG_QUALITY ? r.sfloat('quality') : undefined;
  const e2eCrc = checkCgmCrc(what, bytes, 0, r.position, bytes.length, options.e2eCrc);
  if (e2eCrc !== undefined) r.u16('e2eCrc');
  r.end();
  // Length first, then values: a cut record is reported as cut, not as a reserved bit.
  refuseReservedBits(what, 'flags', flags, FLAGS_RESERVED, options.quirks);
  const out: { -readonly [K in keyof CgmMeasurementRecord]: CgmMeasurementRecord[K] } = {
    size,
    flags,
    glucoseConcentration,
    timeOffset,
  };
  if (annunciation !== undefined)
    out.sensorStatusAnnunciation = decodeCgmSensorStatus(
      what,
      'sensorStatusAnnunciation',
      annunciation,
      options.quirks,
    );
  if (trend !== undefined) out.trend = trend;
  if (quality !== undefined) out.quality = quality;
  if (e2eCrc !== undefined) out.e2eCrc = e2eCrc;
  return out;
}

/** Decodes every record of one 0x2AA7 notification, each bounded by its own Size field. */
export function decodeCgmMeasurement(
  bytes: Uint8Array,
  options: CgmDecodeOptions = {},
): CgmMeasurementFields {
  const records: CgmMeasurementRecord[] = [];
  let at = 0;
  do {
    const size = bytes[at];
    if (size === undefined || size < MIN_RECORD || at + size > bytes.length) {
      throw new MedgwError(
        'MEDGW_ERR_FRAME_TRUNCATED',
        size === undefined
          ? `${WHAT}: the value is empty; a record needs at least ${MIN_RECORD} octets`
          : size < MIN_RECORD
            ? `${WHAT} record ${records.length}: Size ${size} is below the ${MIN_RECORD} octets every record has`
            : `${WHAT} record ${records.length}: Size ${size} at offset ${at}, but only ${bytes.length - at} octet(s) remain`,
        { offset: at, length: bytes.length, ...(size !== undefined ? { size } : {}) },
      );
    }
    records.push(decodeRecord(bytes.subarray(at, at + size), records.length, options));
    at += size;
  } while (at < bytes.length);
  return { records };
}

/**
 * One interstitial glucose Measurement per record, in mg/dL. The record's time is the session start plus
 * its Time Offset: give `sessionStart` (Session Start Time 0x2AAA as read) to place it; without it the
 * offset stays in the context and the reading has no device time.
 */
export function cgmMeasurementToMeasurements(
  f: CgmMeasurementFields,
  sessionStart?: DeviceDateTime,
): Measurement[] {
  return f.records.map((rec) => {
    const context: Record<string, string | number | boolean> = {
      type: 'interstitial-fluid',
      timeOffset: rec.timeOffset,
    };
    if (rec.trend && 'value' in rec.trend) context['trend'] = rec.trend.value;
    if (rec.quality && 'value' in rec.quality) context['quality'] = rec.quality.value;
    const deviceTime = sessionStart ? userFacingTime(sessionStart, rec.timeOffset) : undefined;
    const flags = rec.sensorStatusAnnunciation ?? [];
    return {
      kind: 'glucose',
      source: '2AA7',
      ...(deviceTime ? { deviceTime } : {}),
      components: [{ name: 'glucose', value: rec.glucoseConcentration, unit: 'mg/dL' }],
      context,
      ...(flags.length > 0 ? { flags } : {}),
      final: true,
    };
  });
}

export const cgmMeasurement: CharacteristicCodec<CgmMeasurementFields> = {
  uuid: '2AA7',
  name: 'cgm-measurement',
  spec: 'CGMS v1.0.1 CGM Measurement; GSS CGM Measurement (0x2AA7); E2E-CRC per CGMS (CRC-CCITT, seed 0xFFFF)',
  quirks: ['ignore-reserved-flags'],
  decode: (bytes, quirks) => decodeCgmMeasurement(bytes, quirks ? { quirks } : {}),
  toMeasurements: (f) => cgmMeasurementToMeasurements(f),
};
