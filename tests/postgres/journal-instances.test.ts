/**
 * Several gateway instances on one PostgreSQL journal (each a ThreadedJournal of its own, as a
 * running gateway opens it): a re-sent reading stored once whichever instance gets it, claims that
 * never hand one reading to two instances, a patient claimed by one instance at a time and oldest
 * first, an expired lease returned to the next claimant who searches the national side before
 * sending again (the real sandbox), NOTIFY waking the other instance, one audit chain per instance
 * verified, and a newer schema refused.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewReading } from '../../gateway/contracts.ts';
import { Forwarder } from '../../gateway/forwarder/index.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import {
  GLUCOMETER,
  type NationalSide,
  sampleObservation,
  startNationalSide,
} from '../cloud-bridge/helpers.ts';
import { reading } from '../journal/conformance.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
const opened: ThreadedJournal[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  for (const j of opened) j.close();
  await server?.stop();
}, 60_000);

const clock = { t: Date.UTC(2026, 10, 22, 9, 0, 0), now: () => clock.t };

async function instances(n: number, url = server.database()): Promise<ThreadedJournal[]> {
  const out: ThreadedJournal[] = [];
  for (let i = 0; i < n; i++) {
    const j = await ThreadedJournal.openPostgres({ url, clock, instance: `gw-${i + 1}` });
    opened.push(j);
    out.push(j);
  }
  return out;
}

describe('PostgreSQL journal shared by instances', () => {
  it('stores a re-sent reading once, whichever instance receives it, even at the same moment', async () => {
    const [a, b] = await instances(2);
    expect(a!.append([reading('r1')])).toEqual({ accepted: ['r1'], duplicates: [] });
    expect(b!.append([reading('r1'), reading('r2')])).toEqual({ accepted: ['r2'], duplicates: ['r1'] });
    // the same 100 readings offered to both instances at once, in group commits of 10
    const ids = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const groups = (j: ThreadedJournal) =>
      Array.from({ length: 10 }, (_, g) =>
        j.appendBatchAsync([{ readings: ids.slice(g * 10, g * 10 + 10).map((id) => reading(id)) }]),
      );
    const results = (await Promise.all([...groups(a!), ...groups(b!)])).flat();
    const accepted = results.flatMap((r) => (r instanceof Error ? [] : r.accepted));
    const duplicates = results.flatMap((r) => (r instanceof Error ? [] : r.duplicates));
    expect(accepted.sort()).toEqual([...ids].sort());
    expect(duplicates.sort()).toEqual([...ids].sort());
    expect(a!.list()).toHaveLength(102);
    expect(a!.stats(clock.now()).held.readings).toBe(102);
    expect(a!.auditList().filter((e) => e.event === 'reading.stored')).toHaveLength(102);
  });

  it('claims never hand one reading to two instances, and a patient to one instance at a time, oldest first', async () => {
    const js = await instances(3);
    const patients = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const all: NewReading[] = [];
    for (let k = 0; k < 10; k++) {
      for (const p of patients) all.push(reading(`${p}-${k}`, { patientId: p }));
      clock.t += 1;
    }
    // one patient's readings stored newest first in one append: order is the journal's, not the id's
    js[0]!.append(all);
    const owners = new Map<string, number>();
    const byInstance: string[][] = js.map(() => []);
    const take = (got: readonly (readonly { record: { id: string }; uncertain: boolean }[])[]) =>
      got.forEach((claimed, i) => {
        for (const c of claimed) {
          expect(c.uncertain).toBe(false);
          expect(owners.has(c.record.id), `${c.record.id} claimed twice`).toBe(false);
          owners.set(c.record.id, i);
          byInstance[i]!.push(c.record.id);
        }
      });
    // First each instance in turn takes four patients' oldest readings: the readings never settle
    // here, so whoever holds a patient keeps it, and concurrent rounds alone may let one instance,
    // always a little ahead, take every patient.
    for (const [i, j] of js.entries()) {
      const got = await j.claim!(clock.now(), 4, 60_000);
      expect(got, `instance ${i} claims alone`).toHaveLength(4);
      take(js.map((_, k) => (k === i ? got : [])));
    }
    // then the three claim in rounds, concurrently, until nothing is left (no lease runs out here)
    let empty = 0;
    for (let round = 0; round < 60; round++) {
      const got = await Promise.all(js.map((j) => j.claim!(clock.now(), 7, 60_000)));
      take(got);
      // a round may come back empty while two instances try the same free patient; three in a row: done
      empty = got.every((c) => c.length === 0) ? empty + 1 : 0;
      if (empty === 3) break;
    }
    expect([...owners.keys()].sort()).toEqual(all.map((r) => r.id).sort());
    expect(byInstance.every((ids) => ids.length >= 4)).toBe(true);
    for (const p of patients) {
      const mine = all.filter((r) => r.patientId === p).map((r) => owners.get(r.id));
      // every reading of the patient went to the instance that claimed its first one
      expect(new Set(mine).size, `patient ${p}`).toBe(1);
      const claimedOrder = byInstance[mine[0]!]!.filter((id) => id.startsWith(`${p}-`));
      expect(claimedOrder).toEqual(all.filter((r) => r.patientId === p).map((r) => r.id));
    }
    expect(js[1]!.stats(clock.now()).byState['in-flight']).toBe(all.length);
  });

  it('a patient in flight on one instance waits; once settled, another instance may claim it', async () => {
    const [a, b] = await instances(2);
    a!.append([reading('m1', { patientId: 'marie' }), reading('m2', { patientId: 'marie' })]);
    const first = await a!.claim!(clock.now(), 1, 60_000);
    expect(first.map((c) => c.record.id)).toEqual(['m1']);
    expect(await b!.claim!(clock.now(), 5, 60_000)).toEqual([]);
    // the other instance cannot settle a claim that is not its own
    expect(() => b!.transition('m1', 'in-flight', 'delivered')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_STATE' }),
    );
    a!.transition('m1', 'in-flight', 'delivered', { remoteId: 'Observation/1' });
    expect((await b!.claim!(clock.now(), 5, 60_000)).map((c) => c.record.id)).toEqual(['m2']);
  });

  it('two instances moving the same readings at once, in opposite orders, move each exactly once', async () => {
    const [a, b] = await instances(2);
    const ids = Array.from({ length: 60 }, (_, i) => `h${String(i).padStart(2, '0')}`);
    a!.append(ids.map((id) => reading(id)));
    const moves = ids.map((id) => ({
      id,
      from: 'pending' as const,
      to: 'held' as const,
      patch: { reason: { code: 'MEDGW_ERR_MES_CONSENT', message: 'withdrawn' } },
    }));
    const [ra, rb] = await Promise.all([
      a!.transitionBatchAsync(moves),
      b!.transitionBatchAsync([...moves].reverse()),
    ]);
    const moved = [...ra, ...rb].filter((r) => !(r instanceof Error));
    const refused = [...ra, ...rb].filter((r) => r instanceof Error);
    expect(moved).toHaveLength(60);
    expect(refused.every((e) => (e as { code?: string }).code === 'MEDGW_ERR_JOURNAL_STATE')).toBe(true);
    expect(a!.list({ state: 'held' })).toHaveLength(60);
    expect(a!.auditList().filter((e) => e.event === 'reading.held')).toHaveLength(60);
    expect(a!.auditVerify()).toBeUndefined();
  });

  it('wakes the other instances when readings are stored (LISTEN/NOTIFY)', async () => {
    const [a, b] = await instances(2);
    const woken = new Promise<void>((resolve) => {
      const stop = b!.watch!(() => {
        stop();
        resolve();
      });
    });
    await a!.appendBatchAsync([{ readings: [reading('n1')] }]);
    await woken;
    // the reading the hint was about is there for the instance it woke
    expect(b!.get('n1')?.state).toBe('pending');
  });

  it('keeps one verifiable audit chain per instance, and names the one that was altered', async () => {
    const url = server.database();
    const [a, b] = await instances(2, url);
    a!.append([reading('x1')]);
    b!.append([reading('x2')]);
    a!.audit({ event: 'gateway.note' });
    expect(a!.auditChains!()).toEqual([
      { chain: 'gw-1', entries: 2 },
      { chain: 'gw-2', entries: 1 },
    ]);
    expect(b!.auditVerify()).toBeUndefined();
    expect(a!.auditList().map((e) => [e.event, e.seq])).toEqual([
      ['reading.stored', 1],
      ['reading.stored', 1],
      ['gateway.note', 2],
    ]);
    // an operator with the database's superuser rights rewrites history: the chain says so
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('ALTER TABLE journal_audit DISABLE TRIGGER journal_audit_no_change');
      await admin.query(`UPDATE journal_audit SET event = 'reading.erased' WHERE chain = 'gw-1' AND seq = 1`);
    } finally {
      await admin.end();
    }
    expect(b!.auditChains!()).toEqual([
      { chain: 'gw-1', entries: 2, firstBroken: 1 },
      { chain: 'gw-2', entries: 1 },
    ]);
    expect(b!.auditVerify()).toBe(1);
  });

  it('says the storage is unreachable, with a code, when PostgreSQL goes away under it', async () => {
    const own = await startPostgres();
    let j: ThreadedJournal | undefined;
    try {
      j = await ThreadedJournal.openPostgres({ url: own.database(), clock, instance: 'gw-1' });
      j.append([reading('u1')]);
      await own.stop();
      expect(() => j!.append([reading('u2')])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_STORAGE_UNREACHABLE' }),
      );
      await expect(j.appendBatchAsync([{ readings: [reading('u3')] }])).rejects.toMatchObject({
        code: 'MEDGW_ERR_STORAGE_UNREACHABLE',
      });
      expect(() => j!.get('u1')).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_STORAGE_UNREACHABLE' }));
    } finally {
      j?.close();
      await own.stop();
    }
  }, 60_000);

  it('refuses a journal schema newer than this medgw', async () => {
    const url = server.database();
    const [a] = await instances(1, url);
    a!.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        `INSERT INTO medgw_schema (component, version, description) VALUES ('journal', 99, 'from the future')`,
      );
    } finally {
      await admin.end();
    }
    await expect(ThreadedJournal.openPostgres({ url, clock })).rejects.toMatchObject({
      code: 'MEDGW_ERR_STORAGE_SCHEMA_NEWER',
    });
  });
});

describe('forwarders on a shared journal', () => {
  let side: NationalSide;
  const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
  const atSandbox = (id: string) =>
    side.sandbox.observations().filter((o) => o.identifier === `urn:oid:${SOLUTION_OID}|${id}`);
  let seq = 0;
  const newReading = (kind: 'glucose' | 'body-temperature'): NewReading => ({
    id: `pgfw-${process.pid}-${++seq}`,
    deviceId: GLUCOMETER.id,
    patientId: 'marie',
    observation: sampleObservation(kind),
    state: 'pending',
  });
  const forwarderOn = (journal: ThreadedJournal, leaseMs: number) =>
    new Forwarder({
      journal,
      sender: side.client({ now: clock.now }),
      links: side.store,
      registry: {
        getDevice: (id) =>
          id === GLUCOMETER.id ? { ...GLUCOMETER, transport: 'ble', createdAt: 0 } : undefined,
      },
      clock,
      leaseMs,
    });

  beforeAll(async () => {
    side = await startNationalSide();
    await side.link('marie', 'marie.martin');
  }, 60_000);
  afterAll(async () => {
    await side?.close();
  });

  it('an instance that dies leaves its claims; after the lease another searches before sending again', async () => {
    const [a, b] = await instances(2);
    const arrived = newReading('glucose');
    const lost = newReading('body-temperature');
    a!.append([arrived, lost]);
    // instance A claims both, its first POST reaches the national side, then it dies
    const claimed = await a!.claim!(clock.now(), 5, 30_000);
    expect(claimed.map((c) => c.record.id)).toEqual([arrived.id, lost.id]);
    const sent = await side.client({ now: clock.now }).send('marie', {
      id: arrived.id,
      observation: arrived.observation,
      device: GLUCOMETER,
    });
    expect(sent.status).toBe('delivered');
    a!.close();

    // B runs a full pass while A's lease lasts: A's claims are not B's to send (nor to "recover")
    const f = forwarderOn(b!, 30_000);
    await f.tick();
    expect(b!.get(arrived.id)?.state).toBe('in-flight');
    expect(b!.get(lost.id)?.state).toBe('in-flight');
    expect(atSandbox(lost.id)).toHaveLength(0);

    // the lease runs out: B takes both over, finds the first by search, sends the second once
    clock.t += 30_001;
    await f.tick();
    expect(b!.get(arrived.id)).toMatchObject({
      state: 'delivered',
      remoteId: sent.status === 'delivered' ? sent.remoteId : '',
      observation: null,
    });
    expect(b!.get(lost.id)?.state).toBe('delivered');
    expect(atSandbox(arrived.id)).toHaveLength(1);
    expect(atSandbox(lost.id)).toHaveLength(1);
    expect(side.sandbox.observations().filter((o) => o.duplicateOf)).toEqual([]);
    for (const id of [arrived.id, lost.id]) {
      expect(b!.auditList({ readingId: id }).map((e) => e.event)).toEqual([
        'reading.stored',
        'reading.lease-expired',
        'mes.delivered',
      ]);
    }
    expect(b!.auditVerify()).toBeUndefined();
    await f.stop();
  }, 60_000);

  it('an instance that stalled after its claim starts no POST near its lease end; the next claimant sends once', async () => {
    const [a, b] = await instances(2);
    const r = newReading('glucose');
    a!.append([r]);
    // A claims it, then stalls (a frozen process, a long pause) before its send: 25 of its 30 s go by
    // while it looks up the reading's device. Less than a send's window is left of its lease.
    let stalled = false;
    const fa = new Forwarder({
      journal: a!,
      sender: side.client({ now: clock.now }),
      links: side.store,
      registry: {
        getDevice: (id) => {
          if (!stalled) {
            stalled = true;
            clock.t += 25_000;
          }
          return id === GLUCOMETER.id ? { ...GLUCOMETER, transport: 'ble', createdAt: 0 } : undefined;
        },
      },
      clock,
      leaseMs: 30_000,
    });
    await fa.tick();
    expect(stalled).toBe(true);
    // no POST left A: the reading is still A's, in flight, and the national side has nothing
    expect(a!.get(r.id)?.state).toBe('in-flight');
    expect(atSandbox(r.id)).toHaveLength(0);
    // the lease runs out: B takes it over, searches (nothing there), sends it once
    clock.t += 5_001;
    const fb = forwarderOn(b!, 30_000);
    await fb.tick();
    expect(b!.get(r.id)?.state).toBe('delivered');
    expect(atSandbox(r.id)).toHaveLength(1);
    expect(side.sandbox.observations().filter((o) => o.duplicateOf)).toEqual([]);
    await fa.stop();
    await fb.stop();
  }, 60_000);

  it('a reading stored by one instance wakes the forwarder of another (NOTIFY), long before its poll', async () => {
    const [a, b] = await instances(2);
    const f = new Forwarder({
      journal: b!,
      sender: side.client({ now: clock.now }),
      links: side.store,
      clock,
      // no poll in this test's lifetime: only the wake-up can deliver
      pollIntervalMs: 3_600_000,
    });
    await f.start();
    // what the gateway's forwarder component does with a shared journal
    const unwatch = b!.watch!(() => f.wake());
    const delivered = new Promise<string>((resolve) =>
      f.on('event', (e: { type: string; readingId?: string }) => {
        if (e.type === 'delivered' && e.readingId) resolve(e.readingId);
      }),
    );
    const r = newReading('glucose');
    await a!.appendBatchAsync([{ readings: [r] }]);
    expect(await delivered).toBe(r.id);
    expect(atSandbox(r.id)).toHaveLength(1);
    unwatch();
    await f.stop();
  }, 60_000);

  it('two forwarders deliver every reading exactly once', async () => {
    const [a, b] = await instances(2);
    const readings = Array.from({ length: 30 }, (_, i) => newReading(i % 2 ? 'glucose' : 'body-temperature'));
    a!.append(readings.slice(0, 15));
    b!.append(readings.slice(15));
    const fa = forwarderOn(a!, 60_000);
    const fb = forwarderOn(b!, 60_000);
    await Promise.all([fa.tick(), fb.tick()]);
    await Promise.all([fa.tick(), fb.tick()]);
    for (const r of readings) {
      expect(a!.get(r.id)?.state, r.id).toBe('delivered');
      expect(atSandbox(r.id), r.id).toHaveLength(1);
    }
    expect(side.sandbox.observations().filter((o) => o.duplicateOf)).toEqual([]);
    expect(fa.stats().delivered + fb.stats().delivered).toBe(30);
    await Promise.all([fa.stop(), fb.stop()]);
  }, 60_000);
});
