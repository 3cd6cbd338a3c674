/**
 * In-memory journal for tests: the same rules as the SQLite journal (rules.ts), nothing durable.
 * tests/journal/conformance.ts proves both behave alike.
 */

import type { Observation } from '../../drivers/types.ts';
import { MedgwError } from '../../kernel/errors.ts';
import {
  type AppendResult,
  type AuditEntry,
  type Clock,
  type Journal,
  type NewReading,
  type OutboxRecord,
  type OutboxState,
  systemClock,
} from '../contracts.ts';
import type { BatchAppend, BatchJournal, BatchTransition } from './group-commit.ts';
import {
  auditedTransition,
  auditHash,
  checkAuditEntry,
  checkAuditRoom,
  checkLimits,
  checkNewReading,
  checkTransition,
  GENESIS_HASH,
  type JournalLimits,
  type JournalStats,
  type LocalPurgeAudit,
  localPurgeDetail,
  OUTBOX_STATES,
  UNSENT_STATES,
  unknownReading,
  verifyChain,
} from './rules.ts';

interface Stored {
  record: OutboxRecord;
  bytes: number;
  order: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class MemoryJournal implements Journal, BatchJournal {
  private readonly records = new Map<string, Stored>();
  private readonly cursors = new Map<string, number>();
  private readonly auditLog: AuditEntry[] = [];
  private held = { readings: 0, bytes: 0 };
  private order = 0;
  private refusedFull = 0;
  private closed = false;
  private readonly clock: Clock;
  private readonly limits: JournalLimits;

  private readonly onFull: ((refusal: MedgwError) => void) | undefined;

  constructor(options: JournalLimits & { clock?: Clock; onFull?: (refusal: MedgwError) => void } = {}) {
    this.clock = options.clock ?? systemClock;
    this.onFull = options.onFull;
    this.limits = {
      maxReadings: options.maxReadings,
      maxBytes: options.maxBytes,
      maxAuditEntries: options.maxAuditEntries,
    };
  }

  append(readings: readonly NewReading[], cursor?: { deviceId: string; value: number }): AppendResult {
    this.assertOpen();
    for (const r of readings) checkNewReading(r);
    if (cursor && !Number.isSafeInteger(cursor.value)) {
      throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `cursor of ${cursor.deviceId} must be an integer`);
    }
    const now = this.clock.now();
    const accepted: { r: NewReading; json: string }[] = [];
    const duplicates: string[] = [];
    const seen = new Set<string>();
    let bytes = 0;
    for (const r of readings) {
      if (seen.has(r.id) || this.records.has(r.id)) {
        duplicates.push(r.id);
        continue;
      }
      seen.add(r.id);
      const json = JSON.stringify(r.observation);
      bytes += Buffer.byteLength(json);
      accepted.push({ r, json });
    }
    try {
      checkLimits(this.limits, this.held, { readings: accepted.length, bytes });
    } catch (e) {
      this.refusedFull++;
      if (e instanceof MedgwError) this.onFull?.(e);
      throw e;
    }
    for (const { r, json } of accepted) {
      const record: OutboxRecord = {
        id: r.id,
        deviceId: r.deviceId,
        ...(r.patientId !== undefined ? { patientId: r.patientId } : {}),
        kind: r.observation.kind,
        state: r.state,
        observation: JSON.parse(json) as Observation,
        attempts: 0,
        createdAt: now,
        updatedAt: now,
        ...(r.reason ? { reason: { code: r.reason.code, message: r.reason.message } } : {}),
      };
      this.records.set(r.id, { record, bytes: Buffer.byteLength(json), order: this.order++ });
      this.pushAudit({
        at: now,
        event: 'reading.stored',
        readingId: r.id,
        deviceId: r.deviceId,
        ...(r.patientId !== undefined ? { patientId: r.patientId } : {}),
        kind: r.observation.kind,
        detail: { state: r.state, ...(r.reason ? { code: r.reason.code } : {}) },
      });
    }
    this.held = { readings: this.held.readings + accepted.length, bytes: this.held.bytes + bytes };
    if (duplicates.length > 0) {
      this.pushAudit({
        at: now,
        event: 'readings.duplicate',
        deviceId: readings[0]!.deviceId,
        detail: { count: duplicates.length },
      });
    }
    if (cursor) this.cursors.set(cursor.deviceId, cursor.value);
    return { accepted: accepted.map((a) => a.r.id), duplicates };
  }

  get(id: string): OutboxRecord | undefined {
    this.assertOpen();
    return this.copy(this.records.get(id)?.record);
  }

  list(
    filter: { state?: OutboxState; patientId?: string; deviceId?: string; limit?: number } = {},
  ): OutboxRecord[] {
    this.assertOpen();
    const out = this.sorted().filter(
      (r) =>
        (!filter.state || r.state === filter.state) &&
        (!filter.patientId || r.patientId === filter.patientId) &&
        (!filter.deviceId || r.deviceId === filter.deviceId),
    );
    return (filter.limit !== undefined ? out.slice(0, filter.limit) : out).map((r) => this.copy(r)!);
  }

  due(now: number, limit: number): OutboxRecord[] {
    this.assertOpen();
    return this.sorted()
      .filter((r) => r.state === 'pending' && (r.nextAttemptAt === undefined || r.nextAttemptAt <= now))
      .slice(0, limit)
      .map((r) => this.copy(r)!);
  }

  transition(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch: Parameters<Journal['transition']>[3] = {},
  ): OutboxRecord {
    this.assertOpen();
    if (patch.audit) checkAuditEntry(patch.audit);
    const stored = this.records.get(id);
    if (!stored) throw unknownReading(id);
    const row = stored.record;
    checkTransition(id, row.state, from, to);
    const now = this.clock.now();
    const purge = to === 'delivered' || patch.purge === true;
    const restated =
      !purge && patch.observation && row.observation !== null ? JSON.stringify(patch.observation) : undefined;
    const next: Mutable<OutboxRecord> = {
      ...row,
      state: to,
      observation: purge ? null : restated ? (JSON.parse(restated) as Observation) : row.observation,
      attempts: to === 'in-flight' ? row.attempts + 1 : row.attempts,
      updatedAt: now,
    };
    delete next.nextAttemptAt;
    if (to === 'pending' && patch.nextAttemptAt !== undefined) next.nextAttemptAt = patch.nextAttemptAt;
    if (patch.reason) next.reason = { code: patch.reason.code, message: patch.reason.message };
    else if (to === 'pending' && from !== 'in-flight') delete next.reason;
    if (patch.remoteId !== undefined) next.remoteId = patch.remoteId;
    if (patch.patientId !== undefined) next.patientId = patch.patientId;
    if (purge && row.observation !== null) {
      this.held = { readings: this.held.readings - 1, bytes: this.held.bytes - stored.bytes };
    }
    const bytes = purge ? 0 : restated ? Buffer.byteLength(restated) : stored.bytes;
    if (restated) this.held = { readings: this.held.readings, bytes: this.held.bytes - stored.bytes + bytes };
    this.records.set(id, { record: next, bytes, order: stored.order });
    if (patch.audit) {
      this.pushAudit({
        at: now,
        event: patch.audit.event,
        readingId: id,
        deviceId: row.deviceId,
        ...(next.patientId !== undefined ? { patientId: next.patientId } : {}),
        kind: row.kind,
        ...(patch.audit.detail ? { detail: patch.audit.detail } : {}),
      });
    } else if (auditedTransition(from, to)) {
      this.pushAudit({
        at: now,
        event: `reading.${to}`,
        readingId: id,
        deviceId: row.deviceId,
        ...(next.patientId !== undefined ? { patientId: next.patientId } : {}),
        kind: row.kind,
        detail: {
          from,
          attempts: next.attempts,
          ...(patch.reason ? { code: patch.reason.code } : {}),
          ...(patch.remoteId ? { remoteId: patch.remoteId } : {}),
          ...(purge ? { purged: true } : {}),
        },
      });
    }
    return this.copy(next)!;
  }

  appendBatch(items: readonly BatchAppend[]): (AppendResult | MedgwError)[] {
    return items.map((item) => {
      try {
        return this.append(item.readings, item.cursor);
      } catch (e) {
        if (e instanceof MedgwError) return e;
        throw e;
      }
    });
  }

  transitionBatch(moves: readonly BatchTransition[]): (OutboxRecord | MedgwError)[] {
    return moves.map((m) => {
      try {
        return this.transition(m.id, m.from, m.to, m.patch);
      } catch (e) {
        if (e instanceof MedgwError) return e;
        throw e;
      }
    });
  }

  purgeLocal(ids: readonly string[], audit: LocalPurgeAudit): number {
    this.assertOpen();
    checkAuditEntry(audit);
    let deleted = 0;
    for (const id of new Set(ids)) {
      const stored = this.records.get(id);
      if (stored?.record.state !== 'local') continue;
      this.records.delete(id);
      if (stored.record.observation !== null) {
        this.held = { readings: this.held.readings - 1, bytes: this.held.bytes - stored.bytes };
      }
      deleted++;
    }
    if (deleted > 0) {
      this.pushAudit({
        at: this.clock.now(),
        event: audit.event,
        ...(audit.deviceId !== undefined ? { deviceId: audit.deviceId } : {}),
        ...(audit.patientId !== undefined ? { patientId: audit.patientId } : {}),
        detail: localPurgeDetail(audit, deleted),
      });
    }
    return deleted;
  }

  cursor(deviceId: string): number | undefined {
    this.assertOpen();
    return this.cursors.get(deviceId);
  }

  audit(entry: Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number }): AuditEntry {
    this.assertOpen();
    checkAuditEntry(entry);
    return this.pushAudit({ ...entry, at: entry.at ?? this.clock.now() });
  }

  /** As SqliteJournal.auditBatch: summaries, each refused alone beyond maxAuditEntries. */
  auditBatch(
    entries: readonly (Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number })[],
  ): (AuditEntry | MedgwError)[] {
    this.assertOpen();
    const now = this.clock.now();
    return entries.map((entry) => {
      try {
        checkAuditEntry(entry);
        checkAuditRoom(this.limits, this.auditLog.length);
      } catch (e) {
        if (e instanceof MedgwError) return e;
        throw e;
      }
      return this.pushAudit({ ...entry, at: entry.at ?? now });
    });
  }

  auditList(filter: { patientId?: string; readingId?: string; limit?: number } = {}): AuditEntry[] {
    this.assertOpen();
    const out = this.auditLog.filter(
      (e) =>
        (!filter.patientId || e.patientId === filter.patientId) &&
        (!filter.readingId || e.readingId === filter.readingId),
    );
    const sliced = filter.limit !== undefined ? out.slice(Math.max(0, out.length - filter.limit)) : out;
    return sliced.map((e) => structuredClone(e));
  }

  auditVerify(): number | undefined {
    this.assertOpen();
    return verifyChain(this.auditLog);
  }

  stats(now: number): JournalStats {
    this.assertOpen();
    const byState = Object.fromEntries(OUTBOX_STATES.map((s) => [s, 0])) as Record<OutboxState, number>;
    let oldest: number | null = null;
    for (const { record } of this.records.values()) {
      byState[record.state]++;
      if (UNSENT_STATES.includes(record.state) && (oldest === null || record.createdAt < oldest)) {
        oldest = record.createdAt;
      }
    }
    return {
      byState,
      oldestUnsentAgeMs: oldest === null ? null : Math.max(0, now - oldest),
      held: { ...this.held },
      limits: this.limits,
      refusedFull: this.refusedFull,
      auditEntries: this.auditLog.length,
    };
  }

  close(): void {
    this.closed = true;
  }

  /** Test hook: the raw audit array, so a tampering test can alter an entry the way a disk edit would. */
  unsafeAuditLog(): AuditEntry[] {
    return this.auditLog;
  }

  private pushAudit(entry: Omit<AuditEntry, 'seq' | 'hash'>): AuditEntry {
    const last = this.auditLog[this.auditLog.length - 1];
    const base: Omit<AuditEntry, 'hash'> = { ...entry, seq: (last?.seq ?? 0) + 1 };
    const full: AuditEntry = { ...base, hash: auditHash(last?.hash ?? GENESIS_HASH, base) };
    this.auditLog.push(full);
    return structuredClone(full);
  }

  private sorted(): OutboxRecord[] {
    return [...this.records.values()]
      .sort((a, b) => a.record.createdAt - b.record.createdAt || a.order - b.order)
      .map((s) => s.record);
  }

  private copy(r: OutboxRecord | undefined): OutboxRecord | undefined {
    return r ? structuredClone(r) : undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new MedgwError('MEDGW_ERR_JOURNAL_OPEN', 'the in-memory journal is closed');
  }
}
