import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FhirDecimal, toFhirJson } from './fhir-json.ts';

describe('FHIR JSON with exact decimals', () => {
  it('keeps the precision of a decimal: 2.0 stays 2.0, 120 stays 120', () => {
    const text = toFhirJson({
      a: FhirDecimal.of(2, 1),
      b: FhirDecimal.of(120, 0),
      c: FhirDecimal.of(5.25, 2),
    });
    expect(text).toBe('{"a":2.0,"b":120,"c":5.25}');
  });

  it('rounds to the given decimals and never writes -0', () => {
    expect(FhirDecimal.of(0.049, 1).text).toBe('0.0');
    expect(FhirDecimal.of(-0.01, 1).text).toBe('0.0');
    expect(FhirDecimal.of(-1.25, 1).text).toBe('-1.3');
  });

  it('skips undefined members and refuses non-finite numbers and bad decimal text', () => {
    expect(toFhirJson({ a: undefined, b: [1, 'x', null, true] })).toBe('{"b":[1,"x",null,true]}');
    expect(() => toFhirJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => new FhirDecimal('1.')).toThrow(TypeError);
    expect(() => FhirDecimal.of(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  it('writes what JSON.parse reads back to the same values (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 4 }),
        fc.string(),
        (v, d, s) => {
          const dec = FhirDecimal.of(v, d);
          const parsed = JSON.parse(toFhirJson({ v: dec, s })) as { v: number; s: string };
          expect(parsed.v).toBe(Number(dec.text));
          expect(parsed.s).toBe(s);
          const frac = dec.text.split('.')[1] ?? '';
          expect(frac.length).toBe(d);
        },
      ),
    );
  });
});
