/**
 * `medgw devices discovered` and `medgw devices pair` as a person runs them: real `medgw` processes
 * against a gateway that runs a BLE central on the virtual radio (real noble), through its admin API;
 * a link lost during the first sync is retried by the gateway, and the command waits for that retry;
 * refused with a coded error when no gateway runs (pairing needs the radio) or when it runs without BLE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addPatient } from '../../gateway/registry/index.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { bleOnRadio, medgw } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-cli-ble-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const METER = 'C0:26:DA:00:07:01';
const SCALE = 'C0:26:DA:00:07:02';

describe('medgw devices discovered | pair', () => {
  it('refuses both when no gateway runs on the data directory, saying to start it', async () => {
    const dir = join(root, 'stopped');
    for (const args of [['discovered'], ['pair', METER, '--patient', 'alice']]) {
      const r = await medgw(['devices', ...args, '--data-dir', dir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('MEDGW_ERR_BLE_GATEWAY_NOT_RUNNING');
      expect(r.stderr).toContain('medgw start');
      expect(r.stdout).toBe('');
    }
  });

  it('lists nearby devices with RSSI and driver, then pairs one and follows it until synced', async () => {
    const dataDir = join(root, 'running');
    const radio = createVirtualRadio();
    radio.add(
      new SimGlucometer({
        address: METER,
        // the first connection is lost after one record: the gateway tries again by itself
        faults: { disconnectAfterNotifications: 1 },
        records: [
          {
            baseTime: { year: 2026, month: 11, day: 22, hours: 7, minutes: 0, seconds: 0 },
            concentration: mgdl(101),
            context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
          },
          {
            baseTime: { year: 2026, month: 11, day: 22, hours: 12, minutes: 0, seconds: 0 },
            concentration: mgdl(133),
            context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
          },
        ],
      }),
    );
    radio.add(new SimScale({ address: SCALE }));
    // the BLE component of medgw start, on a radio of our own (nothing pre-paired)
    const ble = bleOnRadio(radio);
    const config = loadConfig({ overrides: { dataDir, 'http.port': 0, 'ble.mode': 'hci' } });
    const gw = await startGateway({ config, log: silentLogger(), components: [pipelineComponent, ble] });
    try {
      await addPatient(gw.ctx.registry, { id: 'alice', displayName: 'Alice' }, gw.ctx.clock);
      let listed: { deviceId: string; rssi?: number; driver?: string; paired: boolean; state: string }[] = [];
      for (let i = 0; i < 50 && listed.length < 2; i++) {
        const r = await medgw(['devices', 'discovered', '--json', '--data-dir', dataDir]);
        expect(r.stderr).toBe('');
        listed = JSON.parse(r.stdout);
      }
      expect(listed.map((d) => d.deviceId).sort()).toEqual([METER, SCALE]);
      for (const d of listed) {
        expect(d.paired).toBe(false);
        expect(d.state).toBe('discovered');
        expect(typeof d.rssi).toBe('number');
        expect(d.driver).toBeTruthy();
      }
      const table = await medgw(['devices', 'discovered', '--data-dir', dataDir]);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/ADDRESS\s+NAME\s+RSSI\s+DRIVER/);
      expect(table.stdout).toMatch(new RegExp(`${METER}.+-\\d+ dBm`));

      // an address nobody advertised: 404 from the central, its code on stderr, exit 2
      const ghost = await medgw(['devices', 'pair', 'C0:26:DA:00:07:09', '--data-dir', dataDir]);
      expect(ghost.code).toBe(2);
      expect(ghost.stderr).toContain('MEDGW_ERR_BLE_NOT_DISCOVERED');
      const badUser = await medgw(['devices', 'pair', SCALE, '--user', '1=123456', '--data-dir', dataDir]);
      expect(badUser.code).toBe(2);
      expect(badUser.stderr).toContain('MEDGW_ERR_USAGE');

      const paired = await medgw([
        'devices',
        'pair',
        METER.toLowerCase(),
        '--patient',
        'alice',
        '--name',
        'Kitchen meter',
        '--data-dir',
        dataDir,
      ]);
      expect(paired.stderr).toBe('');
      expect(paired.code).toBe(0);
      expect(paired.stdout).toContain(`pairing ${METER} for patient alice`);
      // the meter's pairing help, from its model definition (roche-accu-chek-guide)
      expect(paired.stdout).toContain('how to pair it: On the meter, open Settings > Wireless > Pairing');
      expect(paired.stdout).toContain('syncing');
      // the lost link is shown with the gateway's retry, which the command waits for
      expect(paired.stdout).toContain('failed (MEDGW_ERR_BLE_LINK_LOST)');
      expect(paired.stdout).toMatch(/the gateway tries again at \d{4}-/);
      expect(paired.stdout).toMatch(/paired and synced \(\d readings\)/);
      expect(gw.ctx.registry.getDevice(METER)).toMatchObject({ patientId: 'alice', name: 'Kitchen meter' });
      expect(gw.ctx.journal.list({ deviceId: METER })).toHaveLength(2);

      // the paired meter leaves the default listing; --all shows it
      const after = JSON.parse(
        (await medgw(['devices', 'discovered', '--json', '--data-dir', dataDir])).stdout,
      );
      expect(after.map((d: { deviceId: string }) => d.deviceId)).toEqual([SCALE]);
      const all = JSON.parse(
        (await medgw(['devices', 'discovered', '--all', '--json', '--data-dir', dataDir])).stdout,
      );
      expect(all.find((d: { deviceId: string }) => d.deviceId === METER)).toMatchObject({ paired: true });
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('tells that the running gateway has no BLE central (ble.mode off)', async () => {
    const dataDir = join(root, 'off');
    const config = loadConfig({ overrides: { dataDir, 'http.port': 0, 'ble.mode': 'off' } });
    const gw = await startGateway({ config, log: silentLogger(), components: [] });
    try {
      const r = await medgw(['devices', 'discovered', '--data-dir', dataDir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('MEDGW_ERR_BLE_OFF');
    } finally {
      await gw.stop();
    }
  });
});
