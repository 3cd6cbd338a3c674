import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addDevice, addPatient } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-mqtt-start-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('medgw start with MQTT ingest', () => {
  it('runs the pipeline and the embedded broker (TCP and TLS) as components and stores what a device publishes', async () => {
    const cert = join(root, 'cert.pem');
    const key = join(root, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    const config = loadConfig({
      overrides: {
        dataDir: join(root, 'gw'),
        'http.port': 0,
        'http.host': '127.0.0.1',
        'mqtt.host': '127.0.0.1',
        'mqtt.port': 0,
        'mqtt.tls.port': 0,
        'mqtt.tls.cert': cert,
        'mqtt.tls.key': key,
      },
    });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, mqttComponent],
    });
    const devices: SimulatedMqttDevice[] = [];
    try {
      expect(gw.lifecycle.running()).toEqual(expect.arrayContaining(['pipeline', 'mqtt-broker']));
      const endpoints = gw.endpoints();
      const tcp = endpoints.find((e) => e.name === 'MQTT broker')?.url;
      const tls = endpoints.find((e) => e.name === 'MQTT broker (TLS)')?.url;
      expect(tcp).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      expect(tls).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);

      const clock = { now: () => Date.now() };
      await addPatient(gw.ctx.registry, { id: 'p-start', displayName: 'Start patient' }, clock);
      const { secret } = await addDevice(
        gw.ctx.registry,
        { id: 'start-1', transport: 'mqtt', patientId: 'p-start' },
        clock,
      );
      const plain = new SimulatedMqttDevice({ url: tcp ?? '', deviceId: 'start-1', secret: secret ?? '' });
      const secure = new SimulatedMqttDevice({
        url: tls ?? '',
        deviceId: 'start-1',
        clientId: 'start-1',
        secret: secret ?? '',
        extra: { rejectUnauthorized: false },
      });
      devices.push(plain);
      await plain.connect();
      const a = await plain.publish(sampleReading('spo2', 1, Date.now() - 120_000), 'protobuf');
      expect(a.receipt.status).toBe('accepted');
      await plain.close();
      devices.push(secure);
      await secure.connect();
      const b = await secure.publish(sampleReading('body-temperature', 2, Date.now() - 60_000), 'json');
      expect(b.receipt.status).toBe('accepted');
      const kinds = gw.ctx.journal
        .list({ deviceId: 'start-1' })
        .map((r) => r.kind)
        .sort();
      expect(kinds).toEqual(['body-temperature', 'heart-rate', 'spo2']);
    } finally {
      await Promise.allSettled(devices.map((d) => d.close()));
      await gw.stop();
    }
    expect(gw.lifecycle.running()).toEqual([]);
  });
});
