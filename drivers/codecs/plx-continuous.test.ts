import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import { plxContinuous } from './plx-continuous.ts';

describe('PLX Continuous Measurement 0x2A5F', () => {
  it('gives one reading per SpO2PR set; only the normal one can be final', () => {
    // Spezi testFullMeasurementCoding with the status changed to "fully qualified" only (0x0100)
    const f = plxContinuous.decode(parseHex('1f de f3 ca f3 ca f3 5a f5 d4 f3 b2 f2 00 01 00 00 00 7a e3'));
    const ms = plxContinuous.toMeasurements!(f);
    expect(ms.map((m) => [m.context?.averaging, m.final, m.components.length])).toEqual([
      ['normal', true, 3],
      ['fast', false, 2],
      ['slow', false, 2],
    ]);
    expect(ms.every((m) => m.kind === 'spo2' && m.source === '2A5F')).toBe(true);
    expect(ms[0]?.flags).toEqual(['fullyQualifiedData']);
  });

  it('marks an ongoing measurement as not final (Spezi testFullMeasurementCoding)', () => {
    const f = plxContinuous.decode(parseHex('1f de f3 ca f3 ca f3 5a f5 d4 f3 b2 f2 20 01 00 00 00 7a e3'));
    expect(plxContinuous.toMeasurements!(f)[0]?.final).toBe(false);
  });

  it('flags invalid and testing data for the normalizer to hold back', () => {
    // status bits 11 (testing) and 15 (invalid), device status bit 15 (sensor disconnected)
    const f = plxContinuous.decode(parseHex('0c 62 00 48 00 00 88 00 80 00'));
    const [m] = plxContinuous.toMeasurements!(f);
    expect(m?.flags).toEqual(['dataForTesting', 'invalidMeasurementDetected', 'sensorDisconnected']);
    expect(m?.final).toBe(true);
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          plxContinuous.toMeasurements!(plxContinuous.decode(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
