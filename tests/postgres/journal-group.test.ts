/**
 * The PostgreSQL journal's group commit (appendPrepared): a group that fits the limits is written in
 * one statement with its audit entries computed beforehand as if every reading were new. These tests
 * hold it to what SQLite does with the same group (results, cursors, audit events in order), and
 * check the cases where the assumption fails: a reading of the group already stored (by an earlier
 * commit, or by another process at the same moment), so that the statement writes no audit entry
 * and they are computed again from what it stored. Each time the chain verifies and the held
 * counters match what is stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../gateway/contracts.ts';
import type { BatchAppend } from '../../gateway/journal/group-commit.ts';
import { PostgresJournal } from '../../gateway/journal/postgres.ts';
import { prepareAppends } from '../../gateway/journal/prepare.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { reading, TestClock } from '../journal/conformance.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
let dir: string;
const opened: { close(): unknown }[] = [];

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'medgw-group-'));
}, 60_000);

afterAll(async () => {
  for (const j of opened) await j.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function both(): Promise<{ pg: PostgresJournal; lite: SqliteJournal; clock: TestClock }> {
  const clock = new TestClock();
  const pg = await PostgresJournal.open({ url: server.database(), clock, instance: 'gw-1' });
  const lite = new SqliteJournal({ path: join(dir, `${opened.length}.sqlite`), clock });
  opened.push(pg, lite);
  return { pg, lite, clock };
}

/** What an audit entry says, without its hash and time (computed alike, compared by verification). */
const said = (e: AuditEntry) => ({
  seq: e.seq,
  event: e.event,
  readingId: e.readingId,
  deviceId: e.deviceId,
  patientId: e.patientId,
  kind: e.kind,
  detail: e.detail,
});

/** A group with copies inside an item, across items, two cursors of one device and one of another. */
function group(prefix: string): BatchAppend[] {
  return [
    { readings: [reading(`${prefix}1`), reading(`${prefix}2`)] },
    {
      readings: [reading(`${prefix}2`), reading(`${prefix}3`, { deviceId: 'cuff-1' })],
      cursor: { deviceId: 'cuff-1', value: 5 },
    },
    { readings: [reading(`${prefix}4`), reading(`${prefix}4`)], cursor: { deviceId: 'scale-1', value: 9 } },
    { readings: [], cursor: { deviceId: 'cuff-1', value: 7 } },
    // a reason quoting what a device sent, with a lone surrogate it escaped in its JSON
    {
      readings: [
        reading(`${prefix}5`, {
          state: 'quarantined',
          reason: { code: 'MEDGW_ERR_X', message: 'unit \ud800 unknown' },
        }),
      ],
    },
  ];
}

describe('PostgreSQL journal: one statement per group commit', () => {
  it('answers a group as SQLite does: results, cursors, audit entries, held counters', async () => {
    const { pg, lite } = await both();
    const items = group('g');
    const fromPg = await pg.appendPrepared(prepareAppends(items));
    const fromLite = lite.appendBatch(items);
    expect(fromPg).toEqual(fromLite);
    expect(fromPg[1]).toEqual({ accepted: ['g3'], duplicates: ['g2'] });
    expect(fromPg[2]).toEqual({ accepted: ['g4'], duplicates: ['g4'] });
    expect(await pg.cursor('cuff-1')).toBe(7);
    expect(await pg.cursor('scale-1')).toBe(9);
    expect((await pg.auditList()).map(said)).toEqual(lite.auditList().map(said));
    expect(await pg.auditVerify()).toBeUndefined();
    const stats = await pg.stats(Date.now());
    expect(stats.held).toEqual(lite.stats(Date.now()).held);
    expect(stats.held.readings).toBe(5);
    // the first group of a process opens a transaction; the next ones are one statement each
    expect(pg.groupCommits).toEqual({ oneStatement: 0, transaction: 1 });
    for (let k = 0; k < 3; k++) {
      const more = group(`m${k}`);
      expect(await pg.appendPrepared(prepareAppends(more))).toEqual(lite.appendBatch(more));
    }
    expect(pg.groupCommits).toEqual({ oneStatement: 3, transaction: 1 });
    expect((await pg.auditList()).map(said)).toEqual(lite.auditList().map(said));
    expect(await pg.auditVerify()).toBeUndefined();
    expect((await pg.stats(Date.now())).held).toEqual(lite.stats(Date.now()).held);
    // stored as a parameter of its own would be: the lone surrogate replaced, the group not refused
    expect((await pg.get('g5'))?.reason?.message).toBe('unit \ufffd unknown');
  });

  it('audits only what it stored when a reading of the group was stored before, and the chain holds', async () => {
    const { pg, lite } = await both();
    for (const j of [pg, lite]) {
      const first = [{ readings: [reading('old1'), reading('old2')] }];
      if (j === pg) await pg.appendPrepared(prepareAppends(first));
      else lite.appendBatch(first);
    }
    // old1 is in the table already: the statement stores the rest and writes no audit entry
    const items: BatchAppend[] = [
      { readings: [reading('n1'), reading('old1')] },
      { readings: [reading('n2')], cursor: { deviceId: 'scale-1', value: 3 } },
      { readings: [reading('old2'), reading('old2')] },
    ];
    const fromPg = await pg.appendPrepared(prepareAppends(items));
    // the one statement refused itself (a reading it assumed new was not): the group took a transaction
    expect(pg.groupCommits).toEqual({ oneStatement: 0, transaction: 2 });
    expect(fromPg).toEqual(lite.appendBatch(items));
    expect(fromPg).toEqual([
      { accepted: ['n1'], duplicates: ['old1'] },
      { accepted: ['n2'], duplicates: [] },
      { accepted: [], duplicates: ['old2', 'old2'] },
    ]);
    expect(await pg.cursor('scale-1')).toBe(3);
    const audit = await pg.auditList();
    expect(audit.map(said)).toEqual(lite.auditList().map(said));
    expect(audit.filter((e) => e.event === 'reading.stored').map((e) => e.readingId)).toEqual([
      'old1',
      'old2',
      'n1',
      'n2',
    ]);
    expect(await pg.auditVerify()).toBeUndefined();
    expect((await pg.stats(Date.now())).held.readings).toBe(4);
    // the next group continues the chain from what was really written
    await pg.appendPrepared(prepareAppends([{ readings: [reading('n3')] }]));
    expect(await pg.auditVerify()).toBeUndefined();
    expect((await pg.auditList()).at(-1)).toMatchObject({ event: 'reading.stored', readingId: 'n3' });
    expect(pg.groupCommits).toEqual({ oneStatement: 1, transaction: 2 });
  });

  it('two processes of one instance name offered the same readings at once: each stored once, one valid chain', async () => {
    const url = server.database();
    const clock = new TestClock();
    const a = await PostgresJournal.open({ url, clock, instance: 'gw-same' });
    const b = await PostgresJournal.open({ url, clock, instance: 'gw-same' });
    opened.push(a, b);
    const ids = Array.from({ length: 120 }, (_, i) => `s${i}`);
    // groups of 10 in one order on one side, in the reverse order on the other, all at once
    const groups = (order: string[]) =>
      Array.from({ length: 12 }, (_, g) =>
        prepareAppends(
          order
            .slice(g * 10, g * 10 + 10)
            .map((id) => ({ readings: [reading(id, { deviceId: `d-${id}` })] })),
        ),
      );
    const results = (
      await Promise.all([
        ...groups(ids).map((g) => a.appendPrepared(g)),
        ...groups([...ids].reverse()).map((g) => b.appendPrepared(g)),
      ])
    ).flat();
    const accepted = results.flatMap((r) => (r instanceof Error ? [] : r.accepted));
    const duplicates = results.flatMap((r) => (r instanceof Error ? [] : r.duplicates));
    expect(accepted.sort()).toEqual([...ids].sort());
    expect(duplicates.sort()).toEqual([...ids].sort());
    const audit = await a.auditList();
    expect(audit.filter((e) => e.event === 'reading.stored')).toHaveLength(120);
    expect(await a.auditVerifyChains()).toEqual([{ chain: 'gw-same', entries: audit.length }]);
    expect((await b.stats(Date.now())).held.readings).toBe(120);
  });
});
