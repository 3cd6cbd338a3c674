/**
 * A weighing that did not settle is never forwarded. Standard scales have no "unstable" flag in the
 * Weight Measurement (WSS 1.0 flags bits 0-3 only, 4-7 RFU): a scale that cannot produce a final
 * weight sends the Weight field's special value 0xFFFF "Measurement Unsuccessful" (with at most its
 * Time Stamp and User ID). The simulated scale encodes it on its own (simulators/ble/scale.ts); the
 * real central counts it (MEDGW_ERR_BLE_WEIGHT_UNSUCCESSFUL) and never hands it on, so the journal has
 * nothing for it, while the final weight of the next weighing goes through.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWeightMeasurement, SimScale } from '../../simulators/ble/scale.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const S = 'C0:26:DA:00:08:01';

describe('BLE central: an unsuccessful weighing (0xFFFF)', () => {
  it('never reaches the journal, while the next final weight of the same user does', async () => {
    const scale = new SimScale({ address: S, users: [{ index: 0, consentCode: 2468 }] });
    const failed = scale.measureUnsuccessful({ userIndex: 0 });
    // what the scale indicates: flags 0x06 (time stamp, user id), weight ff ff, time, user 0 — no BMI
    expect(encodeWeightMeasurement(failed).toString('hex')).toMatch(/^06ffff[0-9a-f]{14}00$/);
    h = await harness([scale]);
    await h.provision({ id: S, driver: 'generic-weight-scale', bond: 'none', patientId: 'alice' });
    await h.central.start();
    await h.waitState(S, 'discovered');
    await h.central.pair(S, { udsUsers: [{ index: 0, consentCode: 2468 }] });
    await h.waitState(S, 'synced');
    const journal = h.journal;
    const rows = () => journal.list({ deviceId: S });
    // the central received it over the radio, counted it, and the journal has nothing for it
    expect(h.central.get(S)?.session).toMatchObject({ dropped: 1, committed: 0 });
    expect(rows()).toEqual([]);
    const before = 0;

    scale.measure({ kg: 71.25, userIndex: 0 });
    await until(() => rows().length === before + 1, 'the final weight in the journal');
    const final = rows().filter((r) => r.state === 'pending');
    expect(final).toHaveLength(1);
    expect(final[0]).toMatchObject({ patientId: 'alice', kind: 'body-weight' });
    expect(final[0]?.observation?.value).toBe(71.25);
  });
});
