/**
 * `national.profileGeneration` from the configuration to the wire: the gateway as `medgw start` composes
 * it (pipeline, embedded MQTT broker, embedded sandbox, forwarder component), configured for
 * ans.fhir.fr.mesures 3.2.0. An MQTT glucose reading reaches the embedded sandbox in the biology Bundle
 * (which that sandbox alone takes: the default sandbox refuses it), a weight in the feeding Bundle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { sandboxComponent } from '../../gateway/embedded/sandbox.ts';
import { forwarderComponent } from '../../gateway/forwarder/component.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addDevice, addPatient } from '../../gateway/registry/index.ts';
import { TokenStore } from '../../gateway/storage/tokens-file.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { until } from '../ble-central/harness.ts';
import { approveUserCode } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-generation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('national.profileGeneration', () => {
  it('defaults to mes-1.5.2, takes ans-3.2.0 from the environment, refuses anything else', () => {
    expect(loadConfig({ env: {} }).national.profileGeneration).toBe('mes-1.5.2');
    expect(
      loadConfig({ env: { MEDGW_NATIONAL_PROFILE_GENERATION: 'ans-3.2.0' } }).national.profileGeneration,
    ).toBe('ans-3.2.0');
    expect(() => loadConfig({ env: { MEDGW_NATIONAL_PROFILE_GENERATION: 'ans-3.1.0' } })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_CONFIG' }),
    );
  });

  it('ans-3.2.0: glucose reaches the embedded sandbox in the biology Bundle, a weight in the feeding one', async () => {
    const dataDir = join(root, 'gw');
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        'http.port': 0,
        'http.host': '127.0.0.1',
        'mqtt.host': '127.0.0.1',
        'mqtt.port': 0,
        'national.sandboxPort': 0,
        'national.profileGeneration': 'ans-3.2.0',
      },
    });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, mqttComponent, sandboxComponent, forwarderComponent],
    });
    let device: SimulatedMqttDevice | undefined;
    try {
      const sandbox = gw.services.get('sandbox').current();
      if (!sandbox) throw new Error('no embedded sandbox');
      const clock = { now: () => Date.now() };
      await addPatient(gw.ctx.registry, { id: 'p-gly', displayName: 'Glucose patient' }, clock);
      const { secret } = await addDevice(
        gw.ctx.registry,
        { id: 'gly-1', transport: 'mqtt', patientId: 'p-gly' },
        clock,
      );
      const cli = new PairingClient({ issuer: sandbox.issuer }, new TokenStore(dataDir));
      const flow = await cli.startDeviceLink('p-gly');
      await approveUserCode(sandbox, flow.verificationUri, flow.userCode, { login: 'jean.dupont' });
      await flow.complete();

      const url = gw.endpoints().find((e) => e.name === 'MQTT broker')?.url ?? '';
      device = new SimulatedMqttDevice({ url, deviceId: 'gly-1', secret: secret ?? '' });
      await device.connect();
      for (const [i, kind] of (['glucose', 'body-weight'] as const).entries()) {
        const sent = await device.publish(sampleReading(kind, i + 1, Date.now() - 60_000), 'json');
        expect(sent.receipt.status).toBe('accepted');
      }
      await until(() => gw.ctx.journal.list({ state: 'delivered' }).length === 2, 'delivered', 20_000);
      expect(gw.ctx.journal.list({ deviceId: 'gly-1' }).map((r) => r.state)).toEqual([
        'delivered',
        'delivered',
      ]);
      const received = sandbox.observations();
      const glucose = received.find((o) => o.kind === 'glucose');
      const weight = received.find((o) => o.kind === 'weight');
      expect(glucose?.report?.resource).toMatchObject({
        resourceType: 'DiagnosticReport',
        result: [{ reference: `Observation/${glucose?.id}` }],
      });
      expect(weight).toBeDefined();
      expect(weight?.report).toBeUndefined();
    } finally {
      await device?.close();
      await gw.stop();
    }
  }, 90_000);
});
