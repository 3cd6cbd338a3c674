import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { createLogger } from '../../gateway/log.ts';
import { EmbeddedBroker } from '../../gateway/mqtt/broker.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { MqttFleet } from '../../simulators/mqtt/fleet.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';

const clock = { now: () => Date.now() };
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('a fleet of MQTT devices on one gateway', () => {
  it('many devices publish at once, one sends garbage: the others carry on, nothing is lost, no log line holds a value, name or secret', async () => {
    const lines: string[] = [];
    const sinkStream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const log = createLogger({ level: 'debug', destination: sinkStream });
    const registry = await LowRegistry.memory();
    await addPatient(registry, { id: 'patient-fleet-7', displayName: 'Jeanne Fleet' }, clock);
    const members = [];
    for (let i = 0; i < 20; i++) {
      const { secret } = await addDevice(
        registry,
        { id: `fleet-${i}`, transport: 'mqtt', patientId: 'patient-fleet-7' },
        clock,
      );
      members.push({ deviceId: `fleet-${i}`, secret: secret ?? '' });
    }
    const journal = new MemoryJournal({ clock });
    const pipeline = new Pipeline({ journal, registry, clock, log });
    const broker = new EmbeddedBroker({ registry, sink: pipeline, log }, { port: 0, host: '127.0.0.1' });
    await pipeline.start();
    await broker.start();
    stops.push(async () => {
      await broker.stop();
      await pipeline.stop();
    });
    const url = `mqtt://127.0.0.1:${broker.address().port}`;
    const fleet = new MqttFleet({ url, members: members.slice(1), encoding: 'cbor', kind: 'blood-pressure' });
    const noisy = new SimulatedMqttDevice({
      url,
      deviceId: members[0]?.deviceId ?? '',
      secret: members[0]?.secret ?? '',
    });
    stops.push(() => fleet.close());
    stops.push(() => noisy.close());
    await fleet.connect();
    await noisy.connect();
    // a wrong secret on the side, while the fleet publishes
    const intruder = new SimulatedMqttDevice({ url, deviceId: 'fleet-3', secret: 'guess' });

    const [receipts, bad, refused] = await Promise.all([
      fleet.publishAll(5, Date.now()),
      (async () => {
        const out = [];
        for (let i = 0; i < 5; i++)
          out.push((await noisy.publishMalformed(Buffer.from([0x01, 0x02, i]), 'protobuf')).receipt);
        out.push((await noisy.publish(sampleReading('glucose', 99, Date.now() - 60_000))).receipt);
        return out;
      })(),
      intruder.connect().then(
        () => false,
        () => true,
      ),
    ]);
    expect(refused).toBe(true);
    expect(receipts).toHaveLength(19 * 5);
    expect(receipts.every((r) => r.status === 'accepted')).toBe(true);
    expect(
      bad.slice(0, 5).every((r) => r.status === 'rejected' && r.code === 'MEDGW_ERR_PAYLOAD_PROTOBUF'),
    ).toBe(true);
    expect(bad[5]?.status).toBe('accepted');
    // 95 blood-pressure readings → panel + heart rate each, plus one glucose
    expect(journal.list({ limit: 10_000 })).toHaveLength(19 * 5 * 2 + 1);

    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(text).toContain('MEDGW_ERR_PAYLOAD_PROTOBUF');
    for (const forbidden of [
      'patient-fleet-7',
      'Jeanne',
      'fleet-0',
      'mm[Hg]',
      ...members.map((m) => m.secret),
    ]) {
      expect(text, `log must not contain ${forbidden}`).not.toContain(forbidden);
    }
  });
});
