/**
 * CGM Specific Ops Control Point 0x2AAC (CGMS v1.0.1 "CGM Specific Ops Control Point"; GSS): Op Code
 * (uint8), Operand (fixed by the op code), then the E2E-CRC (uint16) when the CGM Feature supports it.
 * Decodes both directions (requests the collector writes, the indications the sensor answers with) and
 * encodes the requests.
 *
 * Operands: communication interval uint8 minutes (0 off, 255 fastest); alert levels SFLOAT (mg/dL, rates
 * (mg/dL)/min); the Calibration Value record (10 octets: concentration SFLOAT mg/dL, Calibration Time
 * uint16 minutes, Type-Sample Location uint8, Next Calibration Time uint16 minutes, Calibration Data
 * Record Number uint16, Calibration Status uint8 with bits 0-2 named and 3-7 RFU); a calibration record
 * number uint16 (0xFFFF: the last one); Response Code: request op code + response code value.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { encodeSfloat } from '../ieee11073.ts';
import { ByteReader } from '../reader.ts';
import type { MedNumber } from '../types.ts';
import { bitNames, enumCode, enumName, refuseReservedBits } from './bits.ts';
import { type CgmCrcExpectation, cgmCrc, checkCgmCrc } from './cgm-crc.ts';
import { CGM_SAMPLE_LOCATIONS, type CgmSampleLocation } from './cgm-feature.ts';
import { GLUCOSE_TYPES, type GlucoseType } from './glucose-measurement.ts';

const WHAT = 'CGM Specific Ops Control Point';

export const CGM_OPS_OP_CODES = {
  1: 'set-communication-interval',
  2: 'get-communication-interval',
  3: 'communication-interval-response',
  4: 'set-glucose-calibration-value',
  5: 'get-glucose-calibration-value',
  6: 'glucose-calibration-value-response',
  7: 'set-patient-high-alert-level',
  8: 'get-patient-high-alert-level',
  9: 'patient-high-alert-level-response',
  10: 'set-patient-low-alert-level',
  11: 'get-patient-low-alert-level',
  12: 'patient-low-alert-level-response',
  13: 'set-hypo-alert-level',
  14: 'get-hypo-alert-level',
  15: 'hypo-alert-level-response',
  16: 'set-hyper-alert-level',
  17: 'get-hyper-alert-level',
  18: 'hyper-alert-level-response',
  19: 'set-rate-of-decrease-alert-level',
  20: 'get-rate-of-decrease-alert-level',
  21: 'rate-of-decrease-alert-level-response',
  22: 'set-rate-of-increase-alert-level',
  23: 'get-rate-of-increase-alert-level',
  24: 'rate-of-increase-alert-level-response',
  25: 'reset-device-specific-alert',
  26: 'start-session',
  27: 'stop-session',
  28: 'response-code',
} as const;
export type CgmOpsOpCode = (typeof CGM_OPS_OP_CODES)[keyof typeof CGM_OPS_OP_CODES];

export const CGM_OPS_RESPONSE_CODES = {
  1: 'success',
  2: 'op-code-not-supported',
  3: 'invalid-operand',
  4: 'procedure-not-completed',
  5: 'parameter-out-of-range',
} as const;
export type CgmOpsResponseCode = (typeof CGM_OPS_RESPONSE_CODES)[keyof typeof CGM_OPS_RESPONSE_CODES];

/** Calibration Status bits 0-2 (3-7 RFU). */
export const CGM_CALIBRATION_STATUS = [
  'calibrationDataRejected',
  'calibrationDataOutOfRange',
  'calibrationProcessPending',
] as const;

export interface CgmCalibrationValue {
  /** mg/dL. */
  readonly glucoseConcentration: MedNumber;
  /** Minutes since the session start. */
  readonly calibrationTime: number;
  readonly type: GlucoseType;
  readonly sampleLocation: CgmSampleLocation;
  /** Minutes since the session start (0: no calibration needed). */
  readonly nextCalibrationTime: number;
  readonly recordNumber: number;
  readonly status: string[];
}

type Operand = 'none' | 'interval' | 'calibration' | 'record-number' | 'level' | 'response';

function operandOf(op: number): Operand {
  if (op === 2 || op === 25 || op === 26 || op === 27) return 'none';
  if (op === 1 || op === 3) return 'interval';
  if (op === 4 || op === 6) return 'calibration';
  if (op === 5) return 'record-number';
  if (op === 28) return 'response';
  // 7-24: set (level), get (none), response (level), in threes.
  return (op - 7) % 3 === 1 ? 'none' : 'level';
}

const OPERAND_LENGTH: Readonly<Record<Operand, number>> = {
  none: 0,
  interval: 1,
  calibration: 10,
  'record-number': 2,
  level: 2,
  response: 2,
};

export interface CgmOpsFields {
  readonly opCode: CgmOpsOpCode;
  /** Minutes (0 off, 255 fastest the sensor can). */
  readonly communicationInterval?: number;
  readonly calibration?: CgmCalibrationValue;
  /** The calibration record asked for (0xFFFF: the last one). */
  readonly calibrationRecordNumber?: number;
  /** mg/dL, or (mg/dL)/min for the rate alerts. */
  readonly alertLevel?: MedNumber;
  /** The op code answered: its name, or its number when the request used a reserved op code. */
  readonly requestOpCode?: CgmOpsOpCode | number;
  readonly responseCodeValue?: CgmOpsResponseCode;
  readonly e2eCrc?: number;
}

export function decodeCgmOps(
  bytes: Uint8Array,
  quirks?: ReadonlySet<string>,
  e2eCrc?: CgmCrcExpectation,
): CgmOpsFields {
  const r = new ByteReader(bytes, WHAT);
  const raw = r.u8('opCode');
  const opCode = enumName(WHAT, 'opCode', CGM_OPS_OP_CODES, raw);
  const operand = operandOf(raw);
  const out: { -readonly [K in keyof CgmOpsFields]: CgmOpsFields[K] } = { opCode };
  let calibrationTsl: number | undefined;
  let calibrationStatus: number | undefined;
  switch (operand) {
    case 'interval':
      out.communicationInterval = r.u8('communicationInterval');
      break;
    case 'record-number':
      out.calibrationRecordNumber = r.u16('calibrationRecordNumber');
      break;
    case 'level':
      out.alertLevel = r.sfloat('alertLevel');
      break;
    case 'response': {
      const request = r.u8('requestOpCode');
      out.requestOpCode = (CGM_OPS_OP_CODES as Readonly<Record<number, CgmOpsOpCode>>)[request] ?? request;
      out.responseCodeValue = enumName(
        WHAT,
        'responseCodeValue',
        CGM_OPS_RESPONSE_CODES,
        r.u8('responseCodeValue'),
      );
      break;
    }
    case 'calibration': {
      const glucoseConcentration = r.sfloat('calibration.glucoseConcentration');
      const calibrationTime = r.u16('calibration.calibrationTime');
      calibrationTsl = r.u8('calibration.typeSampleLocation');
      const nextCalibrationTime = r.u16('calibration.nextCalibrationTime');
      const recordNumber = r.u16('calibration.recordNumber');
      calibrationStatus = r.u8('calibration.status');
      out.calibration = {
        glucoseConcentration,
        calibrationTime,
        // Filled in below, once the length is known to be right.
        type: 'capillary-whole-blood',
        sampleLocation: 'finger',
        nextCalibrationTime,
        recordNumber,
        status: [],
      };
      break;
    }
    case 'none':
      break;
  }
  const crc = checkCgmCrc(WHAT, bytes, 0, r.position, bytes.length, e2eCrc);
  if (crc !== undefined) r.u16('e2eCrc');
  r.end();
  if (out.calibration && calibrationTsl !== undefined && calibrationStatus !== undefined) {
    refuseReservedBits(WHAT, 'calibration.status', calibrationStatus, 0xf8, quirks);
    out.calibration = {
      ...out.calibration,
      type: enumName(WHAT, 'calibration.type', GLUCOSE_TYPES, calibrationTsl & 0x0f),
      sampleLocation: enumName(WHAT, 'calibration.sampleLocation', CGM_SAMPLE_LOCATIONS, calibrationTsl >> 4),
      status: bitNames(calibrationStatus, CGM_CALIBRATION_STATUS),
    };
  }
  if (crc !== undefined) out.e2eCrc = crc;
  return out;
}

/** A request the collector writes. Give exactly the operand its op code takes. */
export type CgmOpsRequest =
  | {
      readonly op:
        | 'get-communication-interval'
        | 'get-patient-high-alert-level'
        | 'get-patient-low-alert-level'
        | 'get-hypo-alert-level'
        | 'get-hyper-alert-level'
        | 'get-rate-of-decrease-alert-level'
        | 'get-rate-of-increase-alert-level'
        | 'reset-device-specific-alert'
        | 'start-session'
        | 'stop-session';
    }
  | { readonly op: 'set-communication-interval'; readonly minutes: number }
  | { readonly op: 'get-glucose-calibration-value'; readonly recordNumber: number }
  | {
      readonly op:
        | 'set-patient-high-alert-level'
        | 'set-patient-low-alert-level'
        | 'set-hypo-alert-level'
        | 'set-hyper-alert-level'
        | 'set-rate-of-decrease-alert-level'
        | 'set-rate-of-increase-alert-level';
      readonly level: { readonly mantissa: number; readonly exponent: number };
    }
  | {
      readonly op: 'set-glucose-calibration-value';
      readonly glucose: { readonly mantissa: number; readonly exponent: number };
      readonly calibrationTime: number;
      /** GLS Type code (low nibble) and CGM Sample Location code (high nibble). */
      readonly type: number;
      readonly sampleLocation: number;
    };

function invalid(message: string): MedgwError {
  return new MedgwError('MEDGW_ERR_CGM_OPS_INVALID', `${WHAT}: ${message}`);
}

function uint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw invalid(`${what} must be an integer 0-${max}, got ${String(value)}`);
  return value;
}

/**
 * Encodes a request, with the E2E-CRC appended when `e2eCrc` (the CGM Feature supports it), e.g. start the
 * session `{op:'start-session'}` → `1a`; every 5 minutes `{op:'set-communication-interval', minutes:5}`
 * → `01 05`. Set Glucose Calibration writes Next Calibration Time, Record Number and Status as 0 (the
 * sensor fills them in).
 */
export function encodeCgmOpsRequest(request: CgmOpsRequest, e2eCrc = false): Uint8Array {
  const op = enumCode(CGM_OPS_OP_CODES, request.op);
  if (op === undefined || request.op.includes('response'))
    throw invalid(`"${String(request.op)}" is not a request op code`);
  const bytes: number[] = [op];
  const u16 = (v: number) => bytes.push(v & 0xff, v >> 8);
  const sfloat = (n: { mantissa: number; exponent: number }) => u16(encodeSfloat(n.mantissa, n.exponent));
  switch (request.op) {
    case 'set-communication-interval':
      bytes.push(uint(request.minutes, 0xff, 'minutes'));
      break;
    case 'get-glucose-calibration-value':
      u16(uint(request.recordNumber, 0xffff, 'recordNumber'));
      break;
    case 'set-glucose-calibration-value':
      sfloat(request.glucose);
      u16(uint(request.calibrationTime, 0xffff, 'calibrationTime'));
      bytes.push((uint(request.sampleLocation, 15, 'sampleLocation') << 4) | uint(request.type, 15, 'type'));
      u16(0);
      u16(0);
      bytes.push(0);
      break;
    default:
      if ('level' in request) sfloat(request.level);
  }
  if (bytes.length !== 1 + OPERAND_LENGTH[operandOf(op)])
    throw invalid(`${request.op} takes ${OPERAND_LENGTH[operandOf(op)]} operand octet(s)`);
  if (e2eCrc) {
    const crc = cgmCrc(Uint8Array.from(bytes));
    bytes.push(crc & 0xff, crc >> 8);
  }
  return Uint8Array.from(bytes);
}

export const cgmSpecificOps: CharacteristicCodec<CgmOpsFields> = {
  uuid: '2AAC',
  name: 'cgm-specific-ops-control-point',
  spec: 'CGMS v1.0.1 CGM Specific Ops Control Point; GSS CGM Specific Ops Control Point (0x2AAC)',
  quirks: ['ignore-reserved-flags'],
  decode: (bytes, quirks) => decodeCgmOps(bytes, quirks),
};
