import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import { plxFeatures } from './plx-features.ts';

describe('PLX Features 0x2A60', () => {
  it('reads the device and sensor status support field alone when only bit 1 is set', () => {
    const f = plxFeatures.decode(parseHex('02 00 03 80 00'));
    expect(f.measurementStatusSupport).toBeUndefined();
    expect(f.deviceAndSensorStatusSupport).toEqual([
      'extendedDisplayUpdateOngoing',
      'equipmentMalfunctionDetected',
      'sensorDisconnected',
    ]);
  });

  it('refuses reserved bits in the support fields', () => {
    expect(() => plxFeatures.decode(parseHex('01 00 01 00'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10 }), (bytes) => {
        try {
          plxFeatures.decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
