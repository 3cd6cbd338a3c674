/**
 * The time a reading leaves with (Observation.effectiveDateTime, FHIR R4 dateTime), sent to the real
 * sandbox over HTTP: an MQTT device's own offset and fraction of a second survive; a BLE reading
 * corrected by the gateway leaves as its UTC instant; a reading dated at reception is still sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import { decodePayload } from '../../drivers/mqtt/index.ts';
import { normalize } from '../../drivers/normalize/index.ts';
import type { Measurement, Observation } from '../../drivers/types.ts';
import { GLUCOMETER, type NationalSide, startNationalSide } from './helpers.ts';

let side: NationalSide;
const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
let n = 0;

beforeAll(async () => {
  side = await startNationalSide();
  await side.link('marie', 'marie.martin');
});
afterAll(async () => {
  await side?.close();
});

/** Sends one observation and returns the effectiveDateTime the national side stored. */
async function sent(observation: Observation): Promise<unknown> {
  const r: Omit<BridgeReading, 'patient'> = {
    id: `time-${process.pid}-${++n}`,
    observation,
    device: GLUCOMETER,
  };
  const outcome = await side.client().send('marie', r);
  expect(outcome).toMatchObject({ status: 'delivered', httpStatus: 200 });
  const stored = side.sandbox
    .observations()
    .filter((o) => o.identifier === `urn:oid:${SOLUTION_OID}|${r.id}`);
  expect(stored).toHaveLength(1);
  return stored[0]?.resource.effectiveDateTime;
}

const weighing = (time: string) =>
  decodePayload(
    'json',
    new TextEncoder().encode(
      JSON.stringify({ kind: 'body-weight', time, seq: 1, values: { weight: { value: 72.4, unit: 'kg' } } }),
    ),
  ).measurement;

describe('effectiveDateTime', () => {
  it('an MQTT time keeps the offset the device stated and its fraction of a second', async () => {
    const [o] = normalize(weighing('2026-11-22T08:15:07.125-03:30'));
    expect(await sent(o!)).toBe('2026-11-22T08:15:07.125-03:30');
    const [whole] = normalize(weighing('2026-08-10T08:15:00+02:00'));
    expect(await sent(whole!)).toBe('2026-08-10T08:15:00+02:00');
    const [utc] = normalize(weighing('2026-08-10T06:15:00.5Z'));
    expect(await sent(utc!)).toBe('2026-08-10T06:15:00.5+00:00');
  });

  it('a corrected BLE time leaves as its UTC instant; a reading dated at reception is sent too', async () => {
    const m: Measurement = {
      kind: 'body-weight',
      source: '2A9D',
      deviceTime: { year: 2026, month: 8, day: 10, hours: 8, minutes: 33, seconds: 0 },
      components: [{ name: 'weight', value: { mantissa: 724, exponent: -1, value: 72.4 }, unit: 'kg' }],
      final: true,
    };
    // Read in November, the scale 3 minutes fast and keeping summer time: 08:30 civil, UTC+2 → 06:30Z
    const coincident = {
      device: { year: 2026, month: 11, day: 20, hours: 11, minutes: 3, seconds: 0 },
      gatewayMs: Date.UTC(2026, 10, 20, 10, 0),
      dstOffsetMinutes: 0,
    };
    const [o] = normalize(m, { coincident, timeZone: 'Europe/Paris' });
    expect(await sent(o!)).toBe('2026-08-10T06:30:00.000Z');
    const { deviceTime: _none, ...timeless } = m;
    const [r] = normalize(timeless, {
      receivedMs: Date.UTC(2026, 10, 20, 10, 0, 5),
      timeZone: 'Europe/Paris',
    });
    expect(r?.time.quality).toBe('received');
    expect(await sent(r!)).toBe('2026-11-20T10:00:05.000Z');
  });
});
