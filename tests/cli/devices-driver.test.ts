/**
 * `medgw devices list` names the driver of a BLE device: a device provisioned without one
 * (`medgw devices add --transport ble`, as the demo's pre-paired devices are) gets, in its registry
 * record, the driver its first sync worked with. Real `medgw` processes against a gateway running a
 * BLE central on the virtual radio (real noble), through its admin API.
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
import { bleOnRadio, medgw, ok } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-cli-driver-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const METER = 'C0:26:DA:00:08:01';
const ABSENT = 'C0:26:DA:00:08:09';

/** The DRIVER cell of a device's row in the `devices list` table. */
function driverCell(table: string, id: string): string | undefined {
  const [head, ...rows] = table.trimEnd().split('\n');
  const at = head?.indexOf('DRIVER') ?? -1;
  const row = rows.find((r) => r.startsWith(id));
  return row === undefined || at < 0 ? undefined : row.slice(at).split(/\s+/)[0];
}

describe('medgw devices list: the DRIVER column', () => {
  it('shows the driver a BLE device added without one was paired and synced with', async () => {
    const dataDir = join(root, 'gw');
    const radio = createVirtualRadio();
    radio.add(
      new SimGlucometer({
        address: METER,
        records: [
          {
            baseTime: { year: 2026, month: 11, day: 22, hours: 7, minutes: 0, seconds: 0 },
            concentration: mgdl(104),
            context: { meal: 3 },
          },
        ],
      }),
    );
    const config = loadConfig({ overrides: { dataDir, 'http.port': 0, 'ble.mode': 'hci' } });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, bleOnRadio(radio)],
    });
    try {
      await addPatient(gw.ctx.registry, { id: 'alice', displayName: 'Alice' }, gw.ctx.clock);
      for (const id of [METER, ABSENT]) {
        await ok([
          'devices',
          'add',
          '--transport',
          'ble',
          '--id',
          id,
          '--patient',
          'alice',
          '--data-dir',
          dataDir,
        ]);
      }
      // not synced yet: no driver is known, the cell says so
      const before = await ok(['devices', 'list', '--data-dir', dataDir]);
      expect(driverCell(before, METER)).toBe('-');

      // the simulated meter advertises `meter+ 4000` with the Glucose service: the Accu-Chek Guide definition
      let paired = await medgw(['devices', 'pair', METER, '--data-dir', dataDir]);
      for (let i = 0; i < 50 && paired.stderr.includes('MEDGW_ERR_BLE_NOT_DISCOVERED'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        paired = await medgw(['devices', 'pair', METER, '--data-dir', dataDir]);
      }
      expect(paired.stderr).toBe('');
      expect(paired.stdout).toContain('paired and synced');

      const after = await ok(['devices', 'list', '--data-dir', dataDir]);
      expect(driverCell(after, METER)).toBe('roche-accu-chek-guide');
      // a device never seen keeps no driver
      expect(driverCell(after, ABSENT)).toBe('-');
      const listed = JSON.parse(await ok(['devices', 'list', '--json', '--data-dir', dataDir])) as {
        id: string;
        driver?: string;
      }[];
      expect(listed.find((d) => d.id === METER)?.driver).toBe('roche-accu-chek-guide');
      expect(await ok(['devices', 'show', METER, '--data-dir', dataDir])).toMatch(
        /^driver:\s+roche-accu-chek-guide$/m,
      );
    } finally {
      await gw.stop();
    }
  }, 60_000);
});
