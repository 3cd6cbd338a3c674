import { encode as cborEncode } from 'cbor-x';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReading, sampleReading } from '../../simulators/mqtt/payloads.ts';
import { type Harness, silent, startHarness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const minutesAgo = (n: number) => Date.now() - n * 60_000;

/** Connects a raw mqtt.js client and resolves with the CONNACK return code (0 = accepted). */
async function connackCode(url: string, opts: mqtt.IClientOptions): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
    c.on('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.on('error', (err) => {
      c.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
  });
}

describe('embedded broker: authentication (deny by default)', () => {
  it('refuses an unknown device, a wrong secret, a client id that is not the username, and no credentials', async () => {
    h = await startHarness();
    const secret = h.secrets.get('bp-1');
    expect(secret).toBeDefined();
    expect(await connackCode(h.url, { clientId: 'ghost', username: 'ghost', password: 'x' })).toBe(4);
    expect(await connackCode(h.url, { clientId: 'bp-1', username: 'bp-1', password: 'wrong' })).toBe(4);
    expect(await connackCode(h.url, { clientId: 'other', username: 'bp-1', password: secret })).toBe(5);
    expect(await connackCode(h.url, { clientId: 'bp-1' })).toBe(5);
    expect(await connackCode(h.url, { clientId: 'bp-1', username: 'bp-1', password: secret })).toBe(0);
    expect(h.broker.counters.refused).toMatchObject({
      'unknown-device': 1,
      'bad-secret': 1,
      'client-id-mismatch': 1,
      'no-credentials': 1,
    });
    // the simulated device with a bad secret cannot connect either
    await expect(h.device('bp-2', { secret: 'not-the-secret' }).connect()).rejects.toThrow();
  });
});

describe('embedded broker: topics', () => {
  it('refuses a subscription to another device or to #, and closes a connection publishing on another device topic', async () => {
    h = await startHarness();
    const dev = h.device('bp-1');
    await dev.connect();
    const client = dev.client!;
    // SUBACK 0x80 (failure) for both: mqtt.js turns it into a subscribe error
    await expect(client.subscribeAsync('medgw/v1/devices/bp-2/receipts', { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    await expect(client.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(h.broker.counters.refused['subscribe-topic']).toBe(2);

    const payload = encodeReading('json', sampleReading('blood-pressure', 1, minutesAgo(5)));
    await expect(dev.publishRaw('medgw/v1/devices/bp-2/measurements/json', payload)).rejects.toThrow(
      /closed/,
    );
    expect(h.broker.counters.refused['publish-topic']).toBe(1);
    expect(h.journal.list()).toHaveLength(0);
  });

  it('never forwards a receipt of one device to another', async () => {
    h = await startHarness();
    const a = h.device('bp-1');
    const b = h.device('bp-2');
    await a.connect();
    await b.connect();
    await a.publish(sampleReading('blood-pressure', 7, minutesAgo(3)));
    await new Promise((r) => setTimeout(r, 200));
    expect(b.receipts).toHaveLength(0);
  });
});

describe('embedded broker: ingest with receipts', () => {
  it('accepts JSON, CBOR and protobuf readings, attributes them and answers each with a receipt', async () => {
    h = await startHarness();
    const dev = h.device('bp-1');
    await dev.connect();
    const json = await dev.publish(sampleReading('blood-pressure', 1, minutesAgo(30)), 'json');
    const cbor = await dev.publish(sampleReading('glucose', 2, minutesAgo(20)), 'cbor');
    const proto = await dev.publish(sampleReading('body-weight', 3, minutesAgo(10)), 'protobuf');
    for (const [o, seq] of [
      [json, 1],
      [cbor, 2],
      [proto, 3],
    ] as const) {
      expect(o.acked).toBe(true);
      expect(o.receipt).toEqual({ seq, status: 'accepted', code: null, message: null });
    }
    const stored = h.journal.list({ deviceId: 'bp-1' });
    // blood pressure → panel + heart rate; glucose → 1; weight → 1
    expect(stored.map((r) => r.kind).sort()).toEqual([
      'blood-pressure',
      'body-weight',
      'glucose',
      'heart-rate',
    ]);
    expect(stored.every((r) => r.patientId === 'alice' && r.state === 'pending')).toBe(true);
    const glucose = stored.find((r) => r.kind === 'glucose');
    expect(glucose?.observation?.unit).toBe('mg/dL');
    expect(h.pipeline.counters.accepted).toBe(4);
    expect(h.broker.counters.receipts.accepted).toBe(3);
  });

  it('rejects a malformed payload with its code and the same connection carries on', async () => {
    h = await startHarness();
    const dev = h.device('bp-1');
    await dev.connect();
    const bad = await dev.publishMalformed(
      Buffer.from('{"kind":"blood-pressure","seq":9,"values":{}}'),
      'json',
      9,
    );
    expect(bad.acked).toBe(true);
    expect(bad.receipt.status).toBe('rejected');
    expect(bad.receipt.code).toBe('MEDGW_ERR_PAYLOAD_JSON');
    expect(bad.receipt.message).toMatch(/time|values/);
    const garbage = await dev.publishMalformed(Buffer.from([0xff, 0x00, 0x13]), 'cbor');
    expect(garbage.receipt).toMatchObject({ seq: null, status: 'rejected', code: 'MEDGW_ERR_PAYLOAD_CBOR' });
    const huge = await dev.publishMalformed(Buffer.alloc(20_000, 0x20), 'json');
    expect(huge.receipt.code).toBe('MEDGW_ERR_PAYLOAD_TOO_LARGE');

    const good = await dev.publish(sampleReading('spo2', 10, minutesAgo(1)));
    expect(good.receipt.status).toBe('accepted');
    expect(h.pipeline.counters.rejected).toEqual({
      MEDGW_ERR_PAYLOAD_JSON: 1,
      MEDGW_ERR_PAYLOAD_CBOR: 1,
      MEDGW_ERR_PAYLOAD_TOO_LARGE: 1,
    });
    // audited as one summary of the device's window, written off the message path
    await h.pipeline.rejections.flush();
    const summaries = h.journal.auditList().filter((e) => e.event === 'reading.rejected');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.deviceId).toBe('bp-1');
    expect(summaries[0]?.detail).toMatchObject({ transport: 'mqtt', count: 3 });
    expect(String(summaries[0]?.detail?.codes).split(',').sort()).toEqual([
      'MEDGW_ERR_PAYLOAD_CBOR=1',
      'MEDGW_ERR_PAYLOAD_JSON=1',
      'MEDGW_ERR_PAYLOAD_TOO_LARGE=1',
    ]);
  });

  it('collapses a re-published message (same seq) into one reading, while two identical readings stay two', async () => {
    h = await startHarness();
    const dev = h.device('bp-1');
    await dev.connect();
    const at = minutesAgo(15);
    const first = await dev.publish(sampleReading('body-temperature', 21, at));
    const again = await dev.publish(sampleReading('body-temperature', 21, at));
    expect(first.receipt.status).toBe('accepted');
    expect(again.receipt.status).toBe('duplicate');
    // same values and time, but a new record number: a second real reading
    const twin = await dev.publish(sampleReading('body-temperature', 31, at));
    expect(twin.receipt.status).toBe('accepted');
    expect(h.journal.list({ deviceId: 'bp-1' })).toHaveLength(2);
    expect(h.pipeline.counters.duplicate).toBe(1);
  });

  it('quarantines an implausible value and says so in the receipt, keeping it out of the pending queue', async () => {
    h = await startHarness();
    const dev = h.device('bp-1');
    await dev.connect();
    const reading = {
      kind: 'blood-pressure' as const,
      time: sampleReading('glucose', 1, minutesAgo(2)).time,
      seq: 40,
      values: { systolic: { value: 18.9, unit: 'mm[Hg]' }, diastolic: { value: 12, unit: 'mm[Hg]' } },
    };
    const o = await dev.publish(reading);
    expect(o.acked).toBe(true);
    // stored (the device may forget it), and the receipt says it waits for a person's confirmation
    expect(o.receipt).toEqual({
      seq: 40,
      status: 'accepted',
      code: 'MEDGW_ERR_IMPLAUSIBLE_VALUE',
      message: expect.stringMatching(
        /^stored but quarantined: Systolic blood pressure is outside the plausible range .* mm\[Hg\]; it is sent only once confirmed on the gateway's quarantine page$/,
      ),
    });
    expect(h.journal.list({ state: 'quarantined' }).length).toBeGreaterThan(0);
    expect(h.journal.list({ state: 'pending' })).toHaveLength(0);
  });

  it('says quarantined, with the code, for a reading of a shared device that names no household user', async () => {
    h = await startHarness({ devices: { 'scale-1': { users: { '1': 'alice', '2': 'bob' } } } });
    const dev = h.device('scale-1');
    await dev.connect();
    const o = await dev.publish(sampleReading('body-weight', 5, minutesAgo(2)));
    expect(o.receipt).toMatchObject({ seq: 5, status: 'accepted', code: 'MEDGW_ERR_HOUSEHOLD_USER' });
    expect(o.receipt.message).toMatch(/^stored but quarantined: .+; it is sent only once confirmed/);
    expect(h.journal.list({ deviceId: 'scale-1' }).map((r) => r.state)).toEqual(['quarantined']);
  });

  it('names an unknown field in the receipt, stores nothing, and the connection carries on', async () => {
    h = await startHarness();
    const dev = h.device('bp-1');
    await dev.connect();
    const reading = { ...sampleReading('glucose', 12, minutesAgo(2)), patient: 'alice' };
    const json = await dev.publishMalformed(Buffer.from(JSON.stringify(reading)), 'json', 12);
    expect(json.acked).toBe(true);
    expect(json.receipt).toEqual({
      seq: 12,
      status: 'rejected',
      code: 'MEDGW_ERR_PAYLOAD_JSON',
      message: 'json payload: unknown field "patient"',
    });
    const nested = {
      ...sampleReading('glucose', 13, minutesAgo(2)),
      values: { glucose: { value: 104, unit: 'mg/dL', note: 'after lunch' } },
    };
    const cbor = await dev.publishMalformed(Buffer.from(cborEncode(nested)), 'cbor', 13);
    expect(cbor.receipt).toEqual({
      seq: 13,
      status: 'rejected',
      code: 'MEDGW_ERR_PAYLOAD_CBOR',
      message: 'cbor payload: unknown field "values.glucose.note"',
    });
    expect(h.journal.list()).toHaveLength(0);
    expect((await dev.publish(sampleReading('glucose', 14, minutesAgo(1)))).receipt.status).toBe('accepted');
  });
});

describe('embedded broker: receipts follow the subscription', () => {
  /** A raw mqtt.js client as bp-1, subscribed to its receipts at `qos` (or not at all). */
  async function rawDevice(qos: 0 | 1 | undefined) {
    const harness = h as Harness;
    const c = await mqtt.connectAsync(harness.url, {
      clientId: 'bp-1',
      username: 'bp-1',
      password: harness.secrets.get('bp-1'),
      reconnectPeriod: 0,
    });
    const received: { qos: number; seq: unknown }[] = [];
    c.on('message', (_topic, payload, packet) =>
      received.push({ qos: packet.qos, seq: (JSON.parse(payload.toString()) as { seq: unknown }).seq }),
    );
    if (qos !== undefined) await c.subscribeAsync('medgw/v1/devices/bp-1/receipts', { qos });
    return { c, received };
  }

  it('a device subscribed at QoS 0 gets its receipts at QoS 0; one not subscribed gets none, and its PUBACK still', async () => {
    h = await startHarness();
    const topic = 'medgw/v1/devices/bp-1/measurements/json';
    const at0 = await rawDevice(0);
    await at0.c.publishAsync(topic, encodeReading('json', sampleReading('glucose', 1, minutesAgo(3))), {
      qos: 1,
    });
    await expect.poll(() => at0.received).toEqual([{ qos: 0, seq: 1 }]);
    await at0.c.endAsync(true);

    const none = await rawDevice(undefined);
    await none.c.publishAsync(topic, encodeReading('json', sampleReading('glucose', 2, minutesAgo(2))), {
      qos: 1,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(none.received).toEqual([]);
    expect(h.journal.list({ deviceId: 'bp-1' })).toHaveLength(2);
    expect(h.broker.counters.receipts.accepted).toBe(2);
    await none.c.endAsync(true);
  });
});

describe('embedded broker: what is never accepted', () => {
  it('refuses a connection carrying a will message and a retained measurement', async () => {
    h = await startHarness();
    const secret = h.secrets.get('bp-1');
    const will = {
      topic: 'medgw/v1/devices/bp-1/measurements/json',
      payload: encodeReading('json', sampleReading('glucose', 3, minutesAgo(1))),
      qos: 1 as const,
      retain: false,
    };
    expect(await connackCode(h.url, { clientId: 'bp-1', username: 'bp-1', password: secret, will })).toBe(5);
    expect(h.broker.counters.refused.will).toBe(1);

    const dev = h.device('bp-1');
    await dev.connect();
    const closed = new Promise<void>((resolve, reject) => {
      dev.client?.publish(
        dev.measurementTopic('json'),
        encodeReading('json', sampleReading('glucose', 4, minutesAgo(1))),
        { qos: 1, retain: true },
        (err) => (err ? resolve() : reject(new Error('a retained measurement was acknowledged'))),
      );
      dev.client?.once('close', () => resolve());
    });
    await closed;
    expect(h.broker.counters.refused.retained).toBe(1);
    expect(h.journal.list()).toHaveLength(0);
  });
});

describe('embedded broker: packet size', () => {
  it('closes a connection that sends a packet above the limit before buffering it; other devices carry on', async () => {
    h = await startHarness();
    const big = h.device('bp-1');
    const other = h.device('bp-2');
    await big.connect();
    await other.connect();
    await expect(big.publishRaw(big.measurementTopic('json'), Buffer.alloc(200_000, 0x20))).rejects.toThrow(
      /closed/,
    );
    expect(h.broker.counters.refused.oversized).toBe(1);
    const ok = await other.publish(sampleReading('glucose', 3, minutesAgo(2)));
    expect(ok.receipt.status).toBe('accepted');
    expect(h.journal.list({ deviceId: 'bp-1' })).toHaveLength(0);
  });
});

describe('embedded broker: start-up', () => {
  it('a port already in use fails the start with MEDGW_ERR_START_FAILED and leaves nothing running', async () => {
    h = await startHarness();
    const { EmbeddedBroker } = await import('../../gateway/mqtt/broker.ts');
    const second = new EmbeddedBroker(
      { registry: h.registry, sink: h.pipeline, log: silent },
      { port: h.broker.address().port, host: '127.0.0.1' },
    );
    await expect(second.start()).rejects.toMatchObject({ code: 'MEDGW_ERR_START_FAILED' });
    expect(() => second.address()).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_START_FAILED' }));
    await second.stop();
  });
});
