/**
 * MQTT id collision, end to end: four devices whose ids differ only by their separator (`scale.7`,
 * `scale_7`, `scale:7`, `scale-7`) publish over the embedded broker (aedes over TCP); the gateway as
 * `medgw start` composes it forwards their readings to the sandbox over HTTP. Each must reach the
 * national side under a Device of its own (they were one `gw-scale-7` before).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { forwarderComponent } from '../../gateway/forwarder/component.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addDevice, addPatient } from '../../gateway/registry/index.ts';
import { TokenStore } from '../../gateway/storage/tokens-file.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { createSandbox } from '../../simulators/sandbox/index.ts';
import { until } from '../ble-central/harness.ts';
import { approveUserCode } from '../cloud-bridge/helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-e2e-ids-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const IDS = ['scale.7', 'scale_7', 'scale:7', 'scale-7'];

describe('MQTT device ids → national Devices', () => {
  it('four ids that differ only by a separator get four Devices', async () => {
    const sandbox = await createSandbox({ port: 0 });
    const dataDir = join(root, 'gw');
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        'http.port': 0,
        'http.host': '127.0.0.1',
        'mqtt.host': '127.0.0.1',
        'mqtt.port': 0,
        'national.sandboxPort': new URL(sandbox.url).port,
      },
    });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, mqttComponent, forwarderComponent],
    });
    const devices: SimulatedMqttDevice[] = [];
    try {
      const clock = { now: () => Date.now() };
      await addPatient(gw.ctx.registry, { id: 'p-scales', displayName: 'Scales patient' }, clock);
      const cli = new PairingClient({ issuer: sandbox.issuer }, new TokenStore(dataDir));
      const flow = await cli.startDeviceLink('p-scales');
      await approveUserCode(sandbox, flow.verificationUri, flow.userCode, { login: 'jean.dupont' });
      await flow.complete();

      const url = gw.endpoints().find((e) => e.name === 'MQTT broker')?.url ?? '';
      for (const [i, id] of IDS.entries()) {
        const { secret } = await addDevice(
          gw.ctx.registry,
          { id, transport: 'mqtt', patientId: 'p-scales' },
          clock,
        );
        const d = new SimulatedMqttDevice({ url, deviceId: id, secret: secret ?? '' });
        devices.push(d);
        await d.connect();
        const sent = await d.publish(sampleReading('body-weight', i + 1, Date.now() - 60_000), 'json');
        expect(sent.receipt.status).toBe('accepted');
      }
      await until(
        () => gw.ctx.journal.list({ state: 'delivered' }).length === IDS.length,
        'four delivered',
        30_000,
      );

      const received = sandbox.observations().filter((o) => o.idPe === 'PE-SBX-0002');
      expect(received).toHaveLength(IDS.length);
      // Each observation points at its own Device, and the Devices are keyed by four identifiers.
      expect(new Set(received.map((o) => o.deviceId)).size).toBe(IDS.length);
      const keys = sandbox
        .devices()
        .filter((d) => received.some((o) => o.deviceId === d.id))
        .map((d) => d.key.split('|')[1]);
      expect(keys.sort()).toEqual(['gwscale-2d7', 'gwscale-2e7', 'gwscale-3a7', 'gwscale-5f7']);
    } finally {
      for (const d of devices) await d.close();
      await gw.stop();
      await sandbox.close();
    }
  }, 90_000);
});
