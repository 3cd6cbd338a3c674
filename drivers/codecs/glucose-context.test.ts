import { describe, expect, it } from 'vitest';
import { parseHex } from '../reader.ts';
import { IGNORE_RESERVED_FLAGS } from './bits.ts';
import { glucoseContext, mergeGlucoseContext } from './glucose-context.ts';
import { glucoseMeasurement } from './glucose-measurement.ts';

const measurementOf = (seq: number) => {
  const hex = `12 ${(seq & 0xff).toString(16).padStart(2, '0')} ${(seq >> 8).toString(16).padStart(2, '0')} ea 07 0b 16 08 0f 00`;
  return glucoseMeasurement.toMeasurements!(glucoseMeasurement.decode(parseHex(`${hex} 5f b0 11`)))[0]!;
};

describe('Glucose Measurement Context 0x2A34', () => {
  it('merges meal and the rest into the measurement with the same sequence number', () => {
    const m = measurementOf(42);
    expect(m.context?.['contextFollows']).toBe(true);
    const ctx = glucoseContext.decode(parseHex('16 2a 00 03 51 01 05 a0'));
    const merged = mergeGlucoseContext(m, ctx);
    expect(merged.context).toEqual({
      type: 'capillary-whole-blood',
      sampleLocation: 'finger',
      meal: 'fasting',
      tester: 'self',
      health: 'no-health-issues',
      medicationId: 'rapid-acting-insulin',
      medicationKg: 0.000005,
    });
    expect(merged.components).toEqual(m.components);
    expect(merged.sequence).toBe(42);
  });

  it('refuses a context whose sequence number is not the measurement one', () => {
    const ctx = glucoseContext.decode(parseHex('02 2b 00 01'));
    expect(() => mergeGlucoseContext(measurementOf(42), ctx)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH' }),
    );
  });

  it('decodes every field of the Nordic full vector (Extended Flags 0xb3 accepted only under the quirk)', () => {
    // Nordic GlucoseMeasurementContextDataCallbackTest.onGlucoseMeasurementContextReceived_full.
    const hex = 'ff 00 00 b3 03 64 00 04 12 3c 00 32 04 d3 f4 59 f1';
    expect(() => glucoseContext.decode(parseHex(hex))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    const f = glucoseContext.decode(parseHex(hex), new Set([IGNORE_RESERVED_FLAGS]));
    expect(f).toMatchObject({
      sequenceNumber: 0,
      extendedFlags: 0xb3,
      carbohydrateId: 'dinner',
      meal: 'casual',
      tester: 'health-care-professional',
      health: 'minor-health-issues',
      exerciseDuration: 60,
      exerciseIntensity: 50,
      medicationId: 'long-acting-insulin',
      medicationUnits: 'L',
    });
    const merged = mergeGlucoseContext(measurementOf(0), f);
    expect(merged.context).toMatchObject({
      carbohydrateKg: 100,
      exerciseDurationSeconds: 60,
      exerciseIntensityPercent: 50,
      medicationL: 123.5,
      hbA1cPercent: 34.5,
    });
  });

  it('keeps special values as data-absent reasons and the exercise overrun as a flag', () => {
    // HbA1c NaN (0x07FF), exercise duration 0xFFFF (overrun) at 10 %.
    const f = glucoseContext.decode(parseHex('48 05 00 ff ff 0a ff 07'));
    const merged = mergeGlucoseContext(measurementOf(5), f);
    expect(merged.context).toMatchObject({
      exerciseDurationOverrun: true,
      exerciseIntensityPercent: 10,
      hbA1cPercentDataAbsentReason: 'not-a-number',
    });
    expect(merged.context && 'hbA1cPercent' in merged.context).toBe(false);
  });

  it('reads Tester from the LOW nibble and Health from the HIGH nibble', () => {
    const f = glucoseContext.decode(parseHex('04 01 00 f3'));
    expect(f.tester).toBe('lab-test');
    expect(f.health).toBe('not-available');
  });
});
