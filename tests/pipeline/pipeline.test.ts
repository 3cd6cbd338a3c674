import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { normalize } from '../../drivers/normalize/index.ts';
import type { DeviceDateTime, Measurement } from '../../drivers/types.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, assignDevice, LowRegistry } from '../../gateway/registry/index.ts';

const NOW = Date.UTC(2026, 10, 22, 9, 0, 0); // 10:00 in Paris
const clock = { now: () => NOW };
const log = pino({ level: 'silent' });

function weight(kg: number, at: DeviceDateTime, extra: Partial<Measurement> = {}): Measurement {
  const mantissa = Math.round(kg * 10);
  return {
    kind: 'body-weight',
    source: '2A9D',
    deviceTime: at,
    components: [{ name: 'weight', value: { mantissa, exponent: -1, value: mantissa / 10 }, unit: 'kg' }],
    final: true,
    ...extra,
  };
}

const t = (year: number, month: number, day: number, hours: number, minutes = 0): DeviceDateTime => ({
  year,
  month,
  day,
  hours,
  minutes,
  seconds: 0,
});

let registry: LowRegistry;
let journal: MemoryJournal;
let pipeline: Pipeline;

beforeEach(async () => {
  registry = await LowRegistry.memory();
  for (const id of ['alice', 'bob', 'carol']) await addPatient(registry, { id, displayName: id }, clock);
  await addDevice(registry, { id: 'scale-1', transport: 'ble' }, clock);
  await assignDevice(registry, 'scale-1', { users: { '1': 'alice', '2': 'bob' } });
  await addDevice(registry, { id: 'cuff-1', transport: 'ble', patientId: 'carol' }, clock);
  await addDevice(registry, { id: 'loose-1', transport: 'ble' }, clock);
  journal = new MemoryJournal({ clock });
  pipeline = new Pipeline({ journal, registry, clock, log, timeZone: 'Europe/Paris' });
  await pipeline.start();
});

describe('pipeline: household attribution', () => {
  it('maps user indexes to patients and quarantines unknown, unmapped or missing users with the device time kept', async () => {
    const at = t(2026, 11, 22, 8, 30);
    const ms = [1, 2, 3, 0xff, undefined].map((user, i) =>
      weight(70 + i, at, user !== undefined ? { userIndex: user } : {}),
    );
    const result = await pipeline.submit({ deviceId: 'scale-1', transport: 'ble', measurements: ms });
    expect(result.status).toBe('accepted');
    expect(result.code).toBe('MEDGW_ERR_HOUSEHOLD_USER');
    const records = journal.list({ deviceId: 'scale-1' });
    expect(records).toHaveLength(5);
    const byValue = new Map(records.map((r) => [r.observation?.value, r]));
    expect(byValue.get(70)?.patientId).toBe('alice');
    expect(byValue.get(71)?.patientId).toBe('bob');
    for (const v of [72, 73, 74]) {
      const r = byValue.get(v);
      expect(r?.state).toBe('quarantined');
      expect(r?.patientId).toBeUndefined();
      expect(r?.reason?.code).toBe('MEDGW_ERR_HOUSEHOLD_USER');
      expect(r?.observation?.time.device).toBe('2026-11-22T08:30:00');
    }
    expect(pipeline.counters.accepted).toBe(2);
    expect(pipeline.counters.quarantined).toEqual({ MEDGW_ERR_HOUSEHOLD_USER: 3 });
  });

  it('a device with no patient at all: quarantined with MEDGW_ERR_DEVICE_UNASSIGNED', async () => {
    await pipeline.submit({
      deviceId: 'loose-1',
      transport: 'ble',
      measurements: [weight(80, t(2026, 11, 22, 8))],
    });
    const [r] = journal.list({ deviceId: 'loose-1' });
    expect(r?.state).toBe('quarantined');
    expect(r?.reason?.code).toBe('MEDGW_ERR_DEVICE_UNASSIGNED');
  });

  it('an unknown device is rejected with a code, counted and audited', async () => {
    const r = await pipeline.submit({
      deviceId: 'nobody',
      transport: 'ble',
      measurements: [weight(80, t(2026, 11, 22, 8))],
    });
    expect(r).toMatchObject({ status: 'rejected', code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
    expect(pipeline.counters.rejected).toEqual({ MEDGW_ERR_REGISTRY_UNKNOWN: 1 });
    await pipeline.rejections.flush();
    expect(journal.auditList().some((e) => e.event === 'reading.rejected' && e.deviceId === 'nobody')).toBe(
      true,
    );
  });
});

describe('pipeline: time', () => {
  it('corrects a wrong device clock with the coincident timestamp and flags the reading corrected', async () => {
    // the cuff believes it is 2024-03-01 12:00 when the gateway reads 2026-11-22 09:00Z
    const coincident = { device: t(2024, 3, 1, 12, 0), gatewayMs: NOW };
    const r = await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      coincident,
      measurements: [weight(65, t(2024, 3, 1, 11, 30))],
    });
    expect(r.status).toBe('accepted');
    const [rec] = journal.list({ deviceId: 'cuff-1' });
    expect(rec?.state).toBe('pending');
    expect(rec?.observation?.time).toEqual({
      device: '2024-03-01T11:30:00',
      utc: '2026-11-22T08:30:00.000Z',
      received: '2026-11-22T09:00:00.000Z',
      quality: 'corrected',
    });
  });

  it('quarantines an impossible device time (1970, no coincident timestamp) with its device time kept', async () => {
    await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [weight(65, t(1970, 1, 1, 0, 5))],
    });
    const [rec] = journal.list({ deviceId: 'cuff-1' });
    expect(rec?.state).toBe('quarantined');
    expect(rec?.reason?.code).toBe('MEDGW_ERR_TIME_IMPOSSIBLE');
    expect(rec?.observation?.time).toMatchObject({ device: '1970-01-01T00:05:00', quality: 'untrusted' });
  });

  it('a reading without any device time is dated at reception, with the quality received', async () => {
    const { deviceTime: _none, ...timeless } = weight(66, t(2026, 1, 1, 0));
    await pipeline.submit({ deviceId: 'cuff-1', transport: 'ble', measurements: [timeless] });
    const [rec] = journal.list({ deviceId: 'cuff-1' });
    expect(rec?.observation?.time).toEqual({
      utc: '2026-11-22T09:00:00.000Z',
      received: '2026-11-22T09:00:00.000Z',
      quality: 'received',
    });
  });

  it('reads a stored reading with the configured zone’s rules at its own date', async () => {
    // Read on 2026-11-22 at 09:00Z; the scale shows 10:00, the civil time in Paris (UTC+1): no drift.
    const coincident = { device: t(2026, 11, 22, 10, 0), gatewayMs: NOW };
    const august = weight(64, t(2026, 8, 14, 7, 45));
    const submit = (p: Pipeline, c: typeof coincident & { dstOffsetMinutes?: number }) =>
      p.submit({ deviceId: 'cuff-1', transport: 'ble', coincident: c, measurements: [august] });
    // The device's Local Time Information says it keeps summer time: 07:45 civil on 14 August, UTC+2 → 05:45Z
    await submit(pipeline, { ...coincident, dstOffsetMinutes: 0 });
    expect(journal.list({ deviceId: 'cuff-1' })[0]?.observation?.time).toEqual({
      device: '2026-08-14T07:45:00',
      utc: '2026-08-14T05:45:00.000Z',
      received: '2026-11-22T09:00:00.000Z',
      quality: 'corrected',
    });
    // The same reading through a gateway configured for Sydney (UTC+11 in November, UTC+10 in August):
    // the scale's 10:00 at 09:00Z is then 10 h behind the civil 20:00; 07:45 + 10 h = 17:45 civil on
    // 14 August, UTC+10 → 07:45Z. The configured zone reaches the correction.
    const other = new MemoryJournal({ clock });
    const sydney = new Pipeline({ journal: other, registry, clock, log, timeZone: 'Australia/Sydney' });
    await sydney.start();
    await submit(sydney, { ...coincident, dstOffsetMinutes: 0 });
    expect(other.list({ deviceId: 'cuff-1' })[0]?.observation?.time.utc).toBe('2026-08-14T07:45:00.000Z');
    await sydney.stop();
  });

  it('says when it cannot tell whether the device clock keeps summer time, and still forwards the reading', async () => {
    const coincident = { device: t(2026, 11, 22, 10, 0), gatewayMs: NOW };
    await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      coincident,
      measurements: [weight(64, t(2026, 8, 14, 7, 45))],
    });
    const [rec] = journal.list({ deviceId: 'cuff-1' });
    expect(rec?.state).toBe('pending');
    expect(rec?.observation?.time).toMatchObject({ utc: '2026-08-14T05:45:00.000Z', quality: 'dst-unknown' });
  });
});

describe('pipeline: never lose, never duplicate', () => {
  it('commits the RACP cursor with the readings, collapses re-sent records and skips intermediate values', async () => {
    const records = [1, 2, 3].map((seq) => weight(60 + seq, t(2026, 11, 21, 7 + seq), { sequence: seq }));
    const intermediate = { ...weight(50, t(2026, 11, 21, 7)), final: false };
    const first = await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [...records, intermediate],
      cursor: 3,
    });
    expect(first.status).toBe('accepted');
    expect(journal.cursor('cuff-1')).toBe(3);
    expect(pipeline.counters.intermediate).toBe(1);

    // the device re-sends its whole memory after a reconnection
    const again = await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: records,
      cursor: 3,
    });
    expect(again.status).toBe('duplicate');
    expect(journal.list({ deviceId: 'cuff-1' })).toHaveLength(3);
    expect(pipeline.counters.duplicate).toBe(3);

    // two real identical readings (same value, same minute, different record numbers) stay two
    const twin = weight(61, t(2026, 11, 21, 8), { sequence: 4 });
    const r = await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [twin],
      cursor: 4,
    });
    expect(r.status).toBe('accepted');
    expect(journal.list({ deviceId: 'cuff-1' })).toHaveLength(4);
    expect(journal.cursor('cuff-1')).toBe(4);
  });

  it('after stop() new submissions are refused as retryable and nothing is stored', async () => {
    await pipeline.stop();
    const r = await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [weight(70, t(2026, 11, 22, 8))],
    });
    expect(r).toMatchObject({ status: 'rejected', code: 'MEDGW_ERR_PIPELINE_STOPPED' });
    expect(journal.list()).toHaveLength(0);
  });

  it('concurrent submissions share group commits and each resolves with its own outcome', async () => {
    const subs = Array.from({ length: 40 }, (_, i) =>
      pipeline.submit({
        deviceId: 'cuff-1',
        transport: 'ble',
        measurements: [weight(60 + (i % 5), t(2026, 11, 21, 8), { sequence: 100 + i })],
      }),
    );
    const results = await Promise.all(subs);
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(journal.list({ deviceId: 'cuff-1' })).toHaveLength(40);
    const c = pipeline.commitCounters();
    expect(c.items).toBe(40);
    expect(c.batches).toBeLessThan(40);
  });
});

describe('pipeline: faults', () => {
  it('an internal fault while normalizing refuses that input for good (coded, counted, audited), the next one goes through', async () => {
    let calls = 0;
    const faulty = new Pipeline({
      journal,
      registry,
      clock,
      log,
      normalize: (m, o) => {
        calls += 1;
        if (calls === 1) throw new TypeError('cannot read properties of undefined');
        return normalize(m, o);
      },
    });
    await faulty.start();
    const bad = await faulty.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [weight(70, t(2026, 11, 22, 8))],
    });
    expect(bad).toMatchObject({ status: 'rejected', code: 'MEDGW_ERR_PIPELINE_FAILED' });
    expect(faulty.counters.rejected).toEqual({ MEDGW_ERR_PIPELINE_FAILED: 1 });
    await faulty.rejections.flush();
    expect(
      journal
        .auditList()
        .some((e) => e.event === 'reading.rejected' && e.detail?.code === 'MEDGW_ERR_PIPELINE_FAILED'),
    ).toBe(true);
    const good = await faulty.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [weight(71, t(2026, 11, 22, 8))],
    });
    expect(good.status).toBe('accepted');
  });
});

describe('pipeline: stop', () => {
  it('stop() waits until submissions already taken are committed (also when called twice)', async () => {
    const pending = pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [weight(72, t(2026, 11, 22, 8))],
    });
    const stops = [pipeline.stop(), pipeline.stop()];
    await Promise.all(stops);
    expect(journal.list({ deviceId: 'cuff-1' })).toHaveLength(1);
    expect((await pending).status).toBe('accepted');
  });
});

describe('pipeline: one bad record never blocks a sync', () => {
  it('a record that cannot be normalized is refused alone; the others are stored and the cursor moves past it', async () => {
    const good1 = weight(61, t(2026, 11, 21, 7), { sequence: 11 });
    const bad = {
      ...weight(62, t(2026, 11, 21, 8), { sequence: 12 }),
      components: [
        { name: 'weight' as const, value: { mantissa: 620, exponent: -1, value: 62 }, unit: 'furlong' },
      ],
    };
    const good3 = weight(63, t(2026, 11, 21, 9), { sequence: 13 });
    const r = await pipeline.submit({
      deviceId: 'cuff-1',
      transport: 'ble',
      measurements: [good1, bad, good3],
      cursor: 13,
    });
    expect(r.status).toBe('accepted');
    expect(r.code).toBe('MEDGW_ERR_UNIT');
    expect(
      journal
        .list({ deviceId: 'cuff-1' })
        .map((x) => x.observation?.value)
        .sort(),
    ).toEqual([61, 63]);
    expect(journal.cursor('cuff-1')).toBe(13);
    expect(pipeline.counters.rejected).toEqual({ MEDGW_ERR_UNIT: 1 });
    await pipeline.rejections.flush();
    expect(journal.auditList().filter((e) => e.event === 'reading.rejected')).toHaveLength(1);
  });
});
