/**
 * `medgw pair` in `ble.mode: dbus`, as a person runs it: a real `medgw` process against a gateway whose
 * BLE component is the one `medgw start` builds (noble's D-Bus bindings and the pairing agent), on the
 * fake BlueZ of a private dbus-daemon. The meter shows a passkey; `medgw pair` asks for it and the
 * person types it. After the meter is reset, the pairing fails with the bond-lost code and a plain
 * explanation, and `medgw pair <address> --again` pairs it anew.
 */
import { describe, expect, it } from 'vitest';
import { BleAdminClient } from '../../gateway/cli/ble-client.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { gatewayOverBluez } from './harness.ts';

const METER = 'C0:26:DA:00:0B:01';

describe('medgw pair over BlueZ', () => {
  it('asks for the passkey the meter shows, pairs and syncs; after a reset, explains the lost bond and pairs again with --again', async () => {
    const { bluez, gw, dataDir, medgw, discovered, close } = await gatewayOverBluez();
    let shown = 0;
    const meter = bluez.add(
      new SimGlucometer({
        address: METER,
        requireBonding: true,
        records: Array.from({ length: 5 }, (_, i) => ({
          baseTime: { year: 2026, month: 11, day: 2, hours: 7 + i, minutes: 0, seconds: 0 },
          concentration: mgdl(95 + i),
          context: { meal: 3 },
        })),
      }),
      // the meter's screen: a new code at each pairing, the test reads it as the person does
      { pairing: 'passkey-entry', passkeys: () => [204_817, 530_912][shown++] ?? 111_111 },
    );
    try {
      await discovered(METER);

      // a code sent while nothing waits for one is refused with its code (409), nothing is paired
      const admin = await BleAdminClient.forDataDir(dataDir);
      const early = await admin.answer(METER, { passkey: 204_817 }).then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      expect(early?.code).toBe('MEDGW_ERR_BLE_NO_PROMPT');

      const paired = await medgw(['pair', METER, '--patient', 'alice'], '204817\n');
      expect(paired.stderr).toBe('');
      expect(paired.stdout).toContain('the device shows a 6-digit code: type it here:');
      expect(paired.stdout).toContain('paired and synced (5 readings)');
      expect(paired.code).toBe(0);
      expect(gw.ctx.journal.list({ deviceId: METER })).toHaveLength(5);
      expect(bluez.device(METER)).toMatchObject({ paired: true, trusted: true });

      // the meter is reset: it forgot the gateway. Pairing it as before fails with the lost bond,
      // explained in plain words with the command that repairs it.
      meter.clearBonds();
      meter.measure({ mgdl: 122, context: { meal: 1 } });
      const lost = await medgw(['pair', METER]);
      expect(lost.code).toBe(1);
      expect(lost.stdout).toContain('MEDGW_ERR_BLE_BOND_LOST');
      expect(lost.stdout).toContain('the device no longer knows this gateway');
      expect(lost.stdout).toContain(`medgw pair ${METER} --again`);

      const again = await medgw(['pair', METER, '--again'], '530912\n');
      expect(again.stderr).toBe('');
      expect(again.stdout).toContain('paired and synced');
      expect(again.code).toBe(0);
      // the records known already collapse, the new one is added
      expect(gw.ctx.journal.list({ deviceId: METER })).toHaveLength(6);
      expect(gw.ctx.registry.getDevice(METER)?.patientId).toBe('alice');
    } finally {
      await close();
    }
  }, 90_000);
});
