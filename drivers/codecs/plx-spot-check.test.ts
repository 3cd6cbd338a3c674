import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MedgwError } from '../../kernel/errors.ts';
import { parseHex } from '../reader.ts';
import { plxSpotCheck } from './plx-spot-check.ts';

describe('PLX Spot-Check Measurement 0x2A5E', () => {
  it('turns the Spezi spot-check frame into a non-final spo2 reading with every status as a flag', () => {
    // StanfordSpezi/SpeziBluetooth PLXTests.swift testSpotCheckMeasurementCoding
    const f = plxSpotCheck.decode(parseHex('0f ac f3 be f5 e8 07 0b 1d 17 08 39 20 40 22 00 00 66 e3'));
    const [m] = plxSpotCheck.toMeasurements!(f);
    expect(m?.kind).toBe('spo2');
    expect(m?.final).toBe(false); // measurement ongoing
    expect(m?.flags).toEqual([
      'measurementOngoing',
      'questionableMeasurementDetected',
      'equipmentMalfunctionDetected',
      'lowPerfusionDetected',
    ]);
    expect(m?.components.map((c) => [c.name, c.unit, 'value' in c.value ? c.value.value : null])).toEqual([
      ['spo2', '%', 94],
      ['pulse', '/min', 147],
      ['pulse-amplitude-index', '%', 8.7],
    ]);
  });

  it('is final when validated, and flags demonstration data and an unset clock', () => {
    // flags: status (bit 1) + clock not set (bit 4); status bits 7 (validated) and 10 (demonstration)
    const f = plxSpotCheck.decode(parseHex('12 62 00 48 00 80 04'));
    const [m] = plxSpotCheck.toMeasurements!(f);
    expect(m?.final).toBe(true);
    expect(m?.flags).toEqual(['validatedData', 'dataForDemonstration', 'deviceClockNotSet']);
  });

  it('marks an early estimate as not final', () => {
    const [m] = plxSpotCheck.toMeasurements!(plxSpotCheck.decode(parseHex('02 62 00 48 00 40 00')));
    expect(m?.final).toBe(false);
  });

  it('refuses reserved device and sensor status bits', () => {
    expect(() => plxSpotCheck.decode(parseHex('04 62 00 48 00 00 00 01'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
  });

  it('arbitrary bytes decode or fail with a coded error only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          plxSpotCheck.toMeasurements!(plxSpotCheck.decode(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(MedgwError);
        }
      }),
    );
  });
});
