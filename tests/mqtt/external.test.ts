import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { ExternalBrokerClient } from '../../gateway/mqtt/external.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { encodeReading, sampleReading } from '../../simulators/mqtt/payloads.ts';
import { type RunningMosquitto, startMosquitto } from './mosquitto.ts';

const clock = { now: () => Date.now() };
const log = pino({ level: 'silent' });
const DEVICES = ['ext-1', 'ext-2', 'ext-3', 'ext-4'];
const PER_DEVICE = 25;

let broker: RunningMosquitto;
let registry: LowRegistry;
const passwords: Record<string, string> = { 'medgw-gw': 'gateway-secret' };

interface Instance {
  journal: MemoryJournal;
  pipeline: Pipeline;
  client: ExternalBrokerClient;
}

async function gatewayInstance(n: number, group: string): Promise<Instance> {
  const journal = new MemoryJournal({ clock });
  const pipeline = new Pipeline({ journal, registry, clock, log });
  await pipeline.start();
  const client = new ExternalBrokerClient(
    { sink: pipeline, log },
    {
      url: broker.url,
      username: 'medgw-gw',
      password: passwords['medgw-gw'],
      group,
      clientId: `medgw-test-${n}-${process.pid}`,
      reconnectPeriodMs: 200,
    },
  );
  await client.start();
  return { journal, pipeline, client };
}

beforeAll(async () => {
  for (const d of DEVICES) passwords[d] = `pw-${d}-${Math.random().toString(36).slice(2)}`;
  broker = await startMosquitto(passwords, 'medgw-gw');
  registry = await LowRegistry.memory();
  await addPatient(registry, { id: 'p-ext', displayName: 'External patient' }, clock);
  for (const d of DEVICES) await addDevice(registry, { id: d, transport: 'mqtt', patientId: 'p-ext' }, clock);
});

afterAll(async () => {
  await broker?.stop();
});

describe('external broker (real Mosquitto, MQTT 5 shared subscription)', () => {
  it('two gateway instances share the load and every message is committed exactly once across both', async () => {
    const g1 = await gatewayInstance(1, 'share');
    const g2 = await gatewayInstance(2, 'share');
    const devices = DEVICES.map(
      (id) =>
        new SimulatedMqttDevice({
          url: broker.url,
          deviceId: id,
          secret: passwords[id] ?? '',
          encoding: 'cbor',
        }),
    );
    try {
      await Promise.all(devices.map((d) => d.connect()));
      const base = Date.now() - 24 * 3_600_000;
      const receipts = await Promise.all(
        devices.map(async (d) => {
          const out = [];
          for (let seq = 1; seq <= PER_DEVICE; seq++) {
            out.push((await d.publish(sampleReading('glucose', seq, base + seq * 60_000))).receipt);
          }
          return out;
        }),
      );
      const flat = receipts.flat();
      expect(flat).toHaveLength(DEVICES.length * PER_DEVICE);
      expect(flat.every((r) => r.status === 'accepted')).toBe(true);

      const ids1 = g1.journal.list().map((r) => r.id);
      const ids2 = g2.journal.list().map((r) => r.id);
      // shared: both instances took part
      expect(ids1.length).toBeGreaterThan(0);
      expect(ids2.length).toBeGreaterThan(0);
      // exactly once: no reading in both journals, all of them in one
      const both = ids1.filter((id) => ids2.includes(id));
      expect(both).toEqual([]);
      expect(new Set([...ids1, ...ids2]).size).toBe(DEVICES.length * PER_DEVICE);
      expect(g1.client.counters.messages + g2.client.counters.messages).toBe(DEVICES.length * PER_DEVICE);
      expect(g1.client.endpoints()).toEqual([
        { name: 'MQTT external broker (group share)', url: `${broker.url}` },
      ]);
    } finally {
      await Promise.all(devices.map((d) => d.close()));
      await g1.client.stop();
      await g2.client.stop();
    }
  });

  it('the broker enforces device topic rights: a device cannot publish as another one', async () => {
    // a group of its own: the sessions of stopped instances keep their share of the 'share' group
    const g = await gatewayInstance(3, 'acl');
    const intruder = new SimulatedMqttDevice({
      url: broker.url,
      deviceId: 'ext-1',
      secret: passwords['ext-1'] ?? '',
    });
    try {
      await intruder.connect();
      // Mosquitto acknowledges a denied QoS 1 publish of an MQTT 3.1.1 client and drops it
      await intruder.publishRaw(
        'medgw/v1/devices/ext-2/measurements/json',
        encodeReading('json', sampleReading('glucose', 999, Date.now() - 60_000)),
      );
      const own = await intruder.publish(sampleReading('glucose', 1000, Date.now() - 60_000), 'json');
      expect(own.receipt.status).toBe('accepted');
      expect(g.journal.list({ deviceId: 'ext-2' })).toHaveLength(0);
      expect(g.journal.list({ deviceId: 'ext-1' })).toHaveLength(1);
      // and a bad password is refused by the broker
      const wrong = new SimulatedMqttDevice({ url: broker.url, deviceId: 'ext-3', secret: 'wrong' });
      await expect(wrong.connect()).rejects.toThrow();
    } finally {
      await intruder.close();
      await g.client.stop();
    }
  });

  it('no PUBACK before commit: a message the gateway could not store is delivered again after reconnection', async () => {
    const journal = new MemoryJournal({ clock, maxReadings: 0 });
    const pipeline = new Pipeline({ journal, registry, clock, log });
    await pipeline.start();
    let full = true;
    // the journal refuses while "full", then accepts: the broker must deliver the same message again
    const sink = {
      submit: async (s: Parameters<Pipeline['submit']>[0]) =>
        full ? pipeline.submit(s) : accepting.submit(s),
    };
    const open = new MemoryJournal({ clock });
    const accepting = new Pipeline({ journal: open, registry, clock, log });
    await accepting.start();
    const client = new ExternalBrokerClient(
      { sink, log },
      {
        url: broker.url,
        username: 'medgw-gw',
        password: passwords['medgw-gw'],
        group: 'retry',
        clientId: `medgw-retry-${process.pid}`,
        reconnectPeriodMs: 300,
      },
    );
    await client.start();
    const dev = new SimulatedMqttDevice({
      url: broker.url,
      deviceId: 'ext-4',
      secret: passwords['ext-4'] ?? '',
    });
    try {
      await dev.connect();
      const first = dev.waitForReceipt(77);
      await dev.publishRaw(
        dev.measurementTopic('json'),
        encodeReading('json', sampleReading('glucose', 77, Date.now() - 60_000)),
      );
      expect(await first).toMatchObject({ status: 'rejected', code: 'MEDGW_ERR_JOURNAL_FULL' });
      full = false;
      const second = await dev.waitForReceipt(77, 15_000);
      expect(second.status).toBe('accepted');
      expect(open.list({ deviceId: 'ext-4' })).toHaveLength(1);
      expect(client.counters.unacknowledged).toBeGreaterThanOrEqual(1);
    } finally {
      await dev.close();
      await client.stop();
    }
  });
});
