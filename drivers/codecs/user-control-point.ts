/**
 * User Control Point 0x2A9F of the User Data Service (UDS v1.0 / UDS 1.1): requests written by the
 * collector and the Response Code indication, plus pure encoders for the requests the gateway sends.
 * Op codes: 0x01 Register New User (Consent Code uint16, 0..9999), 0x02 Consent (User Index uint8 +
 * Consent Code), 0x03 Delete User Data, 0x04 List All Users (UDS 1.1), 0x05 Delete User(s) (UDS 1.1,
 * User Index, 0xFF = all), 0x20 Response Code (Request Op Code, Response Value, parameter).
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import { reservedValue } from './bits.ts';

export type UcpOpCode =
  | 'registerNewUser'
  | 'consent'
  | 'deleteUserData'
  | 'listAllUsers'
  | 'deleteUsers'
  | 'responseCode';

export type UcpResponseValue =
  | 'success'
  | 'opCodeNotSupported'
  | 'invalidParameter'
  | 'operationFailed'
  | 'userNotAuthorized';

export interface UserControlPointFields {
  readonly opCode: UcpOpCode;
  readonly consentCode?: number;
  /** Consent / Delete User(s) operand, or the new user index in a successful Register New User response. */
  readonly userIndex?: number;
  readonly requestOpCode?: UcpOpCode;
  readonly responseValue?: UcpResponseValue;
  /** Response parameter of a successful List All Users (UDS 1.1). */
  readonly numberOfUsers?: number;
}

const OP_CODES: ReadonlyMap<number, UcpOpCode> = new Map([
  [0x01, 'registerNewUser'],
  [0x02, 'consent'],
  [0x03, 'deleteUserData'],
  [0x04, 'listAllUsers'],
  [0x05, 'deleteUsers'],
  [0x20, 'responseCode'],
]);

const RESPONSE_VALUES: ReadonlyMap<number, UcpResponseValue> = new Map([
  [0x01, 'success'],
  [0x02, 'opCodeNotSupported'],
  [0x03, 'invalidParameter'],
  [0x04, 'operationFailed'],
  [0x05, 'userNotAuthorized'],
]);

const WHAT = 'User Control Point';
/** The largest consent code UDS allows (UDS v1.0: 0..9999). */
export const MAX_CONSENT_CODE = 9999;

function consentCode(r: ByteReader): number {
  const code = r.u16('consentCode');
  if (code > MAX_CONSENT_CODE) throw reservedValue(WHAT, 'consentCode', code);
  return code;
}

function opCode(r: ByteReader, field: string): UcpOpCode {
  const raw = r.u8(field);
  const op = OP_CODES.get(raw);
  if (!op) throw reservedValue(WHAT, field, raw);
  return op;
}

export const userControlPoint: CharacteristicCodec<UserControlPointFields> = {
  uuid: '2A9F',
  name: 'user-control-point',
  spec: 'UDS v1.0 (User Control Point 0x2A9F), UDS 1.1 op codes 0x04–0x05',
  decode(bytes) {
    const r = new ByteReader(bytes, WHAT);
    const op = opCode(r, 'opCode');
    let out: UserControlPointFields;
    switch (op) {
      case 'registerNewUser':
        out = { opCode: op, consentCode: consentCode(r) };
        break;
      case 'consent': {
        const userIndex = r.u8('userIndex');
        out = { opCode: op, userIndex, consentCode: consentCode(r) };
        break;
      }
      case 'deleteUsers':
        out = { opCode: op, userIndex: r.u8('userIndex') };
        break;
      case 'deleteUserData':
      case 'listAllUsers':
        out = { opCode: op };
        break;
      case 'responseCode': {
        const requestOpCode = opCode(r, 'requestOpCode');
        if (requestOpCode === 'responseCode') throw reservedValue(WHAT, 'requestOpCode', 0x20);
        const rawValue = r.u8('responseValue');
        const responseValue = RESPONSE_VALUES.get(rawValue);
        if (!responseValue) throw reservedValue(WHAT, 'responseValue', rawValue);
        const success = responseValue === 'success';
        if (success && requestOpCode === 'registerNewUser') {
          out = { opCode: op, requestOpCode, responseValue, userIndex: r.u8('userIndex') };
        } else if (success && requestOpCode === 'listAllUsers') {
          out = { opCode: op, requestOpCode, responseValue, numberOfUsers: r.u8('numberOfUsers') };
        } else {
          out = { opCode: op, requestOpCode, responseValue };
        }
        break;
      }
    }
    r.end();
    return out;
  },
};

function checkConsentCode(consentCode: number): void {
  if (!Number.isInteger(consentCode) || consentCode < 0 || consentCode > MAX_CONSENT_CODE) {
    throw new MedgwError(
      'MEDGW_ERR_UDS_PARAMETER',
      `consent code ${consentCode} is outside 0..${MAX_CONSENT_CODE}; choose a 4-digit code`,
    );
  }
}

/** Register New User request: `01 <consent code uint16 LE>`. */
export function encodeRegisterNewUser(consentCode: number): Uint8Array {
  checkConsentCode(consentCode);
  return Uint8Array.of(0x01, consentCode & 0xff, consentCode >> 8);
}

/** Consent request: `02 <user index> <consent code uint16 LE>`. */
export function encodeConsent(userIndex: number, consentCode: number): Uint8Array {
  if (!Number.isInteger(userIndex) || userIndex < 0 || userIndex > 0xfe) {
    throw new MedgwError(
      'MEDGW_ERR_UDS_PARAMETER',
      `user index ${userIndex} is outside 0..254; use the index the scale returned at registration`,
    );
  }
  checkConsentCode(consentCode);
  return Uint8Array.of(0x02, userIndex, consentCode & 0xff, consentCode >> 8);
}
