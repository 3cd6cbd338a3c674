import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { toHex } from '../reader.ts';
import { encodeConsent, encodeRegisterNewUser, userControlPoint } from './user-control-point.ts';

describe('User Control Point 0x2A9F', () => {
  it('encodes Register New User and Consent as openScale writes them (consent 3289 = 0x0CD9)', () => {
    expect(toHex(encodeRegisterNewUser(3289))).toBe('01d90c');
    expect(toHex(encodeConsent(0, 3289))).toBe('0200d90c');
  });

  it('decodes what it encodes, over the whole consent code range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 254 }), (code, index) => {
        expect(userControlPoint.decode(encodeRegisterNewUser(code))).toEqual({
          opCode: 'registerNewUser',
          consentCode: code,
        });
        expect(userControlPoint.decode(encodeConsent(index, code))).toEqual({
          opCode: 'consent',
          userIndex: index,
          consentCode: code,
        });
      }),
    );
  });

  it('refuses out-of-range encoder parameters with MEDGW_ERR_UDS_PARAMETER', () => {
    for (const bad of [
      () => encodeRegisterNewUser(10000),
      () => encodeRegisterNewUser(-1),
      () => encodeConsent(255, 1),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_UDS_PARAMETER' }));
    }
    expect(() => encodeRegisterNewUser(1.5)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_UDS_PARAMETER' }),
    );
  });

  it('decodes every response value by name', () => {
    const names = [1, 2, 3, 4, 5].map(
      (v) => userControlPoint.decode(Uint8Array.of(0x20, 0x02, v)).responseValue,
    );
    expect(names).toEqual([
      'success',
      'opCodeNotSupported',
      'invalidParameter',
      'operationFailed',
      'userNotAuthorized',
    ]);
    expect(userControlPoint.decode(Uint8Array.of(0x20, 0x04, 0x01, 0x03))).toEqual({
      opCode: 'responseCode',
      requestOpCode: 'listAllUsers',
      responseValue: 'success',
      numberOfUsers: 3,
    });
    expect(() => userControlPoint.decode(Uint8Array.of(0x20, 0x01, 0x06))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        try {
          userControlPoint.decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
