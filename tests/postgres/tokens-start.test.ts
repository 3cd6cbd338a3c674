/**
 * `medgw start` on storage.kind postgres with the national side: two instances (two data
 * directories, one database, one token key) share the pairing links. A patient linked through one
 * (as `medgw patient link` does, on the shared links) is sent for by the other, and both instances'
 * forwarders refreshing that patient's tokens at once spend the refresh token once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import { type Gateway, startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { forwarderComponent } from '../../gateway/forwarder/component.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addDevice, addPatient } from '../../gateway/registry/operations.ts';
import { openLinks } from '../../gateway/storage/links.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import { approveUserCode } from '../cloud-bridge/helpers.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
let sandbox: Sandbox;
const root = mkdtempSync(join(tmpdir(), 'medgw-pg-start-'));

beforeAll(async () => {
  server = await startPostgres();
  sandbox = await createSandbox({ port: 0 });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

async function until(test: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never: ${what}`);
}

describe('medgw start on storage.kind postgres with the national side', () => {
  it('a patient linked through one instance is sent for by another; their refreshes spend the token once', async () => {
    const env = {
      MEDGW_STORAGE_KIND: 'postgres',
      MEDGW_STORAGE_URL: server.database(),
      MEDGW_TOKEN_KEY: randomBytes(32).toString('hex'),
    };
    const config = (name: string) =>
      loadConfig({
        env,
        overrides: {
          dataDir: join(root, name),
          'http.port': 0,
          'http.host': '127.0.0.1',
          'mqtt.host': '127.0.0.1',
          'mqtt.port': 0,
          'national.sandboxPort': new URL(sandbox.url).port,
        },
      });
    const gateways: Gateway[] = [];
    const devices: SimulatedMqttDevice[] = [];
    // the forwarder reads the token key from the environment, as on a provisioned instance
    const saved = process.env.MEDGW_TOKEN_KEY;
    process.env.MEDGW_TOKEN_KEY = env.MEDGW_TOKEN_KEY;
    try {
      for (const name of ['one', 'two']) {
        gateways.push(
          await startGateway({
            config: config(name),
            log: silentLogger(),
            components: [pipelineComponent, mqttComponent, forwarderComponent],
          }),
        );
      }
      const [one, two] = gateways as [Gateway, Gateway];
      const clock = { now: () => Date.now() };
      await addPatient(one.ctx.registry, { id: 'marie', displayName: 'Marie' }, clock);
      await until(() => two.ctx.registry.getPatient('marie') !== undefined, 'patient on two');
      const { secret } = await addDevice(
        two.ctx.registry,
        { id: 'oxi-1', transport: 'mqtt', patientId: 'marie' },
        clock,
      );

      // `medgw patient link` on instance one's configuration: the shared links
      const links = await openLinks(config('one'), env);
      try {
        const cli = new PairingClient(
          { issuer: sandbox.issuer },
          links.store,
          links.lock ? { lock: links.lock } : {},
        );
        const flow = await cli.startDeviceLink('marie');
        await approveUserCode(sandbox, flow.verificationUri, flow.userCode, { login: 'marie.martin' });
        await flow.complete();
      } finally {
        await links.close();
      }

      // a reading through instance two's broker is delivered with the link made through one
      const url = two.endpoints().find((e) => e.name === 'MQTT broker')?.url ?? '';
      const device = new SimulatedMqttDevice({ url, deviceId: 'oxi-1', secret: secret! });
      devices.push(device);
      await device.connect();
      expect(
        (await device.publish(sampleReading('spo2', 1, Date.now() - 60_000), 'json')).receipt.status,
      ).toBe('accepted');
      await until(() => {
        const stored = two.ctx.journal.list({ deviceId: 'oxi-1' });
        return stored.length > 0 && stored.every((r) => r.state === 'delivered');
      }, 'delivered');
      expect(sandbox.observations().filter((o) => o.idPe === 'PE-SBX-0001').length).toBeGreaterThan(0);

      // both instances' forwarders refresh marie's tokens at once
      const bridges = gateways.map((g) => g.services.get('cloudBridge').current());
      const refreshed = sandbox.audit().filter((e) => e.event === 'token.refreshed').length;
      const creds = await Promise.all(bridges.map((b) => b!.pairing.refresh('marie')));
      expect(sandbox.audit().filter((e) => e.event === 'token.refreshed').length).toBe(refreshed + 1);
      expect(sandbox.audit().filter((e) => e.event === 'token.reuse-revoked')).toEqual([]);
      expect(creds[1]?.accessToken).toBe(creds[0]?.accessToken);
      expect((await bridges[1]!.store.fresh('marie'))?.status).toBe('linked');
    } finally {
      if (saved === undefined) delete process.env.MEDGW_TOKEN_KEY;
      else process.env.MEDGW_TOKEN_KEY = saved;
      await Promise.allSettled(devices.map((d) => d.close()));
      for (const g of gateways.reverse()) await g.stop();
    }
  }, 120_000);
});
