/**
 * A continuous glucose monitor (CGMS 0x181F) through the BLE central over the virtual radio, with the
 * generic CGM driver: the profile reads CGM Feature (E2E-CRC), Status and Session Start Time and asks
 * the Specific Ops Control Point for the communication interval; the RACP brings the stored records
 * (Time Offset filter after the cursor), each placed at session start + offset, its E2E-CRC checked.
 * The readings reach the pipeline (kept local for the summaries: journal state `local`); a record whose CRC is
 * wrong is refused with MEDGW_ERR_CGM_CRC; a new sensor session (offsets restart at 0) fetches everything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimCgm } from '../../simulators/ble/cgm.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ID = 'C0:26:DA:00:0C:21';
const DAY = 24 * 60;

describe('BLE central: continuous glucose monitor', () => {
  it('collects a day of records once, then only the new ones, then a new session from its start', async () => {
    const cgm = new SimCgm({ address: ID, sessionMinutes: DAY, recordsPerNotification: 4 });
    h = await harness([cgm], { timing: { cooldownMs: 100 } });
    await h.provision({ id: ID, driver: 'generic-cgm', patientId: 'alice' });
    await h.central.start();
    const first = await h.waitState(ID, 'synced');
    expect(first.committed).toBe(DAY / 5 + 1);
    expect(h.central.get(ID)?.reportedRecords).toBe(DAY / 5 + 1);
    const rows = h.journal.list({ deviceId: ID });
    expect(rows).toHaveLength(DAY / 5 + 1);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    // The sensor values reach the pipeline and are kept local there for the summaries, never quarantined.
    expect(rows.every((r) => r.kind === 'glucose' && r.state === 'local')).toBe(true);
    expect(rows.every((r) => r.reason?.code === 'MEDGW_ERR_CGM_POINT_LOCAL')).toBe(true);
    // Each record at the session start + its Time Offset, on the device clock.
    const start = cgm.sessionStart()!;
    const startIso = `${start.year}-${String(start.month).padStart(2, '0')}-${String(start.day).padStart(2, '0')}T${String(start.hours).padStart(2, '0')}:${String(start.minutes).padStart(2, '0')}:${String(start.seconds).padStart(2, '0')}`;
    expect(rows.map((r) => r.observation?.time.device)).toContain(startIso);
    expect(h.journal.cursor(ID)).toBe(DAY);
    await until(() => !cgm.connected, 'the CGM released after its transfer');

    // Half an hour later: six new records, and only those are fetched (Time Offset ≥ cursor + 1).
    cgm.shiftClock(30 * 60_000);
    expect(cgm.tick()).toHaveLength(6);
    await new Promise((r) => setTimeout(r, 150));
    cgm.advertise();
    const second = await h.waitState(ID, 'synced', 2);
    expect(second.committed).toBe(6);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(DAY / 5 + 7);
    expect(h.journal.cursor(ID)).toBe(DAY + 30);
    await until(() => !cgm.connected, 'released again');

    // A new sensor two hours later: the session restarts at Time Offset 0, below the stored cursor:
    // every record of the new session is fetched.
    cgm.shiftClock(2 * 60 * 60_000);
    cgm.startSession();
    await new Promise((r) => setTimeout(r, 150));
    cgm.advertise();
    const third = await h.waitState(ID, 'synced', 3);
    expect(third.committed).toBe(1);
    expect(h.journal.list({ deviceId: ID })).toHaveLength(DAY / 5 + 8);
    expect(h.journal.cursor(ID)).toBe(0);
  });

  it('refuses a record whose E2E-CRC is wrong with MEDGW_ERR_CGM_CRC and keeps the others', async () => {
    const cgm = new SimCgm({ address: ID, sessionMinutes: 60, badCrc: (offset) => offset === 30 });
    h = await harness([cgm]);
    await h.provision({ id: ID, driver: 'generic-cgm', patientId: 'alice' });
    await h.central.start();
    const synced = await h.waitState(ID, 'synced');
    expect(synced.committed).toBe(12);
    expect(h.central.get(ID)?.session).toMatchObject({ rejected: 1, committed: 12 });
    const offsets = h.journal
      .list({ deviceId: ID })
      .map((r) => r.observation?.context?.['timeOffset'])
      .sort((a, b) => Number(a) - Number(b));
    expect(offsets).not.toContain(30);
    expect(offsets).toHaveLength(12);
    // Counted by the pipeline with its code (and audited there).
    expect(h.pipeline.counters.rejected['MEDGW_ERR_CGM_CRC']).toBe(1);
  });
});
