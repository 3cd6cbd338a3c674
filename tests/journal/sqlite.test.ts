import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { localOver, reading, TestClock, weight } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = () => join(dir, `j${n++}.db`);

describe('SQLite journal', () => {
  it('uses WAL with synchronous=FULL', () => {
    const path = dbPath();
    const j = new SqliteJournal({ path });
    j.close();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const j2 = new SqliteJournal({ path }) as unknown as { db: Database.Database };
    expect(j2.db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('keeps readings, cursors, limits and the audit chain across a reopen', () => {
    const path = dbPath();
    const clock = new TestClock();
    const a = new SqliteJournal({ path, clock, maxReadings: 3 });
    a.append([reading('p1'), reading('p2')], { deviceId: 'scale-1', value: 7 });
    a.transition('p1', 'pending', 'in-flight');
    a.transition('p1', 'in-flight', 'delivered');
    a.close();
    const b = new SqliteJournal({ path, clock, maxReadings: 3 });
    expect(b.get('p2')?.observation).toEqual(weight(72.4));
    expect(b.get('p1')?.observation).toBeNull();
    expect(b.cursor('scale-1')).toBe(7);
    expect(b.append([reading('p1'), reading('p3'), reading('p4')])).toEqual({
      accepted: ['p3', 'p4'],
      duplicates: ['p1'],
    });
    expect(() => b.append([reading('p5')])).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }),
    );
    b.audit({ event: 'gateway.restarted' });
    expect(b.auditVerify()).toBeUndefined();
    expect(b.auditList().at(-1)?.seq).toBe(b.auditList().length);
    b.close();
  });

  it('the audit table is append-only, and auditVerify finds an entry edited behind its back', () => {
    const path = dbPath();
    const j = new SqliteJournal({ path });
    j.append([reading('t1'), reading('t2'), reading('t3')]);
    j.close();
    const raw = new Database(path);
    expect(() => raw.prepare("UPDATE audit SET event = 'x' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM audit WHERE seq = 3').run()).toThrow(/append-only/);
    // someone with write access to the file drops the guard and rewrites history
    raw.exec('DROP TRIGGER audit_no_update');
    raw.prepare("UPDATE audit SET patient_id = 'someone-else' WHERE seq = 2").run();
    raw.close();
    const again = new SqliteJournal({ path });
    expect(again.auditVerify()).toBe(2);
    again.close();
  });

  it('auditVerify finds a deleted entry', () => {
    const path = dbPath();
    const j = new SqliteJournal({ path });
    j.append([reading('u1'), reading('u2'), reading('u3')]);
    j.close();
    const raw = new Database(path);
    raw.exec('DROP TRIGGER audit_no_delete');
    raw.prepare('DELETE FROM audit WHERE seq = 2').run();
    raw.close();
    const again = new SqliteJournal({ path });
    expect(again.auditVerify()).toBe(3);
    again.close();
  });

  it('refuses a file that is not a journal, or one written by a newer version', () => {
    const junk = dbPath();
    writeFileSync(junk, 'this is not a database, just text that happens to be long enough'.repeat(100));
    expect(() => new SqliteJournal({ path: junk })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_CORRUPT' }),
    );
    const newer = dbPath();
    new SqliteJournal({ path: newer }).close();
    const raw = new Database(newer);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => new SqliteJournal({ path: newer })).toThrow(
      expect.objectContaining({
        code: 'MEDGW_ERR_JOURNAL_OPEN',
        message: expect.stringContaining('newer medgw'),
      }),
    );
  });

  it('maps a full disk to MEDGW_ERR_JOURNAL_FULL and keeps what was stored', () => {
    const path = dbPath();
    // a page limit makes SQLite answer SQLITE_FULL exactly as a full disk does
    const j = new SqliteJournal({ path, pragmas: ['max_page_count = 40'] });
    const big = (id: string) =>
      reading(id, { observation: { ...weight(70), context: { note: 'x'.repeat(3000) } } });
    const stored: string[] = [];
    let refused: unknown;
    for (let i = 0; i < 200 && !refused; i++) {
      try {
        j.append([big(`big-${i}`)]);
        stored.push(`big-${i}`);
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toMatchObject({ code: 'MEDGW_ERR_JOURNAL_FULL' });
    expect(stored.length).toBeGreaterThan(0);
    for (const id of stored) expect(j.get(id)?.state).toBe('pending');
    expect(j.auditVerify()).toBeUndefined();
    j.close();
  });
});

describe('group commit', () => {
  for (const [name, make] of [
    ['sqlite', () => new SqliteJournal({ path: dbPath(), maxReadings: 50 })],
    ['sqlite on its own thread', () => ThreadedJournal.open({ path: dbPath(), maxReadings: 50 })],
    ['memory', () => new MemoryJournal({ maxReadings: 50 })],
  ] as const) {
    it(`${name}: many concurrent appends share few commits; each caller gets its own answer`, async () => {
      const j = await make();
      const g = new GroupCommit(j, 16);
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => g.append([reading(`gc-${i % 55}`)])),
      );
      const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      const refused = results
        .filter((r) => r.status === 'rejected')
        .map((r) => r.reason as { code?: string });
      expect(ok.flatMap((r) => r.accepted)).toHaveLength(50);
      // the 5 repeats of gc-0..gc-4 are duplicates (answered even when full)
      expect(ok.flatMap((r) => r.duplicates).sort()).toEqual(['gc-0', 'gc-1', 'gc-2', 'gc-3', 'gc-4']);
      expect(refused.map((e) => e.code)).toEqual([
        'MEDGW_ERR_JOURNAL_FULL',
        'MEDGW_ERR_JOURNAL_FULL',
        'MEDGW_ERR_JOURNAL_FULL',
        'MEDGW_ERR_JOURNAL_FULL',
        'MEDGW_ERR_JOURNAL_FULL',
      ]);
      expect(j.list()).toHaveLength(50);
      expect(g.counters().batches).toBeLessThan(10);
      expect(j.auditVerify()).toBeUndefined();
      j.close();
    });
  }

  for (const [name, make] of [
    ['sqlite', () => new SqliteJournal({ path: dbPath() })],
    ['sqlite on its own thread', () => ThreadedJournal.open({ path: dbPath() })],
    ['memory', () => new MemoryJournal()],
  ] as const) {
    it(`${name}: transitions queued together commit together; a refused one does not hold the others back`, async () => {
      const j = await make();
      j.append(Array.from({ length: 20 }, (_, i) => reading(`t${i}`)));
      const g = new GroupCommit(j);
      const flying = await Promise.all(
        Array.from({ length: 20 }, (_, i) => g.transition(`t${i}`, 'pending', 'in-flight')),
      );
      expect(flying.every((r) => r.state === 'in-flight' && r.attempts === 1)).toBe(true);
      const results = await Promise.allSettled([
        ...Array.from({ length: 19 }, (_, i) =>
          g.transition(`t${i}`, 'in-flight', 'delivered', {
            remoteId: `Observation/${i}`,
            audit: { event: 'mes.delivered', detail: { remoteId: `Observation/${i}` } },
          }),
        ),
        g.transition('t19', 'pending', 'held'), // wrong `from`
        g.transition('ghost', 'pending', 'held'),
        g.transition('t19', 'in-flight', 'held', { audit: { event: 'x.y', detail: { values: 'no' } } }),
      ]);
      expect(results.slice(0, 19).every((r) => r.status === 'fulfilled')).toBe(true);
      expect(
        results.slice(19).map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok')),
      ).toEqual([
        'MEDGW_ERR_JOURNAL_STATE',
        'MEDGW_ERR_JOURNAL_UNKNOWN_READING',
        'MEDGW_ERR_JOURNAL_INVALID',
      ]);
      expect(j.list({ state: 'delivered' })).toHaveLength(19);
      expect(j.get('t19')?.state).toBe('in-flight');
      expect(j.get('t3')).toMatchObject({ observation: null, remoteId: 'Observation/3' });
      expect(j.auditList({ readingId: 't3' }).map((e) => e.event)).toEqual([
        'reading.stored',
        'mes.delivered',
      ]);
      expect(j.auditVerify()).toBeUndefined();
      j.close();
    });
  }

  it('one batch: an item over the limit is refused whole (no row, no audit entry), the items around it commit', () => {
    const j = new SqliteJournal({ path: dbPath(), maxReadings: 5 });
    const [first, full, last] = j.appendBatch([
      { readings: [reading('b1'), reading('b2')] },
      { readings: [reading('b3'), reading('b4'), reading('b5'), reading('b6')] },
      { readings: [reading('b7')], cursor: { deviceId: 'dev-1', value: 7 } },
    ]);
    expect(first).toEqual({ accepted: ['b1', 'b2'], duplicates: [] });
    expect(full).toMatchObject({ code: 'MEDGW_ERR_JOURNAL_FULL' });
    expect(last).toEqual({ accepted: ['b7'], duplicates: [] });
    expect(j.list().map((r) => r.id)).toEqual(['b1', 'b2', 'b7']);
    expect(j.auditList({ readingId: 'b3' })).toEqual([]);
    expect(j.cursor('dev-1')).toBe(7);
    expect(j.stats(Date.now())).toMatchObject({ held: { readings: 3 }, refusedFull: 1, auditEntries: 3 });
    expect(j.auditVerify()).toBeUndefined();
    // a cursor that is not an integer refuses the batch before anything is written
    expect(() =>
      j.appendBatch([
        { readings: [reading('b8')] },
        { readings: [reading('b9')], cursor: { deviceId: 'dev-1', value: 7.5 } },
      ]),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }));
    expect(j.get('b8')).toBeUndefined();
    expect(j.cursor('dev-1')).toBe(7);
    // the in-memory chain head still matches the file: the next entry chains on
    j.append([reading('b8')]);
    expect(j.auditVerify()).toBeUndefined();
    j.close();
  });

  for (const [name, make] of [
    ['sqlite', () => new SqliteJournal({ path: dbPath() })],
    ['sqlite on its own thread', () => ThreadedJournal.open({ path: dbPath() })],
  ] as const) {
    it(`${name}: a malformed append is refused alone`, async () => {
      const j = await make();
      const g = new GroupCommit(j);
      const [good, bad, after] = await Promise.allSettled([
        g.append([reading('m1')]),
        g.append([reading('')]),
        g.append([reading('m2')]),
      ]);
      expect(good.status).toBe('fulfilled');
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'MEDGW_ERR_JOURNAL_INVALID' } });
      expect(after.status).toBe('fulfilled');
      expect(j.get('m1')).toBeDefined();
      expect(j.get('m2')).toBeDefined();
      expect(j.auditVerify()).toBeUndefined();
      j.close();
    });
  }
});

describe('crash', () => {
  it('every acknowledged reading survives SIGKILL, and the cursor never runs ahead of committed readings', async () => {
    const path = dbPath();
    const acked = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const child = spawn(
        process.execPath,
        ['bin/run.mjs', 'tests/journal/crash-child.ts', path, `r${round}`],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const lines = createInterface({ input: child.stdout! });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
      let count = 0;
      await new Promise<void>((resolve) => {
        lines.on('line', (line) => {
          const [tag, id] = line.split(' ');
          if (tag === 'ack' && id) {
            acked.add(id);
            if (++count === 300 + round * 137) {
              child.kill('SIGKILL');
              resolve();
            }
          }
        });
        child.on('exit', () => resolve());
      });
      expect(await exited).toBe('SIGKILL');
      const j = new SqliteJournal({ path });
      const ids = new Set(j.list().map((r) => r.id));
      for (const id of acked) expect(ids.has(id), id).toBe(true);
      const cursor = j.cursor('gluco-crash') ?? 0;
      expect(cursor).toBeGreaterThan(0);
      // every reading the cursor covers is committed: the cursor is the highest committed sequence
      const seqs = j.list({ deviceId: 'gluco-crash' }).map((r) => Number(r.id.split('-')[1]));
      expect(Math.max(...seqs)).toBe(cursor);
      expect(j.auditVerify()).toBeUndefined();
      j.close();
    }
    expect(acked.size).toBeGreaterThanOrEqual(300);
  });
});

describe('SQLite audit references', () => {
  it('finds the audit of a reading by its id whether the outbox holds it or not, across a reopen', () => {
    const path = dbPath();
    const clock = new TestClock();
    const a = new SqliteJournal({ path, clock });
    a.append([reading('r1'), reading('r2')]);
    a.transition('r2', 'pending', 'in-flight');
    a.transition('r2', 'in-flight', 'delivered', { remoteId: 'Observation/2' });
    a.audit({ event: 'reading.erased', readingId: 'gone-1', patientId: 'p1' });
    a.audit({ event: 'reading.checked', readingId: 'r1' });
    a.close();
    const b = new SqliteJournal({ path, clock });
    expect(b.auditList({ readingId: 'r1' }).map((e) => e.event)).toEqual([
      'reading.stored',
      'reading.checked',
    ]);
    expect(b.auditList({ readingId: 'r2' }).map((e) => [e.event, e.readingId])).toEqual([
      ['reading.stored', 'r2'],
      ['reading.delivered', 'r2'],
    ]);
    expect(b.auditList({ readingId: 'gone-1' }).map((e) => e.event)).toEqual(['reading.erased']);
    expect(b.auditList({ readingId: 'gone-1', patientId: 'nobody' })).toEqual([]);
    expect(b.auditList().map((e) => e.readingId)).toEqual(['r1', 'r2', 'r2', 'gone-1', 'r1']);
    expect(b.auditVerify()).toBeUndefined();
    b.close();
  });

  it('migrates a schema 2 file (before the local state) in place: rows, rows ids and the audit chain kept', () => {
    const path = dbPath();
    const clock = new TestClock();
    const a = new SqliteJournal({ path, clock });
    a.append([reading('m1'), reading('m2', { state: 'quarantined', reason: { code: 'Q', message: 'q' } })]);
    a.transition('m1', 'pending', 'in-flight');
    a.transition('m1', 'in-flight', 'delivered', { remoteId: 'Observation/1' });
    a.close();
    // The file as schema 2 wrote it: the same outbox, whose CHECK does not know 'local'.
    const raw = new Database(path);
    const create = raw
      .prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'")
      .get()!.sql;
    expect(create).toContain(",'local')");
    const rows = raw.prepare('SELECT * FROM outbox ORDER BY row').all();
    raw.exec(`CREATE TABLE outbox_v2 ${create.slice(create.indexOf('(')).replace(",'local')", ')')};
      INSERT INTO outbox_v2 SELECT * FROM outbox; DROP TABLE outbox; ALTER TABLE outbox_v2 RENAME TO outbox;`);
    raw.pragma('user_version = 2');
    expect(() => raw.exec("UPDATE outbox SET state = 'local' WHERE id = 'm2'")).toThrow(
      /CHECK constraint failed/,
    );
    raw.close();

    const b = new SqliteJournal({ path, clock });
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(3);
    expect(check.prepare('SELECT * FROM outbox ORDER BY row').all()).toEqual(rows);
    check.close();
    expect(b.get('m1')).toMatchObject({ state: 'delivered', observation: null, remoteId: 'Observation/1' });
    expect(b.auditList({ readingId: 'm1' }).map((e) => e.event)).toEqual([
      'reading.stored',
      'reading.delivered',
    ]);
    expect(b.auditVerify()).toBeUndefined();
    b.append([reading('m3', localOver)]);
    expect(b.get('m3')?.state).toBe('local');
    b.close();
  });

  it('refuses a journal file of an earlier pre-release schema instead of misreading it', () => {
    const path = dbPath();
    const raw = new Database(path);
    raw.pragma('user_version = 1');
    raw.close();
    expect(() => new SqliteJournal({ path })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_OPEN' }),
    );
  });
});

describe('SQLite duplicates', () => {
  it('reports duplicates in the order sent, whether or not the item is near a limit', () => {
    for (const maxReadings of [undefined, 4]) {
      const j = new SqliteJournal({ path: dbPath(), ...(maxReadings ? { maxReadings } : {}) });
      j.append([reading('a'), reading('b')]);
      expect(j.append([reading('b'), reading('c'), reading('a'), reading('c'), reading('d')])).toEqual({
        accepted: ['c', 'd'],
        duplicates: ['b', 'a', 'c'],
      });
      expect(j.stats(0).held.readings).toBe(4);
      expect(j.auditList().map((e) => e.event)).toEqual([
        'reading.stored',
        'reading.stored',
        'reading.stored',
        'reading.stored',
        'readings.duplicate',
      ]);
      expect(j.auditList().at(-1)?.detail).toEqual({ count: 3 });
      j.close();
    }
  });
});
