/**
 * Model-based check: random sequences of appends, transitions and audit entries applied to the
 * SQLite journal and to the in-memory journal give the same answers, the same refusals and the
 * same final state, down to the audit hashes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import type { Journal, OutboxState } from '../../gateway/contracts.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { OUTBOX_STATES } from '../../gateway/journal/rules.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { reading, TestClock, weight } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const state = fc.constantFrom<OutboxState>(...OUTBOX_STATES);
const op = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    ids: fc.array(id, { minLength: 1, maxLength: 4 }),
    state: fc.constantFrom('pending' as const, 'held' as const, 'quarantined' as const),
    cursor: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
    kg: fc.integer({ min: 200, max: 2000 }),
  }),
  fc.record({
    kind: fc.constant('transition' as const),
    id,
    from: state,
    to: state,
    purge: fc.boolean(),
    withAudit: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('audit' as const),
    event: fc.constantFrom('x.y', 'Bad Event', 'gateway.note'),
  }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function apply(j: Journal, clock: TestClock, o: Op): unknown {
  try {
    switch (o.kind) {
      case 'append':
        return j.append(
          o.ids.map((x) =>
            reading(x, {
              observation: weight(o.kg / 10),
              state: o.state,
              ...(o.state !== 'pending' ? { reason: { code: 'C', message: 'm' } } : {}),
            }),
          ),
          o.cursor !== undefined ? { deviceId: 'scale-1', value: o.cursor } : undefined,
        );
      case 'transition':
        return j.transition(o.id, o.from, o.to, {
          ...(o.purge ? { purge: true } : {}),
          ...(o.withAudit ? { audit: { event: 'op.moved', detail: { to: o.to } } } : {}),
        });
      case 'audit':
        return j.audit({ event: o.event });
      case 'tick':
        clock.advance(o.ms);
        return null;
    }
  } catch (e) {
    return { refused: (e as { code?: string }).code ?? String(e) };
  }
}

it('SQLite and memory journals agree on every random sequence of operations', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (ops, maxReadings) => {
      const c1 = new TestClock();
      const c2 = new TestClock();
      const sql = new SqliteJournal({ path: join(dir, `m${n++}.db`), clock: c1, maxReadings });
      const mem = new MemoryJournal({ clock: c2, maxReadings });
      try {
        for (const o of ops) expect(apply(sql, c1, o)).toEqual(apply(mem, c2, o));
        expect(sql.list()).toEqual(mem.list());
        expect(sql.due(c1.now(), 100)).toEqual(mem.due(c2.now(), 100));
        expect(sql.cursor('scale-1')).toEqual(mem.cursor('scale-1'));
        expect(sql.stats(c1.now())).toEqual(mem.stats(c2.now()));
        expect(sql.auditList()).toEqual(mem.auditList());
        expect(sql.auditVerify()).toBeUndefined();
        // never more readings holding values than the limit, whatever happened
        expect(sql.list().filter((r) => r.observation !== null).length).toBeLessThanOrEqual(maxReadings);
      } finally {
        sql.close();
      }
    }),
    { numRuns: 150 },
  );
});
