/**
 * `--ble sim` in medgw start: the simulated scale has its household user registered and holds that
 * user's final weight from start; the `bleSim` service makes the simulated devices take new readings,
 * which reach the journal through real noble, the central and the pipeline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { bleComponent } from '../../gateway/ble/component.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addPatient } from '../../gateway/registry/index.ts';
import { until } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-ble-simctl-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SCALE = 'C0:26:DA:00:00:02';
const CUFF = 'C0:26:DA:00:00:03';

describe('bleSim: the simulated devices of --ble sim take readings on demand', () => {
  it('forwards the held weight once, then each new weighing and cuff reading, for the scale owner', async () => {
    const dataDir = join(root, 'gw');
    const config = loadConfig({ overrides: { dataDir, 'http.port': 0, 'ble.mode': 'sim' } });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, bleComponent],
    });
    try {
      const { registry, journal } = gw.ctx;
      await addPatient(registry, { id: 'pat', displayName: 'P' }, gw.ctx.clock);
      const weights = () => journal.list({ deviceId: SCALE }).filter((r) => r.kind === 'body-weight');
      // pre-paired on first sight, no owner yet: the held weight waits in quarantine for an owner
      await until(() => weights().length === 1, 'the held weight in the journal');
      const first = weights();
      expect(first[0]?.state).toBe('quarantined');
      expect(first[0]?.reason?.code).toBe('MEDGW_ERR_DEVICE_UNASSIGNED');
      const device = registry.getDevice(SCALE);
      expect(device).toBeDefined();
      await registry.putDevice({ ...device!, patientId: 'pat' });

      const sim = gw.services.get('bleSim');
      await sim.measure('scale');
      await until(() => weights().length === 2, 'the new weighing in the journal');
      const two = weights();
      const fresh = two.find((r) => r.id !== first[0]?.id);
      // the registered household user (index 0) of a single-owner scale belongs to its owner
      expect(fresh).toMatchObject({ patientId: 'pat', state: 'pending' });
      expect(fresh?.observation?.unit).toBe('kg');
      expect(fresh?.observation?.value).toBeGreaterThan(60);

      const bp = () => journal.list({ deviceId: CUFF }).filter((r) => r.kind === 'blood-pressure');
      await until(() => bp().length === 1, 'the stored cuff reading');
      await until(() => gw.services.get('ble').get(CUFF)?.connected === true, 'the cuff link');
      await sim.measure('cuff');
      await until(() => bp().length === 2, 'the new cuff reading');
      // the intermediate cuff pressures notified on the live link were counted, never stored
      expect(gw.services.get('ble').get(CUFF)?.session?.intermediate).toBeGreaterThan(0);
      expect(journal.list({ deviceId: CUFF })).toHaveLength(4); // two readings: blood pressure + pulse each
    } finally {
      await gw.stop();
    }
  }, 60_000);
});
