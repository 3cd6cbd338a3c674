import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFloat, decodeSfloat, encodeFloat, encodeSfloat, isAbsent } from './ieee11073.ts';

// Vectors from the HL7 FHIR PHD IG, "FLOATs and SFLOATs" (input/pagecontent/FLOATS.md).
describe('SFLOAT', () => {
  it.each([
    [0x0002, 2, 0, 2],
    [0xf014, 20, -1, 2],
    [0xe0c8, 200, -2, 2],
    [0x1002, 2, 1, 20],
    [0x2002, 2, 2, 200],
    [0x04d2, 1234, 0, 1234],
    [0x0b2e, -1234, 0, -1234],
    [0xb05f, 95, -5, 0.00095], // 95 mg/dL as kg/L (GLS)
  ])('0x%s decodes to mantissa %i exponent %i', (raw, mantissa, exponent, value) => {
    expect(decodeSfloat(raw)).toEqual({ mantissa, exponent, value });
    expect(encodeSfloat(mantissa, exponent)).toBe(raw);
  });

  it.each([
    [0x07ff, 'not-a-number'],
    [0x0800, 'error'],
    [0x07fe, 'positive-infinity'],
    [0x0802, 'negative-infinity'],
    [0x0801, 'error'],
  ])('special value 0x%s is a data-absent reason, never a number', (raw, reason) => {
    expect(decodeSfloat(raw)).toEqual({ absent: reason, raw });
  });

  it('round-trips every encodable mantissa and exponent', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2045, max: 2045 }), fc.integer({ min: -8, max: 7 }), (m, e) => {
        const back = decodeSfloat(encodeSfloat(m, e));
        expect(isAbsent(back)).toBe(false);
        expect(back).toMatchObject({ mantissa: m, exponent: e });
      }),
    );
  });

  it('refuses what does not fit with MEDGW_ERR_FLOAT_RANGE', () => {
    expect(() => encodeSfloat(2046, 0)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FLOAT_RANGE' }));
    expect(() => encodeSfloat(1, 8)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FLOAT_RANGE' }));
  });
});

describe('FLOAT', () => {
  it.each([
    [0xff000014, 20, -1],
    [0xfe0000c8, 200, -2],
    [0x01000002, 2, 1],
    [0x00fffb2e, -1234, 0],
    [0xfe000eb0, 3760, -2], // 37.60 °C, Nordic HTS test
  ])('0x%s decodes to mantissa %i exponent %i', (raw, mantissa, exponent) => {
    expect(decodeFloat(raw)).toMatchObject({ mantissa, exponent });
    expect(encodeFloat(mantissa, exponent)).toBe(raw);
  });

  it.each([
    [0x007fffff, 'not-a-number'],
    [0x00800000, 'error'],
    [0x007ffffe, 'positive-infinity'],
    [0x00800002, 'negative-infinity'],
    [0x00800001, 'error'],
  ])('special value 0x%s is a data-absent reason', (raw, reason) => {
    expect(decodeFloat(raw)).toEqual({ absent: reason, raw });
  });

  it('keeps the precision: 37.60 is 3760e-2 with value 37.6', () => {
    expect(decodeFloat(0xfe000eb0)).toEqual({ mantissa: 3760, exponent: -2, value: 37.6 });
  });
});

describe('decimal', () => {
  it('handles every FLOAT exponent, including those below −100', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -8388605, max: 8388605 }),
        fc.integer({ min: -128, max: 127 }),
        (m, e) => {
          const d = decodeFloat(encodeFloat(m, e));
          expect(isAbsent(d)).toBe(false);
          expect(d).toMatchObject({ mantissa: m, exponent: e, value: Number(`${m}e${e}`) });
        },
      ),
    );
  });
});
