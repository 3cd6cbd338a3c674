/**
 * The link's minimum GATT spacing (definition `link.gattSpacingMs`): a simulated cuff that refuses a
 * request arriving sooner than 40 ms after the previous one is collected through the real session, the
 * real noble over the virtual radio, the pipeline and the SQLite journal — with a definition spacing
 * its operations 60 ms apart it syncs; with the same definition without spacing the first early request
 * is refused and the connection fails with MEDGW_ERR_BLE_ATT.
 */
import { describe, expect, it } from 'vitest';
import { genericBloodPressure } from '../../drivers/definitions/generic.ts';
import type { DriverDefinition } from '../../drivers/definitions/index.ts';
import { CUFF, syncCuff } from './session-harness.ts';

const sync = (definition: DriverDefinition) => syncCuff(definition, { requestSpacingMs: 40 });

describe('GATT spacing', () => {
  it('a definition that spaces its GATT operations syncs a device that refuses back-to-back requests', async () => {
    const spaced: DriverDefinition = { ...genericBloodPressure, link: { gattSpacingMs: 60 } };
    const r = await sync(spaced);
    expect(r.failure).toBeUndefined();
    expect(r.outcome).toBe('synced');
    expect(r.cuff.requestsTooSoon).toBe(0);
    expect(r.session.counters.committed).toBe(1);
    expect(r.journal.list({ deviceId: CUFF }).map((x) => x.kind)).toEqual(['blood-pressure', 'heart-rate']);
  });

  it('without the spacing the device refuses a request and the connection fails with MEDGW_ERR_BLE_ATT', async () => {
    const r = await sync(genericBloodPressure);
    expect(r.outcome).toBe('MEDGW_ERR_BLE_ATT');
    expect(r.cuff.requestsTooSoon).toBeGreaterThan(0);
    expect(r.journal.list({ deviceId: CUFF })).toHaveLength(0);
  });
});
