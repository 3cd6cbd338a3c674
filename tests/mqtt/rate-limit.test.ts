/**
 * Per-device rate limit of the embedded broker (token bucket) and fair group commits: a message over
 * the limit is not stored and the device is told why (MEDGW_ERR_MQTT_RATE_LIMITED receipt, counted in
 * its audit summary); QoS 1 gets no PUBACK and the connection closes (the message stays with the
 * device); a device that keeps exceeding is disconnected and may reconnect only after a back-off;
 * other devices carry on; one device's queued flood never holds back another's reading in the
 * group commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { NewReading } from '../../gateway/contracts.ts';
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { DeviceRateLimit } from '../../gateway/mqtt/limits.ts';
import { encodeReading, sampleReading } from '../../simulators/mqtt/payloads.ts';
import { clock, type Harness, startHarness } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-rate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** CONNACK return code of one connection attempt (0 = accepted). */
function connackCode(url: string, id: string, secret: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    c.on('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.on('error', (err) => {
      c.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
  });
}

describe('per-device rate limit', () => {
  it('QoS 1 over the limit: rejected receipt, no PUBACK, back-off before reconnecting, then stored once', async () => {
    let now = Date.now();
    h = await startHarness({
      broker: { now: () => now, rateLimit: { perSecond: 1, burst: 3, backoffSeconds: 30 } },
    });
    const dev = h.device('bp-1', { persistentSession: true });
    await dev.connect();
    const base = Date.now() - 3_600_000;
    for (let seq = 1; seq <= 3; seq++) {
      expect((await dev.publish(sampleReading('glucose', seq, base + seq * 1000))).receipt.status).toBe(
        'accepted',
      );
    }
    const refusal = dev.waitForReceipt(null);
    await expect(
      dev.publishRaw(
        dev.measurementTopic('json'),
        encodeReading('json', sampleReading('glucose', 4, base + 4000)),
      ),
    ).rejects.toThrow(/closed the connection without acknowledging/);
    expect(await refusal).toMatchObject({ status: 'rejected', code: 'MEDGW_ERR_MQTT_RATE_LIMITED' });
    expect(h.broker.counters.rateDisconnects).toBe(1);
    expect(h.journal.list({ deviceId: 'bp-1' })).toHaveLength(3);

    // backing off: even the right secret is refused (CONNACK 3, server unavailable), another device is not
    const secret = h.secrets.get('bp-1') ?? '';
    expect(await connackCode(h.url, 'bp-1', secret)).toBe(3);
    const other = h.device('bp-2');
    await other.connect();
    expect((await other.publish(sampleReading('glucose', 1, base))).receipt.status).toBe('accepted');

    // after the back-off the device comes back and its unacknowledged message is stored, once
    now += 31_000;
    await dev.close();
    const again = h.device('bp-1', { persistentSession: true });
    await again.connect();
    expect((await again.publish(sampleReading('glucose', 4, base + 4000))).receipt.status).toBe('accepted');
    expect(h.journal.list({ deviceId: 'bp-1' })).toHaveLength(4);

    await h.pipeline.rejections.flush();
    const summary = h.journal
      .auditList()
      .find((e) => e.event === 'reading.rejected' && e.deviceId === 'bp-1');
    expect(summary?.detail).toMatchObject({ code: 'MEDGW_ERR_MQTT_RATE_LIMITED', count: 1 });
  });

  it('a QoS 0 garbage flood is cut at the bucket, then the device is disconnected; the other device carries on', async () => {
    h = await startHarness({
      broker: { rateLimit: { perSecond: 1, burst: 5, disconnectAfter: 20, backoffSeconds: 60 } },
    });
    const flooder = h.device('bp-1');
    const quiet = h.device('bp-2');
    await flooder.connect();
    await quiet.connect();
    const closed = new Promise<void>((resolve) => flooder.client?.once('close', () => resolve()));
    for (let i = 0; i < 40 && flooder.client?.connected; i++) {
      flooder.client?.publish(flooder.measurementTopic('json'), Buffer.from('{garbage'), { qos: 0 });
    }
    await closed;
    expect(h.broker.counters.rateDisconnects).toBe(1);
    // only the bucket's worth was decoded; the rest was refused by the limit, not decoded
    expect(h.pipeline.counters.rejected.MEDGW_ERR_PAYLOAD_JSON).toBe(5);
    expect(h.pipeline.counters.rejected.MEDGW_ERR_MQTT_RATE_LIMITED).toBe(20);
    // told why twice (the first message over the limit, then the disconnection), not once per message
    await expect.poll(() => h?.broker.counters.receipts.rejected).toBe(5 + 2);
    expect(h.broker.counters.refused['rate-limited']).toBe(20);
    expect((await quiet.publish(sampleReading('glucose', 1, Date.now() - 60_000))).receipt.status).toBe(
      'accepted',
    );
    await h.pipeline.rejections.flush();
    const summary = h.journal
      .auditList()
      .find((e) => e.event === 'reading.rejected' && e.deviceId === 'bp-1');
    expect(String(summary?.detail?.codes)).toMatch(/MEDGW_ERR_MQTT_RATE_LIMITED=\d+/);
    expect(String(summary?.detail?.codes)).toContain('MEDGW_ERR_PAYLOAD_JSON=5');
  });
});

describe('token bucket and back-off', () => {
  it('refills at perSecond up to burst; back-offs double per disconnection and start over after a quiet time', () => {
    let now = 0;
    const limit = new DeviceRateLimit(
      { perSecond: 2, burst: 4, disconnectAfter: 3, backoffSeconds: 10, maxBackoffSeconds: 40 },
      () => now,
    );
    for (let i = 0; i < 4; i++) expect(limit.take('d').decision).toBe('ok');
    expect(limit.take('d')).toEqual({ decision: 'over', firstOver: true });
    expect(limit.take('d')).toEqual({ decision: 'over', firstOver: false });
    expect(limit.take('d').decision).toBe('disconnect');
    expect(limit.take('other').decision).toBe('ok');
    now += 1_000; // two tokens back
    expect(limit.take('d').decision).toBe('ok');
    expect(limit.take('d').decision).toBe('ok');
    expect(limit.take('d').decision).not.toBe('ok');
    expect(limit.strike('d')).toBe(10_000);
    expect(limit.backoffRemaining('d')).toBe(10_000);
    expect(limit.strike('d')).toBe(20_000);
    expect(limit.strike('d')).toBe(40_000);
    expect(limit.strike('d')).toBe(40_000);
    expect(limit.backoffRemaining('other')).toBe(0);
    now += 40_000 + 40_001; // the back-off ended, then a quiet time as long as the longest one
    expect(limit.backoffRemaining('d')).toBe(0);
    expect(limit.strike('d')).toBe(10_000);
  });
});

describe('fair group commit', () => {
  it("one device's 1,000 queued readings do not hold back another device's one reading", async () => {
    const journal = await ThreadedJournal.open({ path: join(dir, 'fair.db'), clock });
    const commits = new GroupCommit(journal, 256, 64);
    const reading = (deviceId: string, n: number): NewReading => ({
      id: `${deviceId}-${n}`,
      deviceId,
      patientId: 'alice',
      state: 'pending',
      observation: { kind: 'glucose' } as NewReading['observation'],
    });
    const order: string[] = [];
    const all: Promise<unknown>[] = [];
    for (let n = 0; n < 1000; n++) {
      all.push(commits.append([reading('flood', n)]).then(() => order.push(`flood-${n}`)));
    }
    all.push(commits.append([reading('quiet', 0)]).then(() => order.push('quiet-0')));
    await Promise.all(all);
    journal.close();
    // committed in the round after the one already under way (64 appends each), not behind the 1,000
    expect(order.indexOf('quiet-0')).toBeLessThan(2 * 64);
    // and each device keeps its own order
    const flood = order.filter((o) => o.startsWith('flood-'));
    expect(flood).toEqual(flood.map((_, n) => `flood-${n}`));
  });
});
