/**
 * Ingest end to end in one process over real sockets: the gateway as `medgw start` assembles it
 * (lowdb registry and SQLite journal in a data directory, pipeline, admin API, embedded aedes on TCP,
 * the BLE central with real noble over the virtual radio) receives a glucometer's first sync of 200
 * stored records, a cuff's stored reading, a two-user scale, and an MQTT device publishing JSON, CBOR
 * and protobuf. The journal then holds exactly the expected normalized readings, attributed to the
 * right one of two patients; the scale's unmapped household user waits in quarantine.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import type { BleCentral } from '../../gateway/ble/index.ts';
import { createBleCentral } from '../../gateway/ble/index.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import type { DeviceRecord, OutboxRecord } from '../../gateway/contracts.ts';
import type { ComponentFactory } from '../../gateway/lifecycle.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-e2e-ingest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const METER = 'C0:26:DA:00:0E:01';
const CUFF = 'C0:26:DA:00:0E:02';
const SCALE = 'C0:26:DA:00:0E:03';
const MQTT_ID = 'mq-alice-1';
const RECORDS = 200;

const clock = { now: () => Date.now() };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The glucometer's stored records: one every 10 minutes from 2026-11-20 06:00, 60 to 259 mg/dL. */
function meterRecords() {
  return Array.from({ length: RECORDS }, (_, i) => {
    const minutes = 6 * 60 + i * 10;
    return {
      baseTime: {
        year: 2026,
        month: 11,
        day: 20 + Math.floor(minutes / 1440),
        hours: Math.floor((minutes % 1440) / 60),
        minutes: minutes % 60,
        seconds: 0,
      },
      concentration: mgdl(60 + i),
      context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
    };
  });
}

const p2 = (n: number) => String(n).padStart(2, '0');

describe('ingest in one process: BLE over the virtual radio + MQTT over TCP → journal', () => {
  it('stores exactly the expected normalized readings, attributed to the right patients', async () => {
    const dataDir = join(root, 'gw');
    mkdirSync(dataDir, { recursive: true });
    // the instance as an operator prepares it before the first start: two patients and their devices
    const registry = await LowRegistry.open(join(dataDir, 'registry.json'));
    await addPatient(registry, { id: 'alice', displayName: 'Alice' }, clock);
    await addPatient(registry, { id: 'bob', displayName: 'Bob' }, clock);
    const { secret } = await addDevice(
      registry,
      { id: MQTT_ID, transport: 'mqtt', patientId: 'alice' },
      clock,
    );
    const ble = (d: Partial<DeviceRecord> & { id: string }) =>
      registry.putDevice({ transport: 'ble', bond: 'bonded', createdAt: clock.now(), ...d } as DeviceRecord);
    await ble({ id: METER, driver: 'roche-accu-chek-guide', patientId: 'alice' });
    await ble({ id: CUFF, driver: 'generic-blood-pressure', patientId: 'bob' });
    // household scale: user 0 is Bob; user 1 is nobody the gateway knows
    await ble({ id: SCALE, driver: 'generic-weight-scale', bond: 'none', users: { '0': 'bob' } });

    const radio = createVirtualRadio();
    radio.add(new SimGlucometer({ address: METER, records: meterRecords() }));
    radio.add(
      new SimCuff({
        address: CUFF,
        stored: [
          {
            unit: 'mmHg',
            systolic: 127,
            diastolic: 83,
            meanArterial: 98,
            pulse: 67,
            time: { year: 2026, month: 11, day: 22, hours: 8, minutes: 5, seconds: 0 },
          },
        ],
      }),
    );
    const scale = new SimScale({
      address: SCALE,
      users: [
        { index: 0, consentCode: 1357 },
        { index: 1, consentCode: 2468 },
      ],
    });
    scale.measure({ kg: 81.3, userIndex: 0 });
    scale.measure({ kg: 64.2, userIndex: 1 });
    radio.add(scale);

    let central: BleCentral | undefined;
    // the BLE component of medgw start, with real noble bound to the virtual radio
    const bleComponent: ComponentFactory = {
      name: 'ble',
      after: ['pipeline'],
      async create(ctx, services) {
        const built = await createBleCentral(ctx, services.get('sink'), {
          noble: () => createSimNoble(radio),
        });
        central = built?.central;
        return central;
      },
    };
    const config = loadConfig({
      overrides: {
        dataDir,
        'http.port': 0,
        'http.host': '127.0.0.1',
        'mqtt.host': '127.0.0.1',
        'mqtt.port': 0,
        'ble.mode': 'hci',
      },
    });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, mqttComponent, bleComponent],
    });
    const mqtt = new SimulatedMqttDevice({
      url: gw.endpoints().find((e) => e.name === 'MQTT broker')?.url ?? '',
      deviceId: MQTT_ID,
      secret: secret ?? '',
    });
    try {
      expect(gw.lifecycle.running()).toEqual(
        expect.arrayContaining(['registry', 'journal', 'http', 'pipeline', 'mqtt-broker', 'ble']),
      );
      const c = central;
      if (!c) throw new Error('the BLE central was not built');
      const j = gw.ctx.journal;

      // MQTT: the same device in the three encodings, acknowledged after commit
      await mqtt.connect();
      const published = [
        await mqtt.publish(
          {
            kind: 'glucose',
            time: '2026-11-22T07:30:00+01:00',
            seq: 1,
            values: { glucose: { value: 104, unit: 'mg/dL' } },
            meal: 'fasting',
          },
          'json',
        ),
        await mqtt.publish(
          {
            kind: 'body-weight',
            time: '2026-11-22T07:35:00+01:00',
            seq: 2,
            values: { weight: { value: 70.4, unit: 'kg' } },
          },
          'cbor',
        ),
        await mqtt.publish(
          {
            kind: 'blood-pressure',
            time: '2026-11-22T07:40:00+01:00',
            seq: 3,
            values: {
              systolic: { value: 121, unit: 'mm[Hg]' },
              diastolic: { value: 79, unit: 'mm[Hg]' },
              pulse: { value: 64, unit: '/min' },
            },
          },
          'protobuf',
        ),
      ];
      expect(published.map((p) => p.receipt.status)).toEqual(['accepted', 'accepted', 'accepted']);

      // BLE: the meter and the cuff, already paired, sync as soon as they are seen
      const synced = (id: string) => c.get(id)?.state === 'synced';
      await until(() => synced(METER) && synced(CUFF), 'the meter and the cuff synced', 60_000);
      // the scale needs each household user's consent code: pairing gives them
      await until(() => c.get(SCALE) !== undefined, 'the scale advertising');
      await c.pair(SCALE, {
        udsUsers: [
          { index: 0, consentCode: 1357 },
          { index: 1, consentCode: 2468 },
        ],
      });
      await until(() => synced(SCALE) && j.list({ deviceId: SCALE }).length === 2, 'the scale synced');

      const all = j.list({ limit: 10_000 });
      const by = (deviceId: string) => all.filter((r) => r.deviceId === deviceId);
      const value = (r: OutboxRecord | undefined) => r?.observation?.value;

      // glucometer: every stored record once, in mg/dL, Alice's, with the device time kept
      const meter = by(METER);
      expect(meter).toHaveLength(RECORDS);
      expect(
        meter.every((r) => r.kind === 'glucose' && r.patientId === 'alice' && r.state === 'pending'),
      ).toBe(true);
      expect(meter.every((r) => r.observation?.unit === 'mg/dL')).toBe(true);
      expect(meter.map(value).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
        Array.from({ length: RECORDS }, (_, i) => 60 + i),
      );
      const first = meter.find((r) => value(r) === 60);
      expect(first?.observation?.time.device).toBe('2026-11-20T06:00:00');
      const last = meter.find((r) => value(r) === 60 + RECORDS - 1);
      const lastMin = 6 * 60 + (RECORDS - 1) * 10;
      expect(last?.observation?.time.device).toBe(
        `2026-11-${20 + Math.floor(lastMin / 1440)}T${p2(Math.floor((lastMin % 1440) / 60))}:${p2(lastMin % 60)}:00`,
      );
      // the RACP cursor covers exactly what was committed
      expect(j.cursor(METER)).toBe(RECORDS);

      // cuff: the stored reading as a panel and a heart rate, Bob's
      const cuff = by(CUFF);
      expect(cuff.map((r) => r.kind).sort()).toEqual(['blood-pressure', 'heart-rate']);
      expect(cuff.every((r) => r.patientId === 'bob' && r.state === 'pending')).toBe(true);
      const panel = cuff.find((r) => r.kind === 'blood-pressure')?.observation;
      expect(panel?.components?.map((x) => [x.kind, x.value, x.unit])).toEqual(
        expect.arrayContaining([
          ['systolic', 127, 'mm[Hg]'],
          ['diastolic', 83, 'mm[Hg]'],
        ]),
      );
      expect(value(cuff.find((r) => r.kind === 'heart-rate'))).toBe(67);

      // scale: user 0 is Bob's weight; user 1, unmapped, waits in quarantine with its reason
      const weights = by(SCALE);
      expect(weights.every((r) => r.kind === 'body-weight' && r.observation?.unit === 'kg')).toBe(true);
      const bobs = weights.find((r) => r.patientId === 'bob');
      expect(bobs?.state).toBe('pending');
      expect(value(bobs)).toBe(81.3);
      const stranger = weights.find((r) => r.patientId === undefined);
      expect(stranger?.state).toBe('quarantined');
      expect(stranger?.reason?.code).toBe('MEDGW_ERR_HOUSEHOLD_USER');
      expect(value(stranger)).toBe(64.2);

      // MQTT: the three encodings normalized alike, Alice's
      const mq = by(MQTT_ID);
      expect(mq.map((r) => r.kind).sort()).toEqual([
        'blood-pressure',
        'body-weight',
        'glucose',
        'heart-rate',
      ]);
      expect(mq.every((r) => r.patientId === 'alice' && r.state === 'pending')).toBe(true);
      const kind = (k: string) => mq.find((r) => r.kind === k);
      expect([value(kind('glucose')), kind('glucose')?.observation?.unit]).toEqual([104, 'mg/dL']);
      expect([value(kind('body-weight')), kind('body-weight')?.observation?.unit]).toEqual([70.4, 'kg']);
      expect(
        kind('blood-pressure')
          ?.observation?.components?.filter((x) => x.kind === 'systolic' || x.kind === 'diastolic')
          .map((x) => x.value),
      ).toEqual([121, 79]);
      expect(value(kind('heart-rate'))).toBe(64);
      expect(kind('glucose')?.observation?.time.utc).toBe('2026-11-22T06:30:00.000Z');

      // exactly these, nothing else; per patient as the household splits it
      expect(all).toHaveLength(RECORDS + 2 + 2 + 4);
      expect(all.filter((r) => r.patientId === 'alice')).toHaveLength(RECORDS + 4);
      expect(all.filter((r) => r.patientId === 'bob')).toHaveLength(3);
      expect(j.stats(Date.now()).byState).toMatchObject({ pending: RECORDS + 7, quarantined: 1 });

      // a second publication of the same message collapses into the stored reading
      const again = await mqtt.publish(
        {
          kind: 'glucose',
          time: '2026-11-22T07:30:00+01:00',
          seq: 1,
          values: { glucose: { value: 104, unit: 'mg/dL' } },
          meal: 'fasting',
        },
        'json',
      );
      expect(again.receipt.status).toBe('duplicate');
      expect(j.list({ limit: 10_000 })).toHaveLength(all.length);
    } finally {
      await mqtt.close().catch(() => undefined);
      await gw.stop();
    }
  }, 120_000);
});
