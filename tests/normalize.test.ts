/**
 * Normalization with hand-built Measurements: canonical units by exact decimal arithmetic, codes from
 * the vocabulary, special values, quarantine reasons and time quality.
 */
import { describe, expect, it } from 'vitest';
import { decimal } from '../drivers/ieee11073.ts';
import { normalize } from '../drivers/normalize/index.ts';
import { decimalFromNumber, decimalsOf, toCanonical } from '../drivers/normalize/units.ts';
import { readingId, readingIdMaterial } from '../drivers/reading-id.ts';
import type { DeviceDateTime, Measurement, MeasurementComponent } from '../drivers/types.ts';
import { VOCABULARY } from '../drivers/vocabulary.ts';

const T: DeviceDateTime = { year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 0 };
const c = (name: MeasurementComponent['name'], mantissa: number, exponent: number, unit: string) => ({
  name,
  value: decimal(mantissa, exponent),
  unit,
});
const m = (over: Partial<Measurement> & Pick<Measurement, 'kind' | 'components'>): Measurement => ({
  source: '2A18',
  deviceTime: T,
  final: true,
  ...over,
});

describe('unit conversions are exact', () => {
  it('glucose kg/L → mg/dL by exponent shift, no original kept', () => {
    expect(toCanonical('g', decimal(95, -5), 'kg/L', 'mg/dL')).toEqual({ value: 95, decimals: 0 });
    expect(toCanonical('g', decimal(1234, -7), 'kg/L', 'mg/dL')).toEqual({ value: 12.34, decimals: 2 });
  });
  it('glucose mol/L → mg/dL with 180.156 g/mol, original in mmol/L', () => {
    expect(toCanonical('g', decimal(53, -4), 'mol/L', 'mg/dL')).toEqual({
      value: 95,
      decimals: 0,
      original: { value: 5.3, unit: 'mmol/L', decimals: 1 },
    });
    // 5.55 mmol/L × 18.0156 = 99.98658 → one decimal
    expect(toCanonical('g', decimal(555, -5), 'mol/L', 'mg/dL').value).toBe(100.0);
    expect(toCanonical('g', decimal(555, -2), 'mmol/L', 'mg/dL')).toEqual({
      value: 100,
      decimals: 1,
      original: { value: 5.55, unit: 'mmol/L', decimals: 2 },
    });
  });
  it('pounds → kg exactly (0.45359237)', () => {
    expect(toCanonical('w', decimal(15000, -2), '[lb_av]', 'kg')).toEqual({
      value: 68.04,
      decimals: 2,
      original: { value: 150, unit: '[lb_av]', decimals: 2 },
    });
    expect(toCanonical('w', decimal(1, 0), '[lb_av]', 'kg').value).toBe(0);
    expect(toCanonical('w', decimal(100000000, -8), '[lb_av]', 'kg').value).toBe(0.45359237);
  });
  it('kPa → mm[Hg], °F → Cel, m → cm, in → cm', () => {
    expect(toCanonical('p', decimal(160, -1), 'kPa', 'mm[Hg]')).toEqual({
      value: 120,
      decimals: 0,
      original: { value: 16, unit: 'kPa', decimals: 1 },
    });
    expect(toCanonical('t', decimal(986, -1), '[degF]', 'Cel').value).toBe(37);
    expect(toCanonical('t', decimal(986, -1), '[degF]', 'Cel').decimals).toBe(1);
    expect(toCanonical('t', decimal(-400, -1), '[degF]', 'Cel').value).toBe(-40);
    expect(toCanonical('h', decimal(1755, -3), 'm', 'cm')).toEqual({ value: 175.5, decimals: 1 });
    expect(toCanonical('h', decimal(690, -1), '[in_i]', 'cm').value).toBe(175.3);
  });
  it('refuses a unit the kind cannot take with MEDGW_ERR_UNIT', () => {
    expect(() => toCanonical('w', decimal(70, 0), 'mm[Hg]', 'kg')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_UNIT' }),
    );
  });
  it('plain numbers keep the decimals they show', () => {
    expect(decimalsOf(36.6)).toBe(1);
    expect(decimalsOf(128)).toBe(0);
    expect(decimalsOf(1e-7)).toBe(7);
    expect(decimalFromNumber(36.6)).toEqual({ mantissa: 366, exponent: -1, value: 36.6 });
    expect(decimalFromNumber(37, 2)).toEqual({ mantissa: 3700, exponent: -2, value: 37 });
  });
});

describe('normalize', () => {
  it('glucose in kg/L becomes mg/dL with the vocabulary codes and the sample-type MDC', () => {
    const [o, ...rest] = normalize(
      m({
        kind: 'glucose',
        components: [c('glucose', 95, -5, 'kg/L')],
        context: { sampleType: 2, meal: 'fasting' },
      }),
    );
    expect(rest).toEqual([]);
    expect(o).toEqual({
      kind: 'glucose',
      loinc: VOCABULARY.glucose.loinc,
      mdc: '160188',
      value: 95,
      decimals: 0,
      unit: 'mg/dL',
      time: { device: '2026-11-22T08:15:00', quality: 'untrusted' },
      context: { sampleType: 2, meal: 'fasting' },
    });
  });

  it('a special value becomes a data-absent reason with no value', () => {
    const [o] = normalize(
      m({
        kind: 'glucose',
        components: [{ name: 'glucose', value: { absent: 'not-a-number', raw: 0x07ff }, unit: 'kg/L' }],
      }),
    );
    expect(o?.dataAbsentReason).toBe('not-a-number');
    expect(o).not.toHaveProperty('value');
  });

  it('a HI or LO glucose result is the meter limit with a comparator, flagged, never a plain value', () => {
    const hi = normalize(
      m({
        kind: 'glucose',
        components: [c('glucose', 600, -5, 'kg/L')],
        flags: ['resultHigherThanDeviceCanProcess'],
        context: { meal: 'fasting' },
      }),
    )[0];
    expect(hi).toMatchObject({ value: 600, unit: 'mg/dL', comparator: '>' });
    expect(hi?.deviceStatus?.map((s) => s.code)).toEqual(['8417752.5']);
    expect(hi).not.toHaveProperty('quarantine');
    const lo = normalize(
      m({
        kind: 'glucose',
        components: [c('glucose', 20, -5, 'kg/L')],
        flags: ['resultLowerThanDeviceCanProcess'],
        context: { meal: 'fasting' },
      }),
    )[0];
    expect(lo).toMatchObject({ value: 20, comparator: '<' });
    expect(lo?.deviceStatus?.map((s) => s.code)).toEqual(['8417752.6']);
  });

  it('a HI glucose without a number is held as critical, with no invented value', () => {
    const [hi] = normalize(
      m({
        kind: 'glucose',
        components: [{ name: 'glucose', value: { absent: 'positive-infinity', raw: 0x07fe }, unit: 'kg/L' }],
        flags: ['resultHigherThanDeviceCanProcess'],
        context: { meal: 'fasting' },
      }),
    );
    expect(hi).not.toHaveProperty('value');
    expect(hi?.quarantine?.code).toBe('MEDGW_ERR_GLUCOSE_BEYOND_RANGE');
    expect(hi?.quarantine?.reason).toMatch(/HI/);
  });

  it('blood pressure gives ONE panel with components and a separate cuff heart rate', () => {
    const obs = normalize(
      m({
        kind: 'blood-pressure',
        source: '2A35',
        components: [
          c('systolic', 160, -1, 'kPa'),
          c('diastolic', 107, -1, 'kPa'),
          c('mean-arterial', 133, -1, 'kPa'),
          c('pulse', 64, 0, '/min'),
        ],
      }),
    );
    expect(obs.map((o) => o.kind)).toEqual(['blood-pressure', 'heart-rate']);
    const [panel, hr] = obs;
    expect(panel).toMatchObject({ loinc: '85354-9', mdc: '150020' });
    expect(panel).not.toHaveProperty('value');
    expect(panel?.components?.map((x) => [x.kind, x.loinc, x.mdc, x.value, x.unit])).toEqual([
      ['systolic', '8480-6', '150021', 120, 'mm[Hg]'],
      ['diastolic', '8462-4', '150022', 80, 'mm[Hg]'],
      ['mean-arterial', '8478-0', '150023', 100, 'mm[Hg]'],
    ]);
    expect(hr).toMatchObject({ kind: 'heart-rate', loinc: '8867-4', mdc: '149546', value: 64, unit: '/min' });
  });

  it('a systolic of 18.9 mm[Hg] quarantines the panel as implausible', () => {
    const [panel, hr] = normalize(
      m({
        kind: 'blood-pressure',
        source: '2A35',
        components: [
          c('systolic', 189, -1, 'mm[Hg]'),
          c('diastolic', 80, 0, 'mm[Hg]'),
          c('pulse', 70, 0, '/min'),
        ],
      }),
    );
    expect(panel?.quarantine?.code).toBe('MEDGW_ERR_IMPLAUSIBLE_VALUE');
    expect(panel?.components?.some((x) => 'quarantine' in x)).toBe(false);
    expect(hr?.quarantine).toBeUndefined();
  });

  it('oximeter pulse uses MDC 149530; spo2 in %', () => {
    const obs = normalize(
      m({ kind: 'spo2', source: '2A5E', components: [c('spo2', 98, 0, '%'), c('pulse', 72, 0, '/min')] }),
    );
    expect(obs.map((o) => [o.kind, o.mdc, o.value])).toEqual([
      ['spo2', '150456', 98],
      ['heart-rate', '149530', 72],
    ]);
  });

  it('weight from pounds, height in cm, BMI kept but never sent', () => {
    const obs = normalize(
      m({
        kind: 'body-weight',
        source: '2A9D',
        components: [
          c('weight', 15000, -2, '[lb_av]'),
          c('height', 690, -1, '[in_i]'),
          c('bmi', 222, -1, 'kg/m2'),
        ],
      }),
    );
    expect(obs.map((o) => [o.kind, o.value, o.unit])).toEqual([
      ['body-weight', 68.04, 'kg'],
      ['body-height', 175.3, 'cm'],
      ['bmi', 22.2, 'kg/m2'],
    ]);
    expect(obs[0]?.original).toMatchObject({ value: 150, unit: '[lb_av]' });
    expect(obs[2]?.context?.neverSent).toBe(true);
    expect(obs[0]?.context).toBeUndefined();
  });

  it('temperature from °F', () => {
    const [o] = normalize(
      m({ kind: 'body-temperature', source: '2A1C', components: [c('temperature', 986, -1, '[degF]')] }),
    );
    expect(o).toMatchObject({
      kind: 'body-temperature',
      loinc: '8310-5',
      value: 37,
      decimals: 1,
      unit: 'Cel',
    });
  });

  it('intermediate readings produce nothing', () => {
    expect(
      normalize(
        m({ kind: 'blood-pressure', final: false, components: [c('cuff-pressure', 80, 0, 'mm[Hg]')] }),
      ),
    ).toEqual([]);
  });

  it('control solution, suppressed status and impossible times are quarantined', () => {
    const g = [c('glucose', 100, -5, 'kg/L')];
    expect(
      normalize(m({ kind: 'glucose', components: g, context: { sampleType: 10 } }))[0]?.quarantine?.code,
    ).toBe('MEDGW_ERR_CONTROL_SOLUTION');
    expect(
      normalize(m({ kind: 'spo2', components: [c('spo2', 97, 0, '%')], flags: ['dataForTesting'] }))[0]
        ?.quarantine?.code,
    ).toBe('MEDGW_ERR_STATUS_SUPPRESSED');
    const at = (year: number) =>
      normalize(m({ kind: 'glucose', components: g, deviceTime: { ...T, year } }))[0];
    expect(at(1970)?.quarantine?.code).toBe('MEDGW_ERR_TIME_IMPOSSIBLE');
    expect(at(1970)?.time).toEqual({ device: '1970-11-22T08:15:00', quality: 'untrusted' });
    const future = normalize(m({ kind: 'glucose', components: g, deviceTime: { ...T, year: 2094 } }), {
      nowMs: Date.UTC(2026, 10, 23, 12),
    })[0];
    expect(future?.quarantine?.code).toBe('MEDGW_ERR_TIME_IMPOSSIBLE');
    const unknown = normalize(m({ kind: 'glucose', components: g, deviceTime: { ...T, month: 0 } }))[0];
    expect(unknown?.quarantine?.code).toBe('MEDGW_ERR_TIME_IMPOSSIBLE');
    expect(unknown?.time.device).toBeUndefined();
  });

  it('coincident time corrects the device time: corrected, or synced when the clock was set', () => {
    // The device clock runs 1 h 2 min behind UTC+1 local; gateway reads it at 2026-11-22T10:00:00Z.
    const coincident = {
      device: { year: 2026, month: 11, day: 22, hours: 9, minutes: 58, seconds: 0 },
      gatewayMs: Date.UTC(2026, 10, 22, 10, 0, 0),
    };
    const g = [c('glucose', 100, -5, 'kg/L')];
    const [o] = normalize(m({ kind: 'glucose', components: g }), { coincident });
    expect(o?.time).toEqual({
      device: '2026-11-22T08:15:00',
      utc: '2026-11-22T08:17:00.000Z',
      quality: 'corrected',
    });
    const [s] = normalize(m({ kind: 'glucose', components: g }), {
      coincident: { ...coincident, deviceClockSet: true },
    });
    expect(s?.time.quality).toBe('synced');
    // The device says its clock is wrong (GLS time fault): no correction, untrusted
    const [f] = normalize(m({ kind: 'glucose', components: g, flags: ['timeFault'] }), { coincident });
    expect(f?.time).toEqual({ device: '2026-11-22T08:15:00', quality: 'untrusted' });
    // No coincident time, zoned MQTT time: utc, untrusted
    const [z] = normalize(m({ kind: 'glucose', source: 'mqtt', components: g, deviceUtcOffsetMinutes: 60 }));
    expect(z?.time).toEqual({
      device: '2026-11-22T08:15:00',
      utc: '2026-11-22T07:15:00.000Z',
      utcOffsetMinutes: 60,
      quality: 'untrusted',
    });
  });
});

describe('reading ids', () => {
  const base = m({ kind: 'glucose', components: [c('glucose', 95, -5, 'kg/L')], sequence: 7 });
  const id = (mm: Measurement, systemId?: string) =>
    readingId({ deviceId: 'gm-1', kind: 'glucose', measurement: mm, ...(systemId ? { systemId } : {}) });

  it('are stable for the same record re-sent', () => {
    expect(id(base)).toBe(id({ ...base, components: [c('glucose', 95, -5, 'kg/L')] }));
    expect(id(base)).toMatch(/^r1-[0-9a-f]{32}$/);
  });
  it('differ for identical values under another sequence number, time, user, device or precision', () => {
    const ids = new Set([
      id(base),
      id({ ...base, sequence: 8 }),
      id({ ...base, userIndex: 1 }),
      id(base, '0123456789abcdef'),
      id({ ...base, components: [c('glucose', 950, -6, 'kg/L')] }),
    ]);
    expect(ids.size).toBe(5);
    const { sequence: _s, ...noSeq } = base;
    expect(id(noSeq)).not.toBe(id({ ...noSeq, deviceTime: { ...T, minutes: 16 } }));
  });
  it('prefers the system id over the gateway device id', () => {
    expect(
      readingIdMaterial({ systemId: 'AB', deviceId: 'x', kind: 'glucose', measurement: base }),
    ).toContain('sys:ab');
  });
});
