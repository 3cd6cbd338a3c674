import { describe, expect, it } from 'vitest';
import { parseHex } from '../reader.ts';
import { IGNORE_RESERVED_FLAGS } from './bits.ts';
import { glucoseMeasurement } from './glucose-measurement.ts';

// Nordic Android-BLE-Common-Library GlucoseMeasurementDataCallbackTest.onGlucoseMeasurementReceived.
const NORDIC = '1b 01 00 e3 07 02 1b 0b 0a 1e fb ff 1e 00 12 05 01';

const measure = (hex: string, quirks?: ReadonlySet<string>) =>
  glucoseMeasurement.toMeasurements!(glucoseMeasurement.decode(parseHex(hex), quirks));

describe('Glucose Measurement 0x2A18', () => {
  it('turns a record into one glucose measurement at the user-facing time (base time + offset)', () => {
    const [m, ...rest] = measure(NORDIC);
    expect(rest).toEqual([]);
    expect(m).toEqual({
      kind: 'glucose',
      source: '2A18',
      sequence: 1,
      deviceTime: { year: 2019, month: 2, day: 27, hours: 11, minutes: 5, seconds: 30 },
      components: [{ name: 'glucose', value: { mantissa: 30, exponent: 0, value: 30 }, unit: 'kg/L' }],
      context: { type: 'capillary-plasma', sampleLocation: 'finger', contextFollows: true },
      flags: ['deviceBatteryLow', 'sampleSizeInsufficient', 'sensorTemperatureTooLow'],
      final: true,
    });
  });

  it('keeps the device precision of a typical 95 mg/dL reading (mantissa 95, exponent -5 kg/L)', () => {
    const [m] = measure('02 07 00 ea 07 0b 16 08 0f 00 5f b0 11');
    expect(m?.components[0]).toEqual({
      name: 'glucose',
      value: { mantissa: 95, exponent: -5, value: 0.00095 },
      unit: 'kg/L',
    });
    expect(m?.deviceTime).toEqual({ year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 0 });
  });

  it('reads mol/L when flag bit 2 is set (5.3 mmol/L = mantissa 53, exponent -4 mol/L)', () => {
    const f = glucoseMeasurement.decode(parseHex('06 08 00 ea 07 0b 16 08 0f 00 35 c0 11'));
    expect(f.glucoseConcentrationUnits).toBe('mol/L');
    expect(f.glucoseConcentration).toEqual({ mantissa: 53, exponent: -4, value: 0.0053 });
  });

  it('keeps a control-solution type visible in the context so normalization can quarantine it', () => {
    // Current Health GlucoseMeasurementDataTests.testKiloGramFromBytes: type 10 (control solution), finger.
    const [m] = measure('02 01 00 d0 07 01 02 03 04 05 34 11 1a');
    expect(m?.context).toEqual({ type: 'control-solution', sampleLocation: 'finger' });
  });

  it('gives no device time when the base date is unknown, and keeps the record', () => {
    const [m] = measure('02 07 00 00 00 00 00 12 1a 20 5f b0 11');
    expect(m).toBeDefined();
    expect(m && 'deviceTime' in m).toBe(false);
    expect(m?.sequence).toBe(7);
  });

  it('keeps a record without concentration (a failed test) with no component and its status flags', () => {
    const [m] = measure('08 04 00 d0 07 01 02 03 04 05 08 00');
    expect(m?.components).toEqual([]);
    expect(m?.flags).toEqual(['stripInsertionError']);
    expect(m && 'context' in m).toBe(false);
  });

  it('maps the status bits to their names, not to an integer', () => {
    const f = glucoseMeasurement.decode(parseHex('08 04 00 d0 07 01 02 03 04 05 00 08'));
    expect(f.sensorStatusAnnunciation?.timeFault).toBe(true);
    expect(Object.values(f.sensorStatusAnnunciation ?? {}).filter(Boolean)).toHaveLength(1);
  });

  it('refuses RFU flag bits unless the driver sets the ignore-reserved-flags quirk', () => {
    const hex = `3b${NORDIC.slice(2)}`;
    expect(() => glucoseMeasurement.decode(parseHex(hex))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    const quirked = glucoseMeasurement.decode(parseHex(hex), new Set([IGNORE_RESERVED_FLAGS]));
    expect(quirked.sequenceNumber).toBe(1);
    expect(glucoseMeasurement.quirks).toContain(IGNORE_RESERVED_FLAGS);
  });

  it('names the missing field of a cut frame', () => {
    expect(() => glucoseMeasurement.decode(parseHex('03 01 00 e3 07 02 1b 0b 0a 1e fb ff 1e'))).toThrow(
      /glucoseConcentration/,
    );
  });
});
