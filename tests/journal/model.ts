/**
 * The model-based check shared by the journal implementations: random sequences of appends,
 * transitions and audit entries applied to a journal and to the in-memory journal (the model) give
 * the same answers, the same refusals and the same final state, down to the audit hashes.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Journal, OutboxState } from '../../gateway/contracts.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { OUTBOX_STATES } from '../../gateway/journal/rules.ts';
import { reading, TestClock, weight } from './conformance.ts';

const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const state = fc.constantFrom<OutboxState>(...OUTBOX_STATES);
export const op = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    ids: fc.array(id, { minLength: 1, maxLength: 4 }),
    state: fc.constantFrom('pending' as const, 'held' as const, 'quarantined' as const, 'local' as const),
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
  fc.record({
    kind: fc.constant('purgeLocal' as const),
    ids: fc.array(id, { maxLength: 4 }),
    event: fc.constantFrom('cgm.points-purged', 'Bad Event'),
  }),
);

export type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

export function apply(j: Journal, clock: TestClock, o: Op): unknown {
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
      case 'purgeLocal':
        return j.purgeLocal(o.ids, { event: o.event, deviceId: 'scale-1', detail: { rule: 'test' } });
    }
  } catch (e) {
    return { refused: (e as { code?: string }).code ?? String(e) };
  }
}

/** Runs `ops` on `journal` and on a fresh memory journal with the same limit; fails on any difference. */
export function agreesWithModel(
  journal: Journal,
  clock: TestClock,
  ops: readonly Op[],
  maxReadings: number,
): void {
  const c2 = new TestClock(clock.t);
  const mem = new MemoryJournal({ clock: c2, maxReadings });
  for (const o of ops) expect(apply(journal, clock, o)).toEqual(apply(mem, c2, o));
  expect(journal.list()).toEqual(mem.list());
  expect(journal.due(clock.now(), 100)).toEqual(mem.due(c2.now(), 100));
  expect(journal.cursor('scale-1')).toEqual(mem.cursor('scale-1'));
  expect(journal.stats(clock.now())).toEqual(mem.stats(c2.now()));
  expect(journal.auditList()).toEqual(mem.auditList());
  expect(journal.auditVerify()).toBeUndefined();
  // never more readings holding values than the limit, whatever happened
  expect(journal.list().filter((r) => r.observation !== null).length).toBeLessThanOrEqual(maxReadings);
}

export const modelRun = { ops: fc.array(op, { maxLength: 40 }), maxReadings: fc.integer({ min: 1, max: 8 }) };
