/**
 * Several instances, one truth (not timed): three `medgw start` processes on one PostgreSQL and one
 * Mosquitto with dynamic security, 300 MQTT devices publishing at QoS 1; one instance is SIGKILLed in
 * the middle, at a moment it holds claims (sends in flight: the sandbox answers in 100 ms); another
 * instance takes each of those claims over once its lease ran out, searching before any resend, and
 * then the dead one is restarted: the broker
 * delivers what it kept in its session. At the sandbox every reading the broker acknowledged arrives exactly
 * once (none with `duplicateOf`), nothing is lost, `medgw audit verify` passes, and the admin API of
 * any instance shows the whole fleet.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../../drivers/mqtt/index.ts';
import { readingId } from '../../drivers/reading-id.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { encodeReading, type SimReading, sampleReading } from '../../simulators/mqtt/payloads.ts';
import { runMedgw } from '../support/gateway.ts';
import { type Instance, type Site, startSite } from './harness.ts';

/**
 * Longer than a send takes, as docs/storage.md asks: on a loaded machine a living instance's send
 * started 8.6 s after its claim, so with a 5 s lease the claim was taken over, searched for before
 * that POST arrived, and sent twice.
 */
const LEASE_MS = '30000';
const DEVICES = 300;
const PER_DEVICE = 5;
/** The sandbox's three test identities: one local patient each, 100 devices per patient. */
const PATIENTS = [
  { id: 'p-cl-1', login: 'marie.martin' },
  { id: 'p-cl-2', login: 'jean.dupont' },
  { id: 'p-cl-3', login: 'lea.bernard' },
];
const BASE = Date.now() - 24 * 3_600_000;
const reading = (d: number, seq: number): SimReading =>
  sampleReading('glucose', seq, BASE + d * 60_000 + seq * 1_000);

let site: Site;
const instances = new Map<number, Instance>();

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The prefix of the claims an instance's journal takes: `<host>:<data directory>/<pid>/<random>` (gateway/journal/postgres.ts). */
const claimPrefix = (n: number) => `${hostname()}:${resolve(site.dataDir(n))}/`;

/**
 * SIGKILLs one of `candidates` at a moment it holds claims, so the takeover path always runs: the
 * journal's in-flight rows say who holds claims; that instance is frozen (SIGSTOP: nothing it holds
 * can be settled meanwhile) and, if it still holds them, killed; else it runs on and the look is
 * taken again. (One fixed victim may never hold a claim: an instance that just settled a patient's
 * readings usually claims that patient's next ones before the others look.) Returns the victim and
 * the readings it died holding.
 */
async function killHoldingClaims(
  candidates: readonly Instance[],
): Promise<{ victim: Instance; held: string[] }> {
  const db = new pg.Client({ connectionString: site.storageUrl });
  await db.connect();
  const deadline = Date.now() + 120_000;
  const heldBy = async (n: number) =>
    (
      await db.query<{ id: string }>(
        `SELECT id FROM journal_outbox WHERE state = 'in-flight' AND starts_with(claimed_by, $1)`,
        [claimPrefix(n)],
      )
    ).rows.map((r) => r.id);
  let frozen: Instance | undefined;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error('no instance held a claim in two minutes');
      for (const gw of candidates) {
        if ((await heldBy(gw.n)).length === 0) continue;
        frozen = gw;
        process.kill(-gw.pid, 'SIGSTOP');
        const held = await heldBy(gw.n);
        if (held.length > 0) {
          await gw.kill('SIGKILL');
          return { victim: gw, held };
        }
        process.kill(-gw.pid, 'SIGCONT');
        frozen = undefined;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    // never leave one frozen, whatever failed
    if (frozen) {
      try {
        process.kill(-frozen.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await db.end();
  }
}

beforeAll(async () => {
  site = await startSite('cluster');
}, 120_000);

afterAll(async () => {
  await site?.close();
}, 60_000);

describe('three gateways, one PostgreSQL, one Mosquitto', () => {
  it('every PUBACKed reading reaches the sandbox exactly once through a SIGKILL and a restart', async () => {
    // three instances starting together: the schema migrates once, under its advisory lock
    const started = await Promise.all(
      [1, 2, 3].map((n) => site.start(n, { MEDGW_FORWARDER_LEASE_MS: LEASE_MS })),
    );
    for (const gw of started) instances.set(gw.n, gw);
    const one = instances.get(1) as Instance;

    // provisioned through instance 1: patients, then devices (each one a broker client and role)
    for (const p of PATIENTS) await one.call('POST', '/patients', { id: p.id, displayName: p.id });
    const secrets: string[] = [];
    for (let d = 0; d < DEVICES; d++) {
      const { secret } = await one.call<{ secret: string }>('POST', '/devices', {
        id: `cl-${d}`,
        transport: 'mqtt',
        patientId: PATIENTS[d % PATIENTS.length]?.id,
      });
      secrets.push(secret);
    }
    // linked through instances 2 and 3: the tokens are shared, any instance may send
    for (const [i, p] of PATIENTS.entries()) await site.link(2 + (i % 2), p.id, p.login);
    // a national side that takes 100 ms per request: the instance killed has sends in flight
    site.sandbox.setFaults({ latencyMs: 100 });

    const devices = secrets.map(
      (secret, d) => new SimulatedMqttDevice({ url: site.broker.url, deviceId: `cl-${d}`, secret }),
    );
    await Promise.all(devices.map((dev) => dev.connect()));
    const acked = new Set<string>();
    let killed: Promise<{ victim: Instance; held: string[] }> | undefined;
    const total = DEVICES * PER_DEVICE;
    try {
      await Promise.all(
        devices.map(async (dev, d) => {
          for (let seq = 1; seq <= PER_DEVICE; seq++) {
            const r = reading(d, seq);
            // QoS 1: the PUBACK comes from the broker once it holds the message
            await dev.publishRaw(dev.measurementTopic('json'), encodeReading('json', r));
            acked.add(`${d}:${seq}`);
            if (acked.size === Math.floor(total / 3) && !killed) {
              killed = killHoldingClaims([...instances.values()]);
              // awaited below; a failure is reported there, not as an unhandled rejection meanwhile
              killed.catch(() => undefined);
            }
          }
        }),
      );
    } finally {
      await Promise.allSettled(devices.map((dev) => dev.close()));
    }
    // it died holding claims (the kill waited for them)
    const dead = await killed;
    if (!dead) throw new Error('no instance was killed');
    const { victim, held } = dead;
    expect(held.length).toBeGreaterThan(0);
    // they come back once their lease ran out: another instance takes each over and searches the
    // sandbox for it before sending it again (the search itself: tests/postgres/journal-instances.test.ts)
    // the admin API of a living instance
    const observer = [...instances.values()].find((gw) => gw.n !== victim.n) as Instance;
    const takenOver = async () =>
      (
        await observer.call<{
          entries: { event: string; readingId?: string; detail?: { previousOwner?: string } }[];
        }>('GET', '/audit?limit=100000')
      ).entries.filter((e) => e.event === 'reading.lease-expired');
    await until(
      'every claim the dead instance held taken over',
      async () => {
        const ids = new Set((await takenOver()).map((e) => e.readingId));
        return held.every((id) => ids.has(id));
      },
      120_000,
    );
    // then it comes back: the broker delivers what it kept in its session (its share of the messages
    // published while it was dead), stored once even when it had committed them before dying
    instances.set(victim.n, await site.start(victim.n, { MEDGW_FORWARDER_LEASE_MS: LEASE_MS }));
    expect(acked.size).toBe(total);

    // what the sandbox must hold: one Observation per acknowledged reading
    const expected = new Set<string>();
    for (let d = 0; d < DEVICES; d++) {
      for (let seq = 1; seq <= PER_DEVICE; seq++) {
        const { measurement } = decodePayload('json', encodeReading('json', reading(d, seq)));
        expected.add(readingId({ deviceId: `cl-${d}`, kind: 'glucose', measurement }));
      }
    }
    const ours = () =>
      site.sandbox.observations().filter((o) => expected.has(o.identifier?.split('|')[1] ?? ''));
    await until('every reading at the sandbox', () => ours().length >= total, 240_000);
    // a little longer: a second copy would come now, from a lease taken over without its search
    await new Promise((r) => setTimeout(r, 6_000));
    site.sandbox.clearFaults();
    const received = ours();
    // a duplicate fails with what explains it: both arrival times and the reading's audit trail
    const duplicates = [];
    for (const d of received.filter((o) => o.duplicateOf !== undefined)) {
      const rid = d.identifier?.split('|')[1] ?? '';
      const { entries } = await observer.call<{ entries: unknown[] }>(
        'GET',
        `/audit?reading=${encodeURIComponent(rid)}&limit=100`,
      );
      const first = received.find((o) => o.id === d.duplicateOf)?.receivedAt;
      duplicates.push({ reading: rid, first, again: d.receivedAt, audit: entries });
    }
    expect(duplicates).toEqual([]);
    expect(received).toHaveLength(total);
    expect(new Set(received.map((o) => o.identifier)).size).toBe(total);

    // PostgreSQL connections of the three instances (docs/deploy.md: about ten each)
    const db = new pg.Client({ connectionString: site.storageUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(Number(rows[0]?.n)).toBeLessThanOrEqual(3 * 12);
    } finally {
      await db.end();
    }

    // any instance shows the whole fleet and the whole outbox
    for (const n of [1, 2, 3]) {
      const gw = instances.get(n) as Instance;
      const { devices: listed } = await gw.call<{ devices: { id: string }[] }>('GET', '/devices');
      expect(
        listed.filter((x) => x.id.startsWith('cl-')),
        `instance ${n}`,
      ).toHaveLength(DEVICES);
      const { patients } = await gw.call<{ patients: { id: string }[] }>('GET', '/patients');
      expect(patients.map((p) => p.id).sort()).toEqual(PATIENTS.map((p) => p.id));
    }
    await until(
      'the delivered states recorded',
      async () =>
        (await observer.call<{ readings: unknown[] }>('GET', '/outbox?state=delivered&limit=10000')).readings
          .length === total,
      60_000,
    );

    // the audit chains of all instances verify, through the admin API and on the command line
    const verified = await observer.call<{ ok: boolean; entries: number; chains?: unknown[] }>(
      'GET',
      '/audit/verify',
    );
    expect(verified.ok).toBe(true);
    // one chain per instance (the restarted one continued its own)
    expect(verified.chains).toHaveLength(3);
    // one audit entry at least per stored and per delivered reading, across the chains
    expect(verified.entries).toBeGreaterThanOrEqual(2 * total);
    const cli = await runMedgw(['audit', 'verify', '--data-dir', site.dataDir(1)], { env: site.env(1) });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);

    // orderly stop of all three
    for (const gw of instances.values()) expect(await gw.stop()).toBe(0);
  }, 600_000);
});
