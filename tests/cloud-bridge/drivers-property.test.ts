/**
 * Property: any reading the drivers can produce either becomes a Bundle that passes the profile validator
 * and that the sandbox accepts over real HTTP, or is quarantined with a coded reason before anything is
 * sent. Nothing disappears: no reading dies as "not sendable" at the bridge.
 *
 * Readings come from bytes: the simulators' encoders (written apart from the decoders) with arbitrary
 * values, units, special values, status bits, sample types and meal moments, and MQTT payloads; then the
 * gateway's own decode → normalize → buildBundle → MES client.
 *
 * For both profile generations, each against a sandbox of its own configured for it: mes-1.5.2 (MES API
 * Mesures 1.5.2, glucose in the feeding Bundle) and ans-3.2.0 (ans.fhir.fr.mesures 3.2.0, glucose in the
 * biology Bundle with its DiagnosticReport).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileGeneration } from '../../cloud-bridge/biology-bundle.ts';
import { buildBundle } from '../../cloud-bridge/bundle.ts';
import { decodeFrame } from '../../drivers/decode.ts';
import { decodePayload, encodePayload, type Reading as MqttReading } from '../../drivers/mqtt/index.ts';
import { MEALS } from '../../drivers/mqtt/schema.ts';
import { normalize } from '../../drivers/normalize/index.ts';
import type { CoincidentTime, DeviceDateTime, Measurement } from '../../drivers/types.ts';
import { VOCABULARY } from '../../drivers/vocabulary.ts';
import { ERROR_CATALOGUE } from '../../kernel/errors.ts';
import { encodeBloodPressure } from '../../simulators/ble/cuff.ts';
import type { SimNumber } from '../../simulators/ble/encode.ts';
import { encodeGlucoseMeasurement } from '../../simulators/ble/glucometer.ts';
import { encodeSpotCheck } from '../../simulators/ble/oximeter.ts';
import { encodeWeightMeasurement } from '../../simulators/ble/scale.ts';
import { encodeTemperature } from '../../simulators/ble/thermometer.ts';
import { validateMeasurementBundle } from '../../simulators/sandbox/profile-validator.ts';
import type { ProfileGeneration as SandboxGeneration } from '../../simulators/sandbox/profiles.ts';
import { GLUCOMETER, type NationalSide, startNationalSide } from './helpers.ts';

const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
const NOW = Date.UTC(2026, 10, 23, 12);
const ZONE = 'Europe/Paris';
/** The device clock read at NOW, 90 s slow: every dated reading can be corrected. */
const COINCIDENT: CoincidentTime = {
  device: { year: 2026, month: 11, day: 23, hours: 12, minutes: 58, seconds: 30 },
  gatewayMs: NOW,
};

/** Each generation the bridge builds, the sandbox configured for it, and whether glucose goes in the feeding Bundle. */
const GENERATIONS: readonly {
  generation: ProfileGeneration;
  sandbox?: readonly SandboxGeneration[];
  glucoseInFeedingBundle: boolean;
}[] = [
  { generation: 'mes-1.5.2', glucoseInFeedingBundle: true },
  { generation: 'ans-3.2.0', sandbox: ['ans-3.2.0'], glucoseInFeedingBundle: false },
];

const deviceTime: fc.Arbitrary<DeviceDateTime> = fc
  .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2026-11-23T00:00:00Z'), noInvalidDate: true })
  .map((d) => ({
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
  }));
const special: fc.Arbitrary<SimNumber> = fc
  .constantFrom('nan', 'nres', '+inf', '-inf')
  .map((s) => ({ special: s }) as SimNumber);
/** A decimal mantissa × 10^exponent within SFLOAT range, sometimes a special value. */
const sfloat = (min: number, max: number, exponent: number): fc.Arbitrary<SimNumber> =>
  fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min, max }).map((mantissa) => ({ mantissa, exponent })) },
    { weight: 1, arbitrary: special },
  );
const meal = fc.option(fc.constantFrom(...MEALS), { nil: undefined });

/** GLS 0x2A18 frames with a meal (0x2A34) and a sensor status as the arbitraries give them. */
const glucoseFrame = (
  mealOf: fc.Arbitrary<(typeof MEALS)[number] | undefined>,
  status: fc.Arbitrary<number | undefined>,
) =>
  fc
    .record({
      sequence: fc.integer({ min: 0, max: 0xffff }),
      baseTime: deviceTime,
      mol: fc.boolean(),
      value: fc.integer({ min: 5, max: 700 }),
      special: fc.option(special, { nil: undefined, freq: 10 }),
      type: fc.integer({ min: 1, max: 10 }),
      location: fc.constantFrom(1, 2, 3, 4, 15),
      sensorStatus: status,
      meal: mealOf,
    })
    .map((g) => ({
      bytes: encodeGlucoseMeasurement({
        sequence: g.sequence,
        baseTime: g.baseTime,
        unit: g.mol ? 'mol/L' : 'kg/L',
        concentration:
          g.special ??
          (g.mol
            ? { mantissa: Math.round(g.value / 1.8), exponent: -4 }
            : { mantissa: g.value, exponent: -5 }),
        type: g.type,
        location: g.location,
        ...(g.sensorStatus !== undefined ? { sensorStatus: g.sensorStatus } : {}),
      }),
      characteristic: '2A18',
      meal: g.meal,
    }));
const glucose = glucoseFrame(meal, fc.option(fc.integer({ min: 0, max: 0x0fff }), { nil: undefined }));
/** Glucose with its meal stated and no sensor status: sendable far more often. */
const statedGlucose = glucoseFrame(fc.constantFrom(...MEALS), fc.constant(undefined));

/** BLS Measurement Status: bits 0-2 and 5, the pulse range 0-2 in bits 3-4 (3 is reserved). */
const bpStatus = fc
  .tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 2 }), fc.boolean())
  .map(([low, range, position]) => low | (range << 3) | (position ? 0x20 : 0));
const bloodPressure = fc
  .record({
    kpa: fc.boolean(),
    systolic: sfloat(60, 260, 0),
    diastolic: sfloat(30, 160, 0),
    mean: sfloat(40, 200, 0),
    pulse: fc.option(sfloat(25, 230, 0), { nil: undefined }),
    time: fc.option(deviceTime, { nil: undefined }),
    status: fc.option(bpStatus, { nil: undefined }),
  })
  .map((b) => {
    // A kPa cuff sends kPa with one decimal: mmHg × 0.1333 as mantissa, exponent −1.
    const kpa = (n: SimNumber): SimNumber =>
      typeof n === 'object' && 'mantissa' in n
        ? { mantissa: Math.round(n.mantissa * 1.333), exponent: -1 }
        : n;
    const p = (n: SimNumber) => (b.kpa ? kpa(n) : n);
    return {
      bytes: encodeBloodPressure({
        unit: b.kpa ? 'kPa' : 'mmHg',
        systolic: p(b.systolic),
        diastolic: p(b.diastolic),
        meanArterial: p(b.mean),
        ...(b.pulse !== undefined ? { pulse: b.pulse } : {}),
        ...(b.time ? { time: b.time } : {}),
        ...(b.status !== undefined ? { status: b.status } : {}),
      }),
      characteristic: '2A35',
      meal: undefined,
    };
  });
const oximeter = fc
  .record({
    spo2: sfloat(40, 100, 0),
    pulse: sfloat(20, 240, 0),
    time: fc.option(deviceTime, { nil: undefined }),
    // Often absent: a random Device and Sensor Status almost always holds a bit that quarantines.
    measurementStatus: fc.option(
      fc.integer({ min: 0, max: 0x7ff }).map((v) => v << 5),
      { nil: undefined, freq: 2 },
    ),
    deviceStatus: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined, freq: 2 }),
    clockNotSet: fc.boolean(),
  })
  .map((o) => ({
    bytes: encodeSpotCheck({
      spo2: o.spo2,
      pulse: o.pulse,
      ...(o.time ? { time: o.time } : {}),
      ...(o.measurementStatus !== undefined ? { measurementStatus: o.measurementStatus } : {}),
      ...(o.deviceStatus !== undefined ? { deviceStatus: o.deviceStatus } : {}),
      clockNotSet: o.clockNotSet,
    }),
    characteristic: '2A5E',
    meal: undefined,
  }));
const thermometer = fc
  .record({
    fahrenheit: fc.boolean(),
    value: fc.integer({ min: 300, max: 1100 }),
    special: fc.option(special, { nil: undefined, freq: 10 }),
    time: fc.option(deviceTime, { nil: undefined }),
    type: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
  })
  .map((t) => ({
    bytes: encodeTemperature({
      unit: t.fahrenheit ? '[degF]' : 'Cel',
      value: t.special ?? { mantissa: t.value, exponent: -1 },
      ...(t.time ? { time: t.time } : {}),
      ...(t.type !== undefined ? { type: t.type } : {}),
    }),
    characteristic: '2A1C',
    meal: undefined,
  }));
const scale = fc
  .record({
    imperial: fc.boolean(),
    weightRaw: fc.oneof(fc.integer({ min: 200, max: 60000 }), fc.constant(0xffff)),
    time: fc.option(deviceTime, { nil: undefined }),
  })
  .map((w) => ({
    bytes: encodeWeightMeasurement({
      weightRaw: w.weightRaw,
      units: w.imperial ? 'imperial' : 'SI',
      ...(w.time ? { time: w.time } : {}),
    }),
    characteristic: '2A9D',
    meal: undefined,
  }));

const bleFrame = fc.oneof(glucose, bloodPressure, oximeter, thermometer, scale);

const mqttValue = (units: readonly string[], min: number, max: number) =>
  fc.record({
    value: fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
    unit: fc.constantFrom(...units),
    decimals: fc.integer({ min: 0, max: 3 }),
  });
const mqttTime = fc
  .date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2026-11-23T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const mqttReading = fc.oneof(
  fc.record(
    {
      kind: fc.constant('glucose' as const),
      time: mqttTime,
      meal: fc.constantFrom(...MEALS),
      values: fc.record({ glucose: mqttValue(['mg/dL', 'mmol/L'], 1, 1500) }),
    },
    { requiredKeys: ['kind', 'time', 'values'] },
  ),
  fc.record({
    kind: fc.constant('body-weight' as const),
    time: mqttTime,
    values: fc.record({ weight: mqttValue(['kg', '[lb_av]'], 0.1, 700) }),
  }),
  fc.record({
    kind: fc.constant('body-temperature' as const),
    time: mqttTime,
    values: fc.record({ temperature: mqttValue(['Cel', '[degF]'], 20, 110) }),
  }),
) as fc.Arbitrary<MqttReading>;

/**
 * Every forwarded observation of a measurement: delivered after passing the profiles, or held with a code.
 * `clock`: the gateway read the device clock (a coincident timestamp), or the device has none to read.
 */
interface Tally {
  sent: number;
  held: number;
  /** Delivered glucose readings, and those of them that went in the biology Bundle. */
  glucose: number;
  biology: number;
}
const tallyOf = (): Tally => ({ sent: 0, held: 0, glucose: 0, biology: 0 });

async function check(
  side: NationalSide,
  g: (typeof GENERATIONS)[number],
  m: Measurement,
  tally: Tally,
  clock = true,
): Promise<void> {
  const client = side.client({ generation: g.generation });
  const observations = normalize(m, {
    ...(clock ? { coincident: COINCIDENT } : {}),
    timeZone: ZONE,
    nowMs: NOW,
    receivedMs: NOW,
  });
  for (const o of observations.filter((x) => VOCABULARY[x.kind].forwarded)) {
    if (o.quarantine) {
      expect(Object.hasOwn(ERROR_CATALOGUE, o.quarantine.code), o.quarantine.code).toBe(true);
      expect(o.quarantine.code).not.toBe('MEDGW_ERR_BUNDLE_NOT_SENDABLE');
      expect(o.quarantine.reason).toBeTruthy();
      tally.held++;
      continue;
    }
    const r = { id: `drv-${process.pid}-${tally.sent + tally.held}`, observation: o, device: GLUCOMETER };
    const bundle = buildBundle(
      { ...r, patient: { idPe: 'x', oid: '2.25.1' } },
      { solutionOid: SOLUTION_OID, generation: g.generation },
    );
    expect(
      validateMeasurementBundle(bundle, { glucoseInFeedingBundle: g.glucoseInFeedingBundle }),
      JSON.stringify(o),
    ).toEqual([]);
    const before = side.sandbox.observations().length;
    const outcome = await client.send('lou', r);
    expect(outcome, JSON.stringify(o)).toMatchObject({ status: 'delivered' });
    tally.sent++;
    if (o.kind === 'glucose') {
      tally.glucose++;
      if (side.sandbox.observations()[before]?.report) tally.biology++;
    }
  }
}

describe.each(GENERATIONS)(
  'property ($generation): nothing the drivers produce is refused by the national side or disappears',
  (g) => {
    let side: NationalSide;
    beforeAll(async () => {
      side = await startNationalSide(g.sandbox ? { profileGenerations: g.sandbox } : {});
      await side.link('lou', 'lea.bernard');
    });
    afterAll(async () => {
      await side?.close();
    });
    /** Glucose went where the generation puts it: all in the biology Bundle under ans-3.2.0, none under mes-1.5.2. */
    const expectGlucosePlaced = (tally: Tally) => {
      expect(tally.glucose).toBeGreaterThan(0);
      expect(tally.biology).toBe(g.glucoseInFeedingBundle ? 0 : tally.glucose);
    };

    it('BLE frames: delivered (profiles pass, sandbox 200) or quarantined with a coded reason', async () => {
      const tally = tallyOf();
      await fc.assert(
        fc.asyncProperty(bleFrame, fc.boolean(), async (f, clock) => {
          const { measurements = [] } = decodeFrame(f.characteristic, f.bytes);
          for (const m of measurements) {
            await check(
              side,
              g,
              f.meal ? { ...m, context: { ...m.context, meal: f.meal } } : m,
              tally,
              clock,
            );
          }
        }),
        { numRuns: 150 },
      );
      expect(tally.sent).toBeGreaterThan(20);
      expect(tally.held).toBeGreaterThan(20);
    }, 120_000);

    it('BLE glucose with its meal stated: delivered in the Bundle of the generation, or quarantined', async () => {
      const tally = tallyOf();
      await fc.assert(
        fc.asyncProperty(statedGlucose, fc.boolean(), async (f, clock) => {
          const { measurements = [] } = decodeFrame(f.characteristic, f.bytes);
          for (const m of measurements) {
            const context = f.meal ? { ...m.context, meal: f.meal } : m.context;
            await check(side, g, { ...m, context }, tally, clock);
          }
        }),
        { numRuns: 60 },
      );
      expectGlucosePlaced(tally);
    }, 120_000);

    it('MQTT payloads: the same', async () => {
      const tally = tallyOf();
      await fc.assert(
        fc.asyncProperty(mqttReading, async (reading) => {
          const { measurement } = decodePayload('json', encodePayload('json', reading));
          await check(side, g, measurement, tally);
        }),
        { numRuns: 80 },
      );
      expect(tally.sent).toBeGreaterThan(10);
      expectGlucosePlaced(tally);
    }, 120_000);
  },
);
