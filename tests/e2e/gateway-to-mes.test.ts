/**
 * The gateway as `medgw start` composes it (pipeline, embedded MQTT broker, forwarder component built
 * from the configuration) beside a sandbox: a patient linked by another process (the `medgw patient`
 * command writes the encrypted token store), an MQTT device publishes at QoS 1, the reading reaches the
 * national side exactly once with the gateway's audit trail.
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

const root = mkdtempSync(join(tmpdir(), 'medgw-e2e-gw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('medgw start → Mon espace santé sandbox', () => {
  it('forwards what an MQTT device publishes for a patient linked from another process, once', async () => {
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
    const device = { current: undefined as SimulatedMqttDevice | undefined };
    try {
      expect(gw.lifecycle.running()).toContain('forwarder');
      const clock = { now: () => Date.now() };
      await addPatient(gw.ctx.registry, { id: 'p-mqtt', displayName: 'MQTT patient' }, clock);
      const { secret } = await addDevice(
        gw.ctx.registry,
        { id: 'oxi-1', transport: 'mqtt', patientId: 'p-mqtt' },
        clock,
      );

      // Before the link: the reading is held by the consent gate, nothing is sent.
      const url = gw.endpoints().find((e) => e.name === 'MQTT broker')?.url ?? '';
      device.current = new SimulatedMqttDevice({ url, deviceId: 'oxi-1', secret: secret ?? '' });
      await device.current.connect();
      const early = await device.current.publish(
        sampleReading('body-temperature', 1, Date.now() - 600_000),
        'json',
      );
      expect(early.receipt.status).toBe('accepted');
      await until(() => gw.ctx.journal.list({ state: 'held' }).length === 1, 'held before link', 10_000);
      expect(gw.ctx.journal.list({ state: 'held' })[0]?.reason?.code).toBe('MEDGW_ERR_NOT_LINKED');

      // `medgw patient link` runs in another process: its own token store on the same data directory.
      const cli = new PairingClient({ issuer: sandbox.issuer }, new TokenStore(dataDir));
      const flow = await cli.startDeviceLink('p-mqtt');
      await approveUserCode(sandbox, flow.verificationUri, flow.userCode, { login: 'jean.dupont' });
      await flow.complete();

      const late = await device.current.publish(sampleReading('spo2', 2, Date.now() - 60_000), 'cbor');
      expect(late.receipt.status).toBe('accepted');
      await until(() => gw.ctx.journal.list({ state: 'delivered' }).length >= 3, 'delivered', 20_000);
      const delivered = gw.ctx.journal.list({ deviceId: 'oxi-1' });
      expect(delivered.every((r) => r.state === 'delivered' && r.observation === null)).toBe(true);
      expect(delivered.map((r) => r.kind).sort()).toEqual(['body-temperature', 'heart-rate', 'spo2']);
      const received = sandbox.observations().filter((o) => o.idPe === 'PE-SBX-0002');
      expect(received).toHaveLength(3);
      expect(received.filter((o) => o.duplicateOf)).toEqual([]);
      expect(
        gw.ctx.journal.auditList({ patientId: 'p-mqtt' }).filter((a) => a.event === 'mes.delivered'),
      ).toHaveLength(3);
    } finally {
      await device.current?.close();
      await gw.stop();
      await sandbox.close();
    }
  }, 90_000);
});
