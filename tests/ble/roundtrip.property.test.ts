/**
 * Random readings encoded by the simulators' own encoders decode, through the drivers' independent
 * codecs (drivers/decode.ts), to the same reading: same numbers with the same precision, units, times,
 * sequence numbers and users. The two sides share no code, only the specifications.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, findCodec } from '../../drivers/decode.ts';
import type { Measurement, MedNumber } from '../../drivers/types.ts';
import { encodeBloodPressure } from '../../simulators/ble/cuff.ts';
import type { SimNumber, SpecialValue } from '../../simulators/ble/encode.ts';
import { encodeGlucoseMeasurement } from '../../simulators/ble/glucometer.ts';
import { encodeSpotCheck } from '../../simulators/ble/oximeter.ts';
import { encodeWeightMeasurement } from '../../simulators/ble/scale.ts';
import { encodeTemperature } from '../../simulators/ble/thermometer.ts';

/** Decodes a frame and turns its fields into measurements with the codec of the characteristic. */
function measurements(uuid: string, frame: Buffer): Measurement[] {
  const { fields } = decodeFrame(uuid, frame);
  const toMeasurements = findCodec(uuid).toMeasurements;
  if (!toMeasurements) throw new Error(`codec ${uuid} has no toMeasurements`);
  return toMeasurements(fields);
}

const ABSENT: Record<Exclude<SpecialValue, 'reserved'>, string> = {
  nan: 'not-a-number',
  nres: 'error',
  '+inf': 'positive-infinity',
  '-inf': 'negative-infinity',
};

/** What a decoded MedNumber must look like for a number the simulator sent. */
function expectSame(actual: MedNumber | undefined, sent: SimNumber, what: string): void {
  expect(actual, what).toBeDefined();
  if (typeof sent === 'object' && 'special' in sent) {
    expect(actual, what).toMatchObject({ absent: ABSENT[sent.special as keyof typeof ABSENT] });
    return;
  }
  if (typeof sent === 'number') throw new Error('generators give explicit mantissa and exponent');
  expect(actual, what).toMatchObject({ mantissa: sent.mantissa, exponent: sent.exponent });
}

function component(m: Measurement, name: string) {
  return m.components.find((c) => c.name === name);
}

const GLUCOSE_TYPES = [
  'capillary-whole-blood',
  'capillary-plasma',
  'venous-whole-blood',
  'venous-plasma',
  'arterial-whole-blood',
  'arterial-plasma',
  'undetermined-whole-blood',
  'undetermined-plasma',
  'interstitial-fluid',
];
const SAMPLE_LOCATIONS = ['finger', 'alternate-site-test', 'earlobe', 'control-solution'];

const special = fc
  .constantFrom<SpecialValue>('nan', 'nres', '+inf', '-inf')
  .map((s) => ({ special: s }) as SimNumber);
const sfloat = (min: number, max: number, exponent: number): fc.Arbitrary<SimNumber> =>
  fc.integer({ min, max }).map((mantissa) => ({ mantissa, exponent }));
const dateTime = fc.record({
  year: fc.integer({ min: 2000, max: 2099 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  hours: fc.integer({ min: 0, max: 23 }),
  minutes: fc.integer({ min: 0, max: 59 }),
  seconds: fc.integer({ min: 0, max: 59 }),
});

describe('simulator encoders → driver decoders round trip', () => {
  it('glucose measurement: sequence, user-facing time, concentration with its exponent and unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        dateTime,
        fc.option(fc.integer({ min: -720, max: 720 }), { nil: undefined }),
        fc.constantFrom('kg/L' as const, 'mol/L' as const),
        fc.oneof({ weight: 9, arbitrary: sfloat(1, 2045, 0) }, { weight: 1, arbitrary: special }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        (sequence, baseTime, offset, unit, raw, type, location) => {
          const concentration =
            'mantissa' in (raw as object)
              ? { mantissa: (raw as { mantissa: number }).mantissa, exponent: unit === 'kg/L' ? -5 : -4 }
              : raw;
          const frame = encodeGlucoseMeasurement({
            sequence,
            baseTime,
            unit,
            concentration,
            type,
            location,
            ...(offset !== undefined ? { timeOffsetMinutes: offset } : {}),
          });
          const [m] = measurements('2A18', frame);
          expect(m?.kind).toBe('glucose');
          expect(m?.sequence).toBe(sequence);
          const t = new Date(
            Date.UTC(
              baseTime.year,
              baseTime.month - 1,
              baseTime.day,
              baseTime.hours,
              baseTime.minutes,
              baseTime.seconds,
            ) +
              (offset ?? 0) * 60_000,
          );
          expect(m?.deviceTime).toEqual({
            year: t.getUTCFullYear(),
            month: t.getUTCMonth() + 1,
            day: t.getUTCDate(),
            hours: t.getUTCHours(),
            minutes: t.getUTCMinutes(),
            seconds: t.getUTCSeconds(),
          });
          const g = component(m!, 'glucose');
          expect(g?.unit).toBe(unit);
          expectSame(g?.value, concentration, 'glucose');
          // GLS: type is the low nibble, sample location the high nibble (names of the specification).
          expect(m?.context?.type).toBe(GLUCOSE_TYPES[type - 1]);
          expect(m?.context?.sampleLocation).toBe(SAMPLE_LOCATIONS[location - 1]);
        },
      ),
    );
  });

  it('blood pressure: three pressures, pulse, unit, time, user', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('mmHg' as const, 'kPa' as const),
        fc.tuple(
          fc.oneof({ weight: 9, arbitrary: sfloat(40, 300, 0) }, { weight: 1, arbitrary: special }),
          sfloat(20, 200, 0),
          fc.oneof(sfloat(30, 250, 0), special),
        ),
        fc.option(sfloat(30, 220, 0), { nil: undefined }),
        fc.option(dateTime, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (unit, [sys, dia, map], pulse, time, userId) => {
          const scale = (n: SimNumber): SimNumber =>
            unit === 'kPa' && 'mantissa' in (n as object)
              ? { mantissa: (n as { mantissa: number }).mantissa, exponent: -1 }
              : n;
          const record = {
            unit,
            systolic: scale(sys),
            diastolic: scale(dia),
            meanArterial: scale(map),
            ...(pulse !== undefined ? { pulse } : {}),
            ...(time ? { time } : {}),
            ...(userId !== undefined ? { userId } : {}),
          };
          const [m] = measurements('2A35', encodeBloodPressure(record));
          expect(m?.kind).toBe('blood-pressure');
          expect(m?.final).toBe(true);
          const u = unit === 'mmHg' ? 'mm[Hg]' : 'kPa';
          expect(component(m!, 'systolic')?.unit).toBe(u);
          expectSame(component(m!, 'systolic')?.value, record.systolic, 'systolic');
          expectSame(component(m!, 'diastolic')?.value, record.diastolic, 'diastolic');
          expectSame(component(m!, 'mean-arterial')?.value, record.meanArterial, 'mean arterial');
          if (pulse !== undefined) expectSame(component(m!, 'pulse')?.value, pulse, 'pulse');
          else expect(component(m!, 'pulse')).toBeUndefined();
          expect(m?.deviceTime).toEqual(time);
          expect(m?.userIndex).toBe(userId);
        },
      ),
    );
  });

  it('Beurer BM85 frames decode with the blood-pressure codec quirks to the same reading', () => {
    const bp = findCodec('2A35');
    const quirks = new Set(bp.quirks ?? []);
    expect(quirks.size).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        sfloat(60, 260, 0),
        sfloat(40, 160, 0),
        sfloat(40, 200, 0),
        sfloat(30, 220, 0),
        fc.integer({ min: 0, max: 254 }),
        fc.integer({ min: 0, max: 0x27 }),
        dateTime,
        (systolic, diastolic, meanArterial, pulse, userId, status, time) => {
          const frame = encodeBloodPressure(
            { unit: 'mmHg', systolic, diastolic, meanArterial, pulse, userId, status, time },
            { beurerBm85: true },
          );
          const toMeasurements = bp.toMeasurements;
          if (!toMeasurements) throw new Error('codec 2A35 has no toMeasurements');
          const [m] = toMeasurements(bp.decode(frame, quirks));
          expectSame(component(m!, 'systolic')?.value, systolic, 'systolic');
          expectSame(component(m!, 'pulse')?.value, pulse, 'pulse');
          expect(m?.userIndex).toBe(userId);
          expect(m?.deviceTime).toEqual(time);
        },
      ),
    );
  });

  it('weight: fixed resolution of the unit flag, height and BMI, user', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xfffe }),
        fc.constantFrom('SI' as const, 'imperial' as const),
        fc.option(dateTime, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        fc.option(fc.tuple(fc.integer({ min: 100, max: 600 }), fc.integer({ min: 500, max: 2500 })), {
          nil: undefined,
        }),
        (weightRaw, units, time, userIndex, bmiHeight) => {
          const frame = encodeWeightMeasurement({
            weightRaw,
            units,
            ...(time ? { time } : {}),
            ...(userIndex !== undefined ? { userIndex } : {}),
            ...(bmiHeight ? { bmiRaw: bmiHeight[0], heightRaw: bmiHeight[1] } : {}),
          });
          const [m] = measurements('2A9D', frame);
          expect(m?.kind).toBe('body-weight');
          const w = component(m!, 'weight');
          const si = units === 'SI';
          expect(w?.unit).toBe(si ? 'kg' : '[lb_av]');
          // WSS: 0.005 kg or 0.01 lb per unit; compare in thousandths to stay exact.
          expect(w && 'value' in w.value ? Math.round(w.value.value * 1000) : undefined).toBe(
            weightRaw * (si ? 5 : 10),
          );
          expect(m?.deviceTime).toEqual(time);
          expect(m?.userIndex).toBe(userIndex);
          if (bmiHeight) {
            const h = component(m!, 'height');
            const b = component(m!, 'bmi');
            expect(h && 'value' in h.value ? Math.round(h.value.value * (si ? 1000 : 10)) : undefined).toBe(
              bmiHeight[1],
            );
            expect(b && 'value' in b.value ? Math.round(b.value.value * 10) : undefined).toBe(bmiHeight[0]);
          }
        },
      ),
    );
  });

  it('temperature: FLOAT with its exponent, Celsius or Fahrenheit, time', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          {
            weight: 9,
            arbitrary: fc.record({
              mantissa: fc.integer({ min: -8388605, max: 8388605 }),
              exponent: fc.integer({ min: -4, max: 2 }),
            }),
          },
          { weight: 1, arbitrary: special },
        ),
        fc.constantFrom('Cel' as const, '[degF]' as const),
        fc.option(dateTime, { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
        (value, unit, time, type) => {
          const frame = encodeTemperature({
            unit,
            value: value as SimNumber,
            ...(time ? { time } : {}),
            ...(type ? { type } : {}),
          });
          const [m] = measurements('2A1C', frame);
          expect(m?.kind).toBe('body-temperature');
          const t = component(m!, 'temperature');
          expect(t?.unit).toBe(unit);
          expectSame(t?.value, value as SimNumber, 'temperature');
          expect(m?.deviceTime).toEqual(time);
        },
      ),
    );
  });

  it('pulse oximeter spot-check: SpO2, pulse rate, pulse amplitude index, time', () => {
    fc.assert(
      fc.property(
        sfloat(50, 100, 0),
        fc.oneof(sfloat(25, 250, 0), special),
        fc.option(sfloat(1, 200, -1), { nil: undefined }),
        fc.option(dateTime, { nil: undefined }),
        (spo2, pulse, pai, time) => {
          const frame = encodeSpotCheck({
            spo2,
            pulse,
            ...(pai ? { pulseAmplitudeIndex: pai } : {}),
            ...(time ? { time } : {}),
          });
          const [m] = measurements('2A5E', frame);
          expect(m?.kind).toBe('spo2');
          expectSame(component(m!, 'spo2')?.value, spo2, 'spo2');
          expectSame(component(m!, 'pulse')?.value, pulse, 'pulse');
          if (pai) expectSame(component(m!, 'pulse-amplitude-index')?.value, pai, 'PAI');
          expect(m?.deviceTime).toEqual(time);
        },
      ),
    );
  });
});
