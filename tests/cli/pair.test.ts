/**
 * `medgw pair` as a person runs it: a real `medgw` process against a gateway whose BLE central runs
 * real noble over the virtual radio. Without an address it lists the nearby devices by number and
 * reads the choice on stdin; with one it runs without a question. It shows the pairing states and,
 * during a glucometer's first sync of hundreds of records, how many are stored so far.
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

const root = mkdtempSync(join(tmpdir(), 'medgw-cli-pair-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A meter on a real radio link: each notification waits a few milliseconds (a BLE connection
 * interval is 7.5 ms or more), so a sync of hundreds of records takes seconds, as in the field.
 */
class LinkPacedMeter extends SimGlucometer {
  protected override async notify(service: string, characteristic: string, data: Buffer): Promise<boolean> {
    await new Promise((r) => setTimeout(r, 8));
    return super.notify(service, characteristic, data);
  }
}

const METER = 'C0:26:DA:00:0A:01';
const SCALE = 'C0:26:DA:00:0A:02';
const RECORDS = 300;

describe('medgw pair', () => {
  it('is refused with a code when no gateway runs on the data directory', async () => {
    const r = await medgw(['pair', '--data-dir', join(root, 'stopped')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MEDGW_ERR_BLE_GATEWAY_NOT_RUNNING');
    expect(r.stdout).toBe('');
  });

  it('lets the person choose a nearby device by number, then shows the states and the sync progress', async () => {
    const dataDir = join(root, 'running');
    const radio = createVirtualRadio();
    radio.add(
      new LinkPacedMeter({
        address: METER,
        records: Array.from({ length: RECORDS }, (_, i) => ({
          baseTime: {
            year: 2026,
            month: 10,
            day: 1 + Math.floor(i / 12),
            hours: 2 * (i % 12),
            minutes: 0,
            seconds: 0,
          },
          concentration: mgdl(70 + (i % 150)),
          context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
        })),
      }),
    );
    radio.add(new SimScale({ address: SCALE }));
    const ble = bleOnRadio(radio);
    const config = loadConfig({ overrides: { dataDir, 'http.port': 0, 'ble.mode': 'hci' } });
    const gw = await startGateway({ config, log: silentLogger(), components: [pipelineComponent, ble] });
    try {
      await addPatient(gw.ctx.registry, { id: 'alice', displayName: 'Alice' }, gw.ctx.clock);
      await addPatient(gw.ctx.registry, { id: 'bob', displayName: 'Bob' }, gw.ctx.clock);
      // wait until both advertise; a choice out of range or no choice at all is refused, nothing paired
      let listed = '';
      for (let i = 0; i < 100 && !(listed.includes(METER) && listed.includes(SCALE)); i++) {
        listed = (await medgw(['pair', '--data-dir', dataDir], '9\n')).stdout;
      }
      expect(listed).toMatch(/#\s+ADDRESS\s+NAME\s+RSSI\s+DRIVER/);
      expect(listed).toContain('pair which device? [1-2]');
      const out = await medgw(['pair', '--data-dir', dataDir], '9\n');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('MEDGW_ERR_USAGE');
      expect(out.stderr).toContain('not one of the numbers 1 to 2');
      const eof = await medgw(['pair', '--data-dir', dataDir], '');
      expect(eof.code).toBe(2);
      expect(eof.stderr).toContain('no choice was given');
      expect(gw.ctx.registry.getDevice(METER)).toBeUndefined();

      // the number of the meter in the listing, as the person reads it
      const row = listed.split('\n').find((l) => l.includes(METER)) ?? '';
      const n = /^\s*(\d+)\s/.exec(row)?.[1];
      expect(n).toMatch(/^[12]$/);
      const paired = await medgw(['pair', '--patient', 'alice', '--data-dir', dataDir], `${n}\n`);
      expect(paired.stderr).toBe('');
      expect(paired.code).toBe(0);
      expect(paired.stdout).toContain(`pairing ${METER} for patient alice`);
      // every step of the state machine, in order
      const steps = ['connecting', 'discovering', 'syncing', 'synced'].map((s) =>
        paired.stdout.indexOf(`  ${s}`),
      );
      expect(steps.every((i) => i > 0)).toBe(true);
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
      // progress while the records come in: growing counts, below the total
      const counts = [...paired.stdout.matchAll(/syncing: (\d+) records/g)].map((m) => Number(m[1]));
      expect(counts.length).toBeGreaterThan(0);
      expect([...counts].sort((a, b) => a - b)).toEqual(counts);
      expect(counts.every((c) => c <= RECORDS)).toBe(true);
      expect(counts.some((c) => c > 0 && c < RECORDS)).toBe(true);
      expect(paired.stdout).toContain(`paired and synced (${RECORDS} readings)`);
      expect(gw.ctx.journal.list({ deviceId: METER, limit: 10_000 })).toHaveLength(RECORDS);
      expect(gw.ctx.registry.getDevice(METER)?.patientId).toBe('alice');

      // with the address: no question asked (scripts), same pairing
      const direct = await medgw(['pair', SCALE, '--patient', 'bob', '--data-dir', dataDir]);
      expect(direct.stderr).toBe('');
      expect(direct.code).toBe(0);
      expect(direct.stdout).not.toContain('pair which device');
      expect(direct.stdout).toContain(`pairing ${SCALE} for patient bob`);
      expect(direct.stdout).toContain('paired and synced');
      expect(gw.ctx.registry.getDevice(SCALE)?.patientId).toBe('bob');
      // nothing left to choose from
      const none = await medgw(['pair', '--data-dir', dataDir], '1\n');
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('MEDGW_ERR_BLE_NOT_DISCOVERED');

      // forget: out of the registry (audited) and out of the central, so it can be paired again
      const forgot = await medgw(['devices', 'forget', METER, '--data-dir', dataDir]);
      expect(forgot.stderr).toBe('');
      expect(forgot.stdout).toBe(`forgot device ${METER} (pair it again to use it)\n`);
      expect(gw.ctx.registry.getDevice(METER)).toBeUndefined();
      expect(gw.ctx.journal.auditList({ limit: 10_000 }).map((e) => [e.event, e.deviceId])).toContainEqual([
        'device.removed',
        METER,
      ]);
      let again = '';
      for (let i = 0; i < 100 && !again.includes(METER); i++) {
        again = (await medgw(['devices', 'discovered', '--data-dir', dataDir])).stdout;
      }
      expect(again).toContain(METER);
    } finally {
      await gw.stop();
    }
  }, 120_000);
});
