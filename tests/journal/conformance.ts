/**
 * The journal conformance suite: the same expectations run against every Journal implementation
 * (SQLite and in-memory). Call `journalConformance(name, factory)` from a test file.
 */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../drivers/types.ts';
import type { Clock, Journal, NewReading, OutboxState } from '../../gateway/contracts.ts';
import { OUTBOX_STATES, TRANSITIONS } from '../../gateway/journal/rules.ts';

export type JournalFactory = (opts: {
  clock: Clock;
  maxReadings?: number;
  maxBytes?: number;
}) => Journal | Promise<Journal>;

export function weight(kg: number): Observation {
  return {
    kind: 'body-weight',
    loinc: '29463-7',
    mdc: '188736',
    value: kg,
    decimals: 1,
    unit: 'kg',
    time: { device: '2026-11-22T08:15:00', utc: '2026-11-22T07:15:00Z', quality: 'corrected' },
  };
}

export function reading(id: string, over: Partial<NewReading> = {}): NewReading {
  return { id, deviceId: 'scale-1', patientId: 'p1', observation: weight(72.4), state: 'pending', ...over };
}

/** What makes a reading local: a CGM sensor value kept for its summaries. */
export const localOver = {
  state: 'local',
  reason: { code: 'MEDGW_ERR_CGM_POINT_LOCAL', message: 'kept for the summaries' },
} as const satisfies Partial<NewReading>;

export class TestClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function journalConformance(name: string, factory: JournalFactory): void {
  describe(`Journal conformance: ${name}`, () => {
    async function open(
      opts: { maxReadings?: number; maxBytes?: number; onFull?: (refusal: { code: string }) => void } = {},
    ) {
      const clock = new TestClock();
      const journal = await factory({ clock, ...opts });
      return { clock, journal };
    }

    it('stores readings and returns them intact', async () => {
      const { journal, clock } = await open();
      const r = reading('r1');
      expect(journal.append([r])).toEqual({ accepted: ['r1'], duplicates: [] });
      const rec = journal.get('r1');
      expect(rec).toMatchObject({
        id: 'r1',
        deviceId: 'scale-1',
        patientId: 'p1',
        kind: 'body-weight',
        state: 'pending',
        attempts: 0,
        createdAt: clock.t,
        updatedAt: clock.t,
      });
      expect(rec?.observation).toEqual(r.observation);
      expect(journal.get('nope')).toBeUndefined();
      journal.close();
    });

    it('collapses duplicates across and within appends and reports them', async () => {
      const { journal } = await open();
      journal.append([reading('a'), reading('b')]);
      const res = journal.append([reading('b'), reading('c'), reading('c', { observation: weight(80) })]);
      expect(res).toEqual({ accepted: ['c'], duplicates: ['b', 'c'] });
      expect(journal.list()).toHaveLength(3);
      // the first copy wins; the later one did not overwrite it
      expect(journal.get('c')?.observation?.value).toBe(72.4);
      journal.close();
    });

    it('a delivered reading stays a duplicate after its values are purged', async () => {
      const { journal } = await open();
      journal.append([reading('d1')]);
      journal.transition('d1', 'pending', 'in-flight');
      const done = journal.transition('d1', 'in-flight', 'delivered', { remoteId: 'Observation/42' });
      expect(done.observation).toBeNull();
      expect(done.remoteId).toBe('Observation/42');
      expect(done.attempts).toBe(1);
      expect(journal.append([reading('d1')])).toEqual({ accepted: [], duplicates: ['d1'] });
      expect(journal.get('d1')?.state).toBe('delivered');
      journal.close();
    });

    it('allows exactly the legal transitions and refuses the rest with MEDGW_ERR_JOURNAL_STATE', async () => {
      const { journal } = await open();
      let n = 0;
      // bring a fresh reading to `state` through legal moves
      const path: Record<OutboxState, OutboxState[]> = {
        pending: [],
        'in-flight': ['in-flight'],
        delivered: ['in-flight', 'delivered'],
        held: ['held'],
        quarantined: ['quarantined'],
        'dead-letter': ['dead-letter'],
        // only an append makes a local reading, and nothing moves it
        local: [],
      };
      const at = (state: OutboxState): string => {
        const id = `t${n++}`;
        journal.append([reading(id, state === 'local' ? localOver : {})]);
        let cur: OutboxState = state === 'local' ? 'local' : 'pending';
        for (const step of path[state]) {
          journal.transition(id, cur, step, { reason: { code: 'MEDGW_ERR_X', message: 'test' } });
          cur = step;
        }
        expect(journal.get(id)?.state).toBe(state);
        return id;
      };
      for (const from of OUTBOX_STATES) {
        for (const to of OUTBOX_STATES) {
          const id = at(from);
          const legal = TRANSITIONS[from].includes(to);
          if (legal) {
            expect(journal.transition(id, from, to).state, `${from}→${to}`).toBe(to);
          } else {
            expect(() => journal.transition(id, from, to), `${from}→${to}`).toThrow(
              expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_STATE' }),
            );
            expect(journal.get(id)?.state).toBe(from);
          }
        }
      }
      journal.close();
    });

    it('refuses a transition from a state the reading is not in, and an unknown id', async () => {
      const { journal } = await open();
      journal.append([reading('x')]);
      expect(() => journal.transition('x', 'in-flight', 'delivered')).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_STATE' }),
      );
      expect(journal.get('x')?.state).toBe('pending');
      expect(() => journal.transition('ghost', 'pending', 'in-flight')).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_UNKNOWN_READING' }),
      );
      journal.close();
    });

    it('due() lists pending readings whose next attempt has come, oldest first', async () => {
      const { journal, clock } = await open();
      journal.append([reading('o1')]);
      clock.advance(10);
      journal.append([
        reading('o2'),
        reading('q', { state: 'quarantined', reason: { code: 'C', message: 'm' } }),
      ]);
      clock.advance(10);
      journal.append([reading('o3')]);
      expect(journal.due(clock.now(), 10).map((r) => r.id)).toEqual(['o1', 'o2', 'o3']);
      expect(journal.due(clock.now(), 2).map((r) => r.id)).toEqual(['o1', 'o2']);
      journal.transition('o1', 'pending', 'in-flight');
      journal.transition('o1', 'in-flight', 'pending', {
        nextAttemptAt: clock.now() + 1000,
        reason: { code: 'MEDGW_ERR_NET', message: 'timeout' },
      });
      expect(journal.due(clock.now(), 10).map((r) => r.id)).toEqual(['o2', 'o3']);
      expect(journal.due(clock.now() + 1000, 10).map((r) => r.id)).toEqual(['o1', 'o2', 'o3']);
      expect(journal.get('o1')).toMatchObject({ attempts: 1, nextAttemptAt: clock.now() + 1000 });
      journal.close();
    });

    it('list() filters by state, patient and device and honours the limit', async () => {
      const { journal } = await open();
      journal.append([
        reading('l1'),
        reading('l2', { patientId: 'p2' }),
        reading('l3', { deviceId: 'cuff-1', state: 'held', reason: { code: 'C', message: 'm' } }),
      ]);
      expect(journal.list({ state: 'held' }).map((r) => r.id)).toEqual(['l3']);
      expect(journal.list({ patientId: 'p2' }).map((r) => r.id)).toEqual(['l2']);
      expect(journal.list({ deviceId: 'cuff-1' }).map((r) => r.id)).toEqual(['l3']);
      expect(journal.list({ limit: 2 }).map((r) => r.id)).toEqual(['l1', 'l2']);
      expect(journal.list({ state: 'held' })[0]?.reason).toEqual({ code: 'C', message: 'm' });
      journal.close();
    });

    it('commits the cursor with the readings, and not at all when the append is refused', async () => {
      const { journal } = await open({ maxReadings: 3 });
      expect(journal.cursor('gluco-1')).toBeUndefined();
      journal.append([reading('g1', { deviceId: 'gluco-1' }), reading('g2', { deviceId: 'gluco-1' })], {
        deviceId: 'gluco-1',
        value: 2,
      });
      expect(journal.cursor('gluco-1')).toBe(2);
      expect(() =>
        journal.append([reading('g3', { deviceId: 'gluco-1' }), reading('g4', { deviceId: 'gluco-1' })], {
          deviceId: 'gluco-1',
          value: 4,
        }),
      ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }));
      expect(journal.cursor('gluco-1')).toBe(2);
      expect(journal.get('g3')).toBeUndefined();
      journal.close();
    });

    it('refuses new readings when full and evicts nothing; delivery makes room again', async () => {
      const alarms: string[] = [];
      const { journal, clock } = await open({ maxReadings: 2, onFull: (e) => alarms.push(e.code) });
      journal.append([reading('f1'), reading('f2')]);
      expect(() => journal.append([reading('f3')])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }),
      );
      expect(journal.list().map((r) => r.id)).toEqual(['f1', 'f2']);
      expect(journal.get('f1')?.observation).not.toBeNull();
      // duplicates of stored readings are still answered when full
      expect(journal.append([reading('f1')])).toEqual({ accepted: [], duplicates: ['f1'] });
      journal.transition('f1', 'pending', 'in-flight');
      journal.transition('f1', 'in-flight', 'delivered');
      expect(journal.append([reading('f3')]).accepted).toEqual(['f3']);
      const s = journal.stats(clock.now()) as { refusedFull?: number };
      expect(s.refusedFull).toBe(1);
      expect(alarms).toEqual(['MEDGW_ERR_JOURNAL_FULL']);
      journal.close();
    });

    it('applies a byte limit to the values it holds', async () => {
      const bytes = Buffer.byteLength(JSON.stringify(weight(72.4)));
      const { journal } = await open({ maxBytes: bytes * 2 + 1 });
      journal.append([reading('b1'), reading('b2')]);
      expect(() => journal.append([reading('b3')])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }),
      );
      journal.transition('b1', 'pending', 'held', { reason: { code: 'C', message: 'no consent' } });
      journal.transition('b1', 'held', 'dead-letter', {
        reason: { code: 'C', message: 'grace period over' },
        purge: true,
      });
      expect(journal.get('b1')?.observation).toBeNull();
      expect(journal.append([reading('b3')]).accepted).toEqual(['b3']);
      journal.close();
    });

    it('refuses malformed readings before storing anything', async () => {
      const { journal } = await open();
      expect(() => journal.append([reading('ok'), reading('', {})])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      expect(() => journal.append([reading('h', { state: 'held' })])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      expect(journal.list()).toEqual([]);
      journal.close();
    });

    it('audits what happens to each reading, without its values, in a verifiable chain', async () => {
      const { journal, clock } = await open();
      journal.append([reading('a1', { observation: weight(123.4) })]);
      clock.advance(5);
      journal.transition('a1', 'pending', 'in-flight');
      journal.transition('a1', 'in-flight', 'delivered', { remoteId: 'Observation/9' });
      journal.audit({ event: 'patient.consent-revoked', patientId: 'p1', detail: { kind: 'body-weight' } });
      const log = journal.auditList();
      expect(log.map((e) => e.event)).toEqual([
        'reading.stored',
        'reading.delivered',
        'patient.consent-revoked',
      ]);
      expect(log.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(log[1]).toMatchObject({
        readingId: 'a1',
        deviceId: 'scale-1',
        patientId: 'p1',
        kind: 'body-weight',
        at: clock.now(),
      });
      expect(log[1]?.detail).toMatchObject({ remoteId: 'Observation/9', purged: true });
      expect(JSON.stringify(log)).not.toContain('123.4');
      expect(new Set(log.map((e) => e.hash)).size).toBe(3);
      expect(journal.auditVerify()).toBeUndefined();
      expect(journal.auditList({ patientId: 'p1' })).toHaveLength(3);
      expect(journal.auditList({ readingId: 'a1' })).toHaveLength(2);
      expect(journal.auditList({ limit: 1 }).map((e) => e.seq)).toEqual([3]);
      journal.close();
    });

    it('refuses audit details that would carry values or secrets', async () => {
      const { journal } = await open();
      expect(() => journal.audit({ event: 'x.y', detail: { value: 12 } })).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      expect(() => journal.audit({ event: 'x.y', detail: { token: 'abc' } })).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      expect(() => journal.audit({ event: 'Bad Event' })).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      expect(journal.auditList()).toEqual([]);
      journal.close();
    });

    it('reports counts by state and the age of the oldest unsent reading', async () => {
      const { journal, clock } = await open();
      expect(journal.stats(clock.now())).toMatchObject({ oldestUnsentAgeMs: null });
      journal.append([reading('s1')]);
      clock.advance(1000);
      journal.append([
        reading('s2'),
        reading('s3', { state: 'quarantined', reason: { code: 'Q', message: 'q' } }),
      ]);
      journal.transition('s1', 'pending', 'in-flight');
      clock.advance(500);
      const s = journal.stats(clock.now());
      expect(s.byState).toEqual({
        pending: 1,
        quarantined: 1,
        held: 0,
        'in-flight': 1,
        delivered: 0,
        'dead-letter': 0,
        local: 0,
      });
      expect(s.oldestUnsentAgeMs).toBe(1500);
      journal.transition('s1', 'in-flight', 'delivered');
      expect(journal.stats(clock.now()).oldestUnsentAgeMs).toBe(500);
      journal.close();
    });

    it('writes the caller’s audit entry with a transition, in the same step, or refuses both', async () => {
      const { journal } = await open();
      journal.append([reading('ca')]);
      journal.transition('ca', 'pending', 'in-flight', {
        audit: { event: 'mes.sending', detail: { attempt: 1 } },
      });
      journal.transition('ca', 'in-flight', 'delivered', {
        remoteId: 'Observation/7',
        audit: { event: 'mes.delivered', detail: { remoteId: 'Observation/7', httpStatus: 200 } },
      });
      const log = journal.auditList({ readingId: 'ca' });
      expect(log.map((e) => e.event)).toEqual(['reading.stored', 'mes.sending', 'mes.delivered']);
      expect(log[2]).toMatchObject({
        deviceId: 'scale-1',
        patientId: 'p1',
        kind: 'body-weight',
        detail: { httpStatus: 200 },
      });
      journal.append([reading('cb')]);
      expect(() =>
        journal.transition('cb', 'pending', 'held', {
          reason: { code: 'C', message: 'm' },
          audit: { event: 'mes.held', detail: { value: 72.4 } },
        }),
      ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }));
      expect(journal.get('cb')?.state).toBe('pending');
      expect(journal.auditVerify()).toBeUndefined();
      journal.close();
    });

    it('keeps local readings apart: never due or claimed, not unsent, not quarantined, counted as local', async () => {
      const { journal, clock } = await open();
      journal.append([reading('l1', localOver), reading('l2', localOver)]);
      expect(() => journal.append([reading('l0', { state: 'local' })])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      clock.advance(1000);
      journal.append([
        reading('p1'),
        reading('q1', { state: 'quarantined', reason: { code: 'Q', message: 'q' } }),
      ]);
      clock.advance(500);
      expect(journal.get('l1')).toMatchObject({
        state: 'local',
        reason: { code: 'MEDGW_ERR_CGM_POINT_LOCAL' },
        observation: weight(72.4),
      });
      expect(journal.due(clock.now(), 10).map((r) => r.id)).toEqual(['p1']);
      if (journal.claim) {
        const claimed = await journal.claim(clock.now(), 10, 60_000);
        expect(claimed.map((c) => c.record.id)).toEqual(['p1']);
      }
      expect(journal.list({ state: 'quarantined' }).map((r) => r.id)).toEqual(['q1']);
      expect(journal.list({ state: 'local' }).map((r) => r.id)).toEqual(['l1', 'l2']);
      const s = journal.stats(clock.now());
      expect(s.byState).toMatchObject({ local: 2, quarantined: 1 });
      // the oldest unsent reading is p1 or q1 (1.5 s), not the local ones stored a second earlier
      expect(s.oldestUnsentAgeMs).toBe(500);
      // nothing moves a local reading
      expect(() => journal.transition('l1', 'local', 'pending')).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_STATE' }),
      );
      expect(journal.auditList({ readingId: 'l1' }).map((e) => [e.event, e.detail])).toEqual([
        ['reading.stored', { state: 'local', code: 'MEDGW_ERR_CGM_POINT_LOCAL' }],
      ]);
      journal.close();
    });

    it('purgeLocal deletes local readings only, with one audit entry per batch, and the chain holds', async () => {
      const { journal, clock } = await open({ maxReadings: 4 });
      journal.append([reading('l1', localOver), reading('l2', localOver), reading('p1')]);
      journal.append([reading('l3', localOver)]);
      // local readings hold values: they count against the limits
      expect(() => journal.append([reading('p2')])).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }),
      );
      clock.advance(10);
      const audit = { event: 'cgm.points-purged', deviceId: 'scale-1', detail: { rule: 'acknowledged' } };
      // a detail with a value is refused, and nothing is deleted
      expect(() => journal.purgeLocal(['l1'], { event: 'cgm.points-purged', detail: { value: 5 } })).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_INVALID' }),
      );
      expect(journal.get('l1')?.state).toBe('local');
      // the last rows stored go first: a new reading may take their place in the file
      expect(journal.purgeLocal(['l3', 'l2', 'p1', 'nope', 'l2'], audit)).toBe(2);
      expect(journal.get('l2')).toBeUndefined();
      expect(journal.get('l3')).toBeUndefined();
      expect(journal.get('p1')?.state).toBe('pending');
      expect(journal.list({ state: 'local' }).map((r) => r.id)).toEqual(['l1']);
      expect(journal.stats(clock.now()).byState.local).toBe(1);
      const last = journal.auditList().at(-1);
      expect(last).toMatchObject({
        event: 'cgm.points-purged',
        deviceId: 'scale-1',
        detail: { rule: 'acknowledged', deleted: 2 },
      });
      expect(last?.readingId).toBeUndefined();
      // nothing to delete: no entry
      const entries = journal.auditList().length;
      expect(journal.purgeLocal(['l2', 'p1'], audit)).toBe(0);
      expect(journal.auditList()).toHaveLength(entries);
      // room again, and a reading stored after the deletion is audited as itself
      journal.append([reading('p2'), reading('p3')]);
      journal.transition('p3', 'pending', 'held', { reason: { code: 'C', message: 'm' } });
      expect(journal.auditList({ readingId: 'p3' }).map((e) => e.event)).toEqual([
        'reading.stored',
        'reading.held',
      ]);
      // the deleted readings' own entries still name them, and every hash still chains
      expect(journal.auditList({ readingId: 'l3' }).map((e) => [e.event, e.readingId])).toEqual([
        ['reading.stored', 'l3'],
      ]);
      expect(journal.auditVerify()).toBeUndefined();
      journal.close();
    });

    it('re-released readings lose their old reason; retried ones keep it', async () => {
      const { journal } = await open();
      journal.append([
        reading('rr', { state: 'held', reason: { code: 'MEDGW_ERR_CONSENT', message: 'no consent' } }),
      ]);
      expect(journal.transition('rr', 'held', 'pending').reason).toBeUndefined();
      journal.transition('rr', 'pending', 'in-flight');
      const back = journal.transition('rr', 'in-flight', 'pending', {
        reason: { code: 'MEDGW_ERR_HTTP_503', message: 'unavailable' },
      });
      expect(back.reason?.code).toBe('MEDGW_ERR_HTTP_503');
      expect(journal.transition('rr', 'pending', 'dead-letter', { patientId: 'p9' }).patientId).toBe('p9');
      journal.close();
    });
  });
}
