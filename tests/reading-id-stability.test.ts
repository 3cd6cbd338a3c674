/**
 * Reading ids are persisted (outbox keys, FHIR Observation.identifier): they must never change. These ids
 * and material texts were computed by drivers/reading-id.ts as released; any change to how the material is
 * built (component order, time formatting, absent values, user index) fails here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimal } from '../drivers/ieee11073.ts';
import { type ReadingIdInput, readingId, readingIdMaterial } from '../drivers/reading-id.ts';
import type { DeviceDateTime, Measurement, MeasurementComponent } from '../drivers/types.ts';

const T: DeviceDateTime = { year: 2026, month: 11, day: 22, hours: 8, minutes: 5, seconds: 9 };
const c = (name: MeasurementComponent['name'], mantissa: number, exponent: number, unit: string) => ({
  name,
  value: decimal(mantissa, exponent),
  unit,
});
const absent = (name: MeasurementComponent['name'], unit: string): MeasurementComponent => ({
  name,
  value: { absent: 'not-a-number', raw: 0x07ff },
  unit,
});

const CASES: readonly (readonly [string, ReadingIdInput])[] = [
  [
    'glucose with a sequence number',
    {
      deviceId: 'gm-1',
      kind: 'glucose',
      measurement: {
        kind: 'glucose',
        source: '2A18',
        sequence: 7,
        deviceTime: T,
        components: [c('glucose', 95, -5, 'kg/L')],
        final: true,
      },
    },
  ],
  [
    'system id (upper case) wins over the device id; sequence 0',
    {
      systemId: '0123456789ABCDEF',
      deviceId: 'gm-1',
      kind: 'glucose',
      measurement: {
        kind: 'glucose',
        source: '2A18',
        sequence: 0,
        components: [c('glucose', 1234, -7, 'kg/L')],
        final: true,
      },
    },
  ],
  [
    'cuff panel, device time without offset, user index, components out of order',
    {
      deviceId: 'bp-9',
      kind: 'blood-pressure',
      measurement: {
        kind: 'blood-pressure',
        source: '2A35',
        deviceTime: T,
        userIndex: 2,
        components: [
          c('pulse', 72, 0, '/min'),
          c('systolic', 1215, -1, 'mm[Hg]'),
          c('mean-arterial', 93, 0, 'mm[Hg]'),
          c('diastolic', 80, 0, 'mm[Hg]'),
        ],
        final: true,
      },
    },
  ],
  [
    'heart rate of the same cuff reading (same components, other order, other kind)',
    {
      deviceId: 'bp-9',
      kind: 'heart-rate',
      measurement: {
        kind: 'blood-pressure',
        source: '2A35',
        deviceTime: T,
        userIndex: 2,
        components: [
          c('diastolic', 80, 0, 'mm[Hg]'),
          c('mean-arterial', 93, 0, 'mm[Hg]'),
          c('systolic', 1215, -1, 'mm[Hg]'),
          c('pulse', 72, 0, '/min'),
        ],
        final: true,
      },
    },
  ],
  [
    'MQTT reading, device time with a negative UTC offset, unknown user 255',
    {
      deviceId: 'mqtt-dev',
      kind: 'systolic',
      measurement: {
        kind: 'blood-pressure',
        source: 'mqtt',
        deviceTime: { year: 2026, month: 1, day: 2, hours: 23, minutes: 59, seconds: 59 },
        deviceUtcOffsetMinutes: -150,
        userIndex: 255,
        components: [c('systolic', 180, -1, 'kPa'), c('diastolic', 105, -1, 'kPa')],
        final: true,
      },
    },
  ],
  [
    'MQTT reading with sequence and offset 0 (the sequence places it)',
    {
      deviceId: 'mqtt-dev',
      kind: 'body-weight',
      measurement: {
        kind: 'body-weight',
        source: 'mqtt',
        sequence: 4294967295,
        deviceTime: T,
        deviceUtcOffsetMinutes: 0,
        components: [c('weight', 15000, -2, '[lb_av]')],
        final: true,
      },
    },
  ],
  [
    'absent values, neither sequence nor time (unplaced), early year padded',
    {
      deviceId: 'th-3',
      kind: 'body-temperature',
      measurement: {
        kind: 'body-temperature',
        source: '2A1C',
        components: [
          absent('temperature', 'Cel'),
          { name: 'pulse', value: { absent: 'positive-infinity', raw: 0x07fe }, unit: '/min' },
        ],
        final: true,
      },
    },
  ],
  [
    'year below 1000 and a zero date, positive offset',
    {
      deviceId: 'ox-1',
      kind: 'spo2',
      measurement: {
        kind: 'spo2',
        source: '2A5E',
        deviceTime: { year: 0, month: 0, day: 0, hours: 0, minutes: 0, seconds: 0 },
        deviceUtcOffsetMinutes: 840,
        components: [
          c('pulse-amplitude-index', 35, -1, '%'),
          c('pulse', 61, 0, '/min'),
          c('spo2', 97, 0, '%'),
        ],
        final: true,
      },
    },
  ],
  [
    'body composition: weight, height, bmi in reverse order, negative exponents and mantissas',
    {
      deviceId: 'sc-2',
      kind: 'bmi',
      measurement: {
        kind: 'body-weight',
        source: '2A9D',
        deviceTime: { year: 999, month: 3, day: 4, hours: 5, minutes: 6, seconds: 7 },
        userIndex: 0,
        components: [c('bmi', 227, -1, 'kg/m2'), c('height', 1755, -1, 'cm'), c('weight', -5, 3, 'kg')],
        final: true,
      },
    },
  ],
  [
    'every component name at once, shuffled',
    {
      deviceId: 'all',
      kind: 'glucose',
      measurement: {
        kind: 'glucose',
        source: 'mqtt',
        sequence: 12,
        components: [
          c('spo2', 1, 0, '%'),
          c('cuff-pressure', 2, 0, 'mm[Hg]'),
          c('temperature', 3, 0, 'Cel'),
          c('pulse-amplitude-index', 4, 0, '%'),
          c('mean-arterial', 5, 0, 'mm[Hg]'),
          c('glucose', 6, 0, 'mg/dL'),
          c('weight', 7, 0, 'kg'),
          c('pulse', 8, 0, '/min'),
          c('bmi', 9, 0, 'kg/m2'),
          c('systolic', 10, 0, 'mm[Hg]'),
          c('height', 11, 0, 'cm'),
          c('diastolic', 12, 0, 'mm[Hg]'),
        ],
        final: true,
      },
    },
  ],
];

const PINNED: Record<string, { material: string; id: string }> = {
  'glucose with a sequence number': {
    material: 'medgw-reading-v1|dev:gm-1|glucose|2A18|seq:7|user:-|glucose=95e-5kg/L',
    id: 'r1-50c1f845a2868b6d978771e92e83abe0',
  },
  'system id (upper case) wins over the device id; sequence 0': {
    material: 'medgw-reading-v1|sys:0123456789abcdef|glucose|2A18|seq:0|user:-|glucose=1234e-7kg/L',
    id: 'r1-7ce77c4fa9af97ce957930f97b7a4428',
  },
  'cuff panel, device time without offset, user index, components out of order': {
    material:
      'medgw-reading-v1|dev:bp-9|blood-pressure|2A35|time:2026-11-22T08:05:09|user:2|diastolic=80e0mm[Hg];mean-arterial=93e0mm[Hg];pulse=72e0/min;systolic=1215e-1mm[Hg]',
    id: 'r1-3732d66acd00864da452418bcf587ecb',
  },
  'heart rate of the same cuff reading (same components, other order, other kind)': {
    material:
      'medgw-reading-v1|dev:bp-9|heart-rate|2A35|time:2026-11-22T08:05:09|user:2|diastolic=80e0mm[Hg];mean-arterial=93e0mm[Hg];pulse=72e0/min;systolic=1215e-1mm[Hg]',
    id: 'r1-da7118a30bc0100f5d5077cf7d9bd5be',
  },
  'MQTT reading, device time with a negative UTC offset, unknown user 255': {
    material:
      'medgw-reading-v1|dev:mqtt-dev|systolic|mqtt|time:2026-01-02T23:59:59@-150|user:255|diastolic=105e-1kPa;systolic=180e-1kPa',
    id: 'r1-ef59266f102d81ab3fa2725acc4ab983',
  },
  'MQTT reading with sequence and offset 0 (the sequence places it)': {
    material: 'medgw-reading-v1|dev:mqtt-dev|body-weight|mqtt|seq:4294967295|user:-|weight=15000e-2[lb_av]',
    id: 'r1-0027abca666f3a2159973d1575f8e351',
  },
  'absent values, neither sequence nor time (unplaced), early year padded': {
    material:
      'medgw-reading-v1|dev:th-3|body-temperature|2A1C|unplaced|user:-|pulse=absent:positive-infinity;temperature=absent:not-a-number',
    id: 'r1-8188f3f165f9e0b258e715ab702a6754',
  },
  'year below 1000 and a zero date, positive offset': {
    material:
      'medgw-reading-v1|dev:ox-1|spo2|2A5E|time:0000-00-00T00:00:00@840|user:-|pulse=61e0/min;pulse-amplitude-index=35e-1%;spo2=97e0%',
    id: 'r1-077d4500cc322c352f81ead31103d190',
  },
  'body composition: weight, height, bmi in reverse order, negative exponents and mantissas': {
    material:
      'medgw-reading-v1|dev:sc-2|bmi|2A9D|time:0999-03-04T05:06:07|user:0|bmi=227e-1kg/m2;height=1755e-1cm;weight=-5e3kg',
    id: 'r1-adb4834d01678ffd38ce5e993403c80e',
  },
  'every component name at once, shuffled': {
    material:
      'medgw-reading-v1|dev:all|glucose|mqtt|seq:12|user:-|bmi=9e0kg/m2;cuff-pressure=2e0mm[Hg];diastolic=12e0mm[Hg];glucose=6e0mg/dL;height=11e0cm;mean-arterial=5e0mm[Hg];pulse=8e0/min;pulse-amplitude-index=4e0%;spo2=1e0%;systolic=10e0mm[Hg];temperature=3e0Cel;weight=7e0kg',
    id: 'r1-b0dae309b2fa0d913e5fbf710cf76be9',
  },
};

describe('reading ids never change', () => {
  for (const [name, input] of CASES) {
    it(name, () => {
      const pinned = PINNED[name];
      expect(pinned).toBeDefined();
      expect(readingIdMaterial(input)).toBe(pinned?.material);
      expect(readingId(input)).toBe(pinned?.id);
    });
  }
  it('do not depend on the order the components arrive in', () => {
    for (const [, input] of CASES) {
      const reversed = {
        ...input,
        measurement: { ...input.measurement, components: [...input.measurement.components].reverse() },
      };
      expect(readingId(reversed)).toBe(readingId(input));
    }
  });
});

describe('a Bluetooth device keeps its reading ids when its system id becomes the canonical EUI-64', () => {
  // Before the System ID was decoded, the gateway stored the 8 bytes as received (hex, upper case);
  // it now stores the EUI-64 OUI first (drivers/codecs/system-id.ts). The same record of the same
  // device must keep its id, or a glucometer re-sending its memory would be delivered twice.
  const record: Measurement = {
    kind: 'glucose',
    source: '2A18',
    sequence: 0,
    components: [c('glucose', 1234, -7, 'kg/L')],
    final: true,
  };
  it('the pinned id of the stored wire-order text comes out of the canonical form', () => {
    const input: ReadingIdInput = {
      systemId: 'EF-CD-AB-89-67-45-23-01',
      deviceId: 'gm-1',
      kind: 'glucose',
      measurement: record,
    };
    const pinned = PINNED['system id (upper case) wins over the device id; sequence 0'];
    expect(readingIdMaterial(input)).toBe(pinned?.material);
    expect(readingId(input)).toBe(pinned?.id);
  });
  it('for a real device too: Omron HEM-9200T, stored as 711000FEFF5F49B0, now B0-49-5F-FF-FE-00-10-71', () => {
    const base = { deviceId: 'ble-b0495f001071', kind: 'glucose' as const, measurement: record };
    expect(readingId({ ...base, systemId: 'B0-49-5F-FF-FE-00-10-71' })).toBe(
      readingId({ ...base, systemId: '711000FEFF5F49B0' }),
    );
    expect(readingId({ ...base, systemId: 'B0-49-5F-FF-FE-00-10-71' })).not.toBe(
      readingId({ ...base, systemId: 'B0495FFFFE001071' }),
    );
  });
});

/** The material as first written (sort by localeCompare, Array.join): the definition the ids follow. */
function firstMaterial(input: ReadingIdInput): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const m = input.measurement;
  const who = input.systemId ? `sys:${input.systemId.toLowerCase()}` : `dev:${input.deviceId}`;
  const dt = m.deviceTime;
  const where =
    m.sequence !== undefined
      ? `seq:${m.sequence}`
      : dt
        ? `time:${pad(dt.year, 4)}-${pad(dt.month)}-${pad(dt.day)}T${pad(dt.hours)}:${pad(dt.minutes)}:${pad(dt.seconds)}${m.deviceUtcOffsetMinutes !== undefined ? `@${m.deviceUtcOffsetMinutes}` : ''}`
        : 'unplaced';
  const content = [...m.components]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => {
      const v = c.value;
      return 'absent' in v
        ? `${c.name}=absent:${v.absent}`
        : `${c.name}=${v.mantissa}e${v.exponent}${c.unit}`;
    })
    .join(';');
  const user = m.userIndex !== undefined ? `user:${m.userIndex}` : 'user:-';
  return ['medgw-reading-v1', who, input.kind, m.source, where, user, content].join('|');
}

describe('reading id material, arbitrary measurements', () => {
  const names = [
    'glucose',
    'weight',
    'height',
    'bmi',
    'systolic',
    'diastolic',
    'mean-arterial',
    'pulse',
    'temperature',
    'spo2',
    'pulse-amplitude-index',
    'cuff-pressure',
  ] as const;
  const component = fc.record({
    name: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...names) },
      // names no codec produces today still order as localeCompare does
      { weight: 1, arbitrary: fc.constantFrom('Pulse', 'pulse2', 'é', 'spo', 'a-b', 'ab', '') },
    ),
    value: fc.oneof(
      fc
        .tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -10, max: 5 }))
        .map(([mantissa, exponent]) => decimal(mantissa, exponent)),
      fc.constantFrom('not-a-number', 'error', 'positive-infinity', 'negative-infinity').map((absent) => ({
        absent,
        raw: 0,
      })),
    ),
    unit: fc.constantFrom('mg/dL', 'kPa', 'mm[Hg]', '/min', '%', ''),
  }) as fc.Arbitrary<MeasurementComponent>;
  const field = (max: number) => fc.integer({ min: 0, max });
  const measurement = fc.record(
    {
      kind: fc.constantFrom('glucose', 'blood-pressure', 'spo2'),
      source: fc.constantFrom('mqtt', '2A18', '2A35'),
      sequence: fc.nat(),
      deviceTime: fc.record({
        year: field(12000),
        month: field(13),
        day: field(40),
        hours: field(100),
        minutes: field(120),
        seconds: field(61),
      }),
      deviceUtcOffsetMinutes: fc.integer({ min: -900, max: 900 }),
      userIndex: field(255),
      components: fc.array(component, { maxLength: 6 }),
      final: fc.boolean(),
    },
    { requiredKeys: ['kind', 'source', 'components', 'final'] },
  ) as fc.Arbitrary<Measurement>;

  it('is the text the ids were first computed from', () => {
    fc.assert(
      fc.property(
        measurement,
        fc.constantFrom('glucose', 'heart-rate', 'blood-pressure') as fc.Arbitrary<ReadingIdInput['kind']>,
        fc.option(fc.constantFrom('0123456789ABCDEF', 'aa:bb')),
        (m, kind, systemId) => {
          const input: ReadingIdInput = {
            deviceId: 'dev-1',
            kind,
            measurement: m,
            ...(systemId ? { systemId } : {}),
          };
          expect(readingIdMaterial(input)).toBe(firstMaterial(input));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
