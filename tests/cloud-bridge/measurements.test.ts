/**
 * The measurements client against the real sandbox over HTTP: a Bundle per kind accepted, every
 * documented answer provoked and classified (delivered, dead letter, held, re-auth, retry, breaker),
 * a crash-interrupted send settled by search, and a property: no reading the drivers can produce is
 * built into a Bundle the sandbox rejects.
 */
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import { KIND_PROFILES } from '../../cloud-bridge/profiles.ts';
import { decodePayload, encodePayload, type Reading as MqttReading } from '../../drivers/mqtt/index.ts';
import { MEALS } from '../../drivers/mqtt/schema.ts';
import { normalize } from '../../drivers/normalize/index.ts';
import type { Observation } from '../../drivers/types.ts';
import { GLUCOMETER, type NationalSide, sampleObservation, startNationalSide } from './helpers.ts';

let side: NationalSide;
const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
let n = 0;
const reading = (observation: Observation, device = GLUCOMETER): Omit<BridgeReading, 'patient'> => ({
  id: `reading-${process.pid}-${++n}`,
  observation,
  device,
});
const receivedWith = (id: string) =>
  side.sandbox.observations().filter((o) => o.identifier === `urn:oid:${SOLUTION_OID}|${id}`);

beforeAll(async () => {
  side = await startNationalSide();
  await side.link('marie', 'marie.martin');
});
afterAll(async () => {
  await side?.close();
});
afterEach(() => {
  side.sandbox.clearFaults();
});

describe('a Bundle per kind is accepted by the national side', () => {
  it.each(['glucose', 'body-weight', 'blood-pressure', 'heart-rate', 'body-temperature', 'spo2'] as const)(
    '%s → 200, stored once under its identifier, one Device for the glucometer',
    async (kind) => {
      const client = side.client();
      const r = reading(sampleObservation(kind));
      const outcome = await client.send('marie', r);
      expect(outcome).toMatchObject({ status: 'delivered', httpStatus: 200 });
      const stored = receivedWith(r.id);
      expect(stored).toHaveLength(1);
      expect(outcome.status === 'delivered' && outcome.remoteId).toBe(`Observation/${stored[0]?.id}`);
      expect(stored[0]?.idPe).toBe('PE-SBX-0001');
      const devices = side.sandbox.devices().filter((d) => d.key.endsWith('|00-1B-DC-FF-FE-01-02-03'));
      expect(devices).toHaveLength(1);
    },
  );

  it('keeps the device precision in the JSON it sends (2.0 stays 2.0)', async () => {
    const client = side.client();
    const creds = await side.pairing.credentials('marie');
    const glucose = client.bundleFor(reading(sampleObservation('glucose')), creds);
    expect(glucose).toContain('"valueQuantity":{"value":105.0,');
    expect(glucose).toContain('"code":"88365-2"');
    const weight = client.bundleFor(reading(sampleObservation('body-weight')), creds);
    expect(weight).toContain('"value":72.40,');
  });

  it('never sends BMI, a lone panel component or a data-absent value: dead letter without a request', async () => {
    const client = side.client();
    const before = side.sandbox.audit().length;
    const time = { utc: '2026-11-22T07:15:00Z', quality: 'synced' as const };
    const bmi: Observation = {
      kind: 'bmi',
      loinc: '39156-5',
      mdc: '188752',
      value: 23.1,
      decimals: 1,
      unit: 'kg/m2',
      time,
    };
    const lone: Observation = {
      kind: 'systolic',
      loinc: '8480-6',
      mdc: '150021',
      value: 120,
      decimals: 0,
      unit: 'mm[Hg]',
      time,
    };
    const absent: Observation = {
      kind: 'body-weight',
      loinc: '29463-7',
      mdc: '188736',
      dataAbsentReason: 'not-a-number',
      time,
    };
    for (const o of [bmi, lone, absent]) {
      expect(await client.send('marie', reading(o))).toMatchObject({
        status: 'dead-letter',
        code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
      });
    }
    expect(side.sandbox.audit().length).toBe(before);
  });
});

describe('each answer of the national side is classified', () => {
  it('401 → one refresh, one retry, delivered with new tokens', async () => {
    const client = side.client();
    // The provider issues a 1-second access token; the gateway believes it still valid (clock skew).
    side.sandbox.setFaults({ accessTokenTtlSeconds: 1 });
    await side.pairing.refresh('marie');
    side.sandbox.clearFaults();
    const short = await side.store.update('marie', { expiresAt: Date.now() + 3600_000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const r = reading(sampleObservation('body-weight'));
    expect(await client.send('marie', r)).toMatchObject({ status: 'delivered' });
    expect(side.store.get('marie')?.accessToken).not.toBe(short.accessToken);
    expect(receivedWith(r.id)).toHaveLength(1);
    const refused = side.sandbox.audit().filter((a) => a.event === 'observation.refused' && a.status === 401);
    expect(refused.length).toBeGreaterThanOrEqual(1);
  });

  it('401 and a refused refresh → held until the patient links again', async () => {
    await side.link('jean', 'jean.dupont');
    const client = side.client();
    const link = side.store.get('jean');
    const config = await side.pairing.configuration();
    await oidc.tokenRevocation(config, link?.refreshToken ?? '', { token_type_hint: 'refresh_token' });
    await oidc.tokenRevocation(config, link?.accessToken ?? '', { token_type_hint: 'access_token' });
    expect(await client.send('jean', reading(sampleObservation('glucose')))).toMatchObject({
      status: 'held',
      code: 'MEDGW_ERR_REAUTH_REQUIRED',
    });
    expect(side.store.get('jean')?.status).toBe('reauth-required');
  });

  it('403 consent withdrawn for a kind → held; other kinds still delivered', async () => {
    side.sandbox.revokeConsent('sbx-patient-1', 'medgw-gateway', ['spo2']);
    const client = side.client();
    const outcome = await client.send('marie', reading(sampleObservation('spo2')));
    expect(outcome).toMatchObject({ status: 'held', code: 'MEDGW_ERR_MES_CONSENT', httpStatus: 403 });
    expect(outcome.status === 'held' && outcome.message).toBe('Consent not given, access refused.');
    expect(await client.send('marie', reading(sampleObservation('heart-rate')))).toMatchObject({
      status: 'delivered',
    });
  });

  it('422 → dead letter with the national message', async () => {
    const client = side.client({ profileBase: 'https://example.org/fhir/StructureDefinition/' });
    const outcome = await client.send('marie', reading(sampleObservation('body-weight')));
    expect(outcome).toMatchObject({ status: 'dead-letter', code: 'MEDGW_ERR_MES_REJECTED', httpStatus: 422 });
    expect(outcome.status === 'dead-letter' && outcome.nationalMessage).toBeTruthy();
  });

  it('409 OID conflict → dead letter with the national message', async () => {
    side.sandbox.setSolutionOid('medgw-gateway', '2.25.1234');
    try {
      const outcome = await side.client().send('marie', reading(sampleObservation('body-weight')));
      expect(outcome).toMatchObject({
        status: 'dead-letter',
        code: 'MEDGW_ERR_MES_REJECTED',
        httpStatus: 409,
      });
      expect(outcome.status === 'dead-letter' && outcome.nationalMessage).toMatch(
        /^HTTP code 409 :OID conflict/,
      );
    } finally {
      side.sandbox.setSolutionOid('medgw-gateway', SOLUTION_OID);
    }
  });

  it('5xx → retry with exponential backoff and jitter, then delivered once', async () => {
    const now = 1_000_000;
    const client = side.client({ backoff: { baseMs: 1000, maxMs: 60_000 }, now: () => now, random: () => 1 });
    side.sandbox.setFaults({ status: { code: 503, times: 2 } });
    const r = reading(sampleObservation('glucose'));
    const first = await client.send('marie', r, 1);
    expect(first).toMatchObject({
      status: 'retry',
      code: 'MEDGW_ERR_MES_UNAVAILABLE',
      httpStatus: 503,
      retryAt: now + 1000,
    });
    const second = await client.send('marie', r, 2);
    expect(second).toMatchObject({ status: 'retry', retryAt: now + 2000 });
    expect(await client.send('marie', r, 3)).toMatchObject({ status: 'delivered' });
    expect(receivedWith(r.id)).toHaveLength(1);
  });

  it('429 → retry no sooner than Retry-After', async () => {
    const now = 2_000_000;
    const client = side.client({ backoff: { baseMs: 100, maxMs: 1000 }, now: () => now });
    side.sandbox.setFaults({ rateLimit: { retryAfterSeconds: 7, times: 1 } });
    const outcome = await client.send('marie', reading(sampleObservation('glucose')));
    expect(outcome).toMatchObject({ status: 'retry', httpStatus: 429 });
    expect(outcome.status === 'retry' && outcome.retryAt).toBeGreaterThanOrEqual(now + 7000);
  });

  it('a dropped connection → retry, flagged as a send that may have arrived', async () => {
    side.sandbox.setFaults({ drop: { times: 1 } });
    const outcome = await side.client().send('marie', reading(sampleObservation('glucose')));
    expect(outcome).toMatchObject({ status: 'retry', code: 'MEDGW_ERR_MES_NO_ANSWER' });
    expect(outcome.status === 'retry' && outcome.message).toMatch(/^network/);
  });

  it('the circuit breaker stops requests after repeated failures and probes after the pause', async () => {
    let now = 3_000_000;
    const client = side.client({ breaker: { failureThreshold: 2, openMs: 30_000 }, now: () => now });
    side.sandbox.setFaults({ status: { code: 502, times: 10 } });
    const r = reading(sampleObservation('body-temperature'));
    await client.send('marie', r);
    await client.send('marie', r);
    expect(side.sandbox.faults().status?.times).toBe(8);
    expect(client.breakerState).toBe('open');
    const paused = await client.send('marie', r);
    expect(paused).toMatchObject({ status: 'retry', code: 'MEDGW_ERR_MES_CIRCUIT_OPEN' });
    expect(paused.status === 'retry' && paused.retryAt).toBeGreaterThanOrEqual(now + 30_000);
    expect(side.sandbox.faults().status?.times).toBe(8);
    now += 30_000;
    expect(client.breakerState).toBe('half-open');
    side.sandbox.clearFaults();
    expect(await client.send('marie', r)).toMatchObject({ status: 'delivered' });
    expect(client.breakerState).toBe('closed');
    expect(receivedWith(r.id)).toHaveLength(1);
  });
});

describe('a send interrupted by a crash', () => {
  it('is found by searching the patient observations, so it is not sent twice', async () => {
    const client = side.client();
    const r = reading(sampleObservation('blood-pressure', '2026-11-21T19:02:00Z'));
    const sent = await client.send('marie', r);
    expect(sent.status).toBe('delivered');
    expect(await client.findDelivered('marie', r)).toBe(sent.status === 'delivered' ? sent.remoteId : '');
    expect(await client.findDelivered('marie', { ...r, id: `${r.id}-never-sent` })).toBeUndefined();
  });
});

describe('property: the bridge never builds a Bundle the sandbox rejects', () => {
  const utc = fc
    .date({
      min: new Date('2020-01-01T00:00:00Z'),
      max: new Date('2026-11-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => `${d.toISOString().slice(0, 19)}Z`);
  const decimal = (min: number, max: number) =>
    fc.tuple(fc.double({ min, max, noNaN: true }), fc.integer({ min: 0, max: 2 })).map(([v, d]) => ({
      value: Number(v.toFixed(d)),
      decimals: d,
    }));
  const time = (u: string) => ({ utc: u, quality: 'corrected' as const });
  const observation: fc.Arbitrary<Observation> = fc.oneof(
    fc
      .tuple(
        decimal(10, 600),
        fc.constantFrom('preprandial', 'postprandial', 'fasting', 'casual', 'bedtime'),
        utc,
      )
      .map(([d, meal, u]) => ({
        kind: 'glucose' as const,
        loinc: '2345-7',
        mdc: '160184',
        ...d,
        unit: 'mg/dL',
        time: time(u),
        context: { meal },
      })),
    fc.tuple(decimal(0.5, 300), utc).map(([d, u]) => ({
      kind: 'body-weight' as const,
      loinc: '29463-7',
      mdc: '188736',
      ...d,
      unit: 'kg',
      time: time(u),
    })),
    fc.tuple(decimal(25, 240), utc).map(([d, u]) => ({
      kind: 'heart-rate' as const,
      loinc: '8867-4',
      mdc: '149530',
      ...d,
      unit: '/min',
      time: time(u),
    })),
    fc.tuple(decimal(30, 43), utc).map(([d, u]) => ({
      kind: 'body-temperature' as const,
      loinc: '8310-5',
      mdc: '150364',
      ...d,
      unit: 'Cel',
      time: time(u),
    })),
    fc.tuple(decimal(50, 100), utc).map(([d, u]) => ({
      kind: 'spo2' as const,
      loinc: '2708-6',
      mdc: '150456',
      ...d,
      unit: '%',
      time: time(u),
    })),
    fc
      .tuple(decimal(60, 260), decimal(30, 150), fc.option(decimal(40, 200), { nil: undefined }), utc)
      .map(([s, d, m, u]) => ({
        kind: 'blood-pressure' as const,
        loinc: '85354-9',
        mdc: '150020',
        time: time(u),
        components: [
          { kind: 'systolic' as const, loinc: '8480-6', mdc: '150021', ...s, unit: 'mm[Hg]', time: time(u) },
          { kind: 'diastolic' as const, loinc: '8462-4', mdc: '150022', ...d, unit: 'mm[Hg]', time: time(u) },
          ...(m
            ? [
                {
                  kind: 'mean-arterial' as const,
                  loinc: '8478-0',
                  mdc: '150023',
                  ...m,
                  unit: 'mm[Hg]',
                  time: time(u),
                },
              ]
            : []),
        ],
      })),
  );
  const device = fc.oneof(
    fc.constant(GLUCOMETER),
    fc.record({ id: fc.stringMatching(/^[a-z0-9:._-]{1,40}$/) }),
  );

  beforeAll(async () => {
    await side.link('lea', 'lea.bernard');
  });

  it('accepts every generated reading (200)', async () => {
    const client = side.client();
    await fc.assert(
      fc.asyncProperty(observation, device, async (o, d) => {
        const outcome = await client.send('lea', reading(o, d as typeof GLUCOMETER));
        expect(outcome).toMatchObject({ status: 'delivered' });
      }),
      { numRuns: 40 },
    );
  });

  const quantity = (units: readonly string[], min: number, max: number) =>
    fc.record({
      value: fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
      unit: fc.constantFrom(...units),
      decimals: fc.integer({ min: 0, max: 3 }),
    });
  const mqttTime = fc
    .date({
      min: new Date('2001-01-01T00:00:00Z'),
      max: new Date('2026-11-20T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const mqttReading = fc.oneof(
    fc.record({
      kind: fc.constant('glucose' as const),
      time: mqttTime,
      seq: fc.nat({ max: 0xffffffff }),
      meal: fc.constantFrom(...MEALS),
      values: fc.record({ glucose: quantity(['mg/dL'], 20, 600) }),
    }),
    fc.record({
      kind: fc.constant('body-weight' as const),
      time: mqttTime,
      values: fc.record({ weight: quantity(['kg', '[lb_av]'], 2, 300) }),
    }),
    fc.record({
      kind: fc.constant('blood-pressure' as const),
      time: mqttTime,
      values: fc.record(
        {
          systolic: quantity(['mm[Hg]'], 70, 250),
          diastolic: quantity(['mm[Hg]'], 40, 150),
          pulse: quantity(['/min'], 30, 220),
        },
        { requiredKeys: ['systolic', 'diastolic'] },
      ),
    }),
    fc.record({
      kind: fc.constant('body-temperature' as const),
      time: mqttTime,
      values: fc.record({ temperature: quantity(['Cel'], 34, 42) }),
    }),
    fc.record({
      kind: fc.constant('spo2' as const),
      time: mqttTime,
      values: fc.record(
        { spo2: quantity(['%'], 70, 100), pulse: quantity(['/min'], 30, 220) },
        { requiredKeys: ['spo2'] },
      ),
    }),
  ) as fc.Arbitrary<MqttReading>;

  it('device readings through the drivers: delivered, or refused locally before any request, never by the national side', async () => {
    const client = side.client();
    let delivered = 0;
    await fc.assert(
      fc.asyncProperty(mqttReading, async (r) => {
        const { measurement } = decodePayload('json', encodePayload('json', r));
        for (const o of normalize(measurement, { nowMs: Date.UTC(2026, 10, 23) })) {
          const outcome = await client.send('lea', reading(o));
          const sendable = KIND_PROFILES[o.kind] !== undefined && !o.quarantine;
          if (sendable) {
            expect(outcome).toMatchObject({ status: 'delivered' });
            delivered++;
          } else {
            expect(outcome).toMatchObject({ status: 'dead-letter', code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' });
          }
        }
      }),
      { numRuns: 60 },
    );
    expect(delivered).toBeGreaterThan(30);
  });
});
