/**
 * The durable journal: outbox, RACP cursors and the hash-chained audit log in one SQLite file
 * (better-sqlite3, WAL, synchronous=FULL). A reading and the cursor that covers it commit in one
 * transaction; nothing is ever evicted to make room. The file format is in sqlite-schema.ts, the
 * audit chain in sqlite-audit.ts, the mapping of rows to records (shared with PostgreSQL) in rows.ts.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
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
import { type PreparedAppend, type PreparedReading, prepareAppends } from './prepare.ts';
import { type OutboxRow, toRecord } from './rows.ts';
import {
  auditedTransition,
  checkAuditEntry,
  checkAuditRoom,
  checkLimits,
  checkTransition,
  type JournalLimits,
  type JournalStats,
  type LocalPurgeAudit,
  localPurgeDetail,
  OUTBOX_STATES,
  UNSENT_STATES,
  unknownReading,
} from './rules.ts';
import { type ChainMark, SqliteAuditChain } from './sqlite-audit.ts';
import {
  MIGRATIONS,
  OLDEST_MIGRATED_SCHEMA,
  OUTBOX_INSERT,
  outboxValues,
  SCHEMA,
  SCHEMA_VERSION,
} from './sqlite-schema.ts';

export interface SqliteJournalOptions extends JournalLimits {
  readonly path: string;
  readonly clock?: Clock;
  /** Extra pragmas applied after opening (cache size, page limits); `synchronous` and `journal_mode` are fixed. */
  readonly pragmas?: readonly string[];
  /** Called each time readings are refused because the journal is full: the operator alarm. */
  readonly onFull?: (refusal: MedgwError) => void;
  /**
   * Accept an existing 0-byte file as a new journal: only in a new data directory (a first start cut
   * short). Otherwise an empty file is a lost history and is refused (MEDGW_ERR_JOURNAL_CORRUPT).
   */
  readonly acceptEmptyFile?: boolean;
}

export { type PreparedAppend, type PreparedReading, prepareAppends } from './prepare.ts';

/** Whether adding these would stay within the limits (checkLimits without the refusal). */
function fitsLimits(
  limits: JournalLimits,
  held: { readings: number; bytes: number },
  adding: { readings: number; bytes: number },
): boolean {
  return (
    (limits.maxReadings === undefined || held.readings + adding.readings <= limits.maxReadings) &&
    (limits.maxBytes === undefined || held.bytes + adding.bytes <= limits.maxBytes)
  );
}

/** SQLite reports a full disk or a reached page limit as SQLITE_FULL: the same policy as the configured limit. */
function mapSqliteError(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL') {
    return new MedgwError(
      'MEDGW_ERR_JOURNAL_FULL',
      'the disk holding the journal is full; nothing was stored and nothing evicted',
      { limit: 'disk' },
    );
  }
  return e;
}

export class SqliteJournal implements Journal, BatchJournal {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly limits: JournalLimits;
  private held = { readings: 0, bytes: 0 };
  private readonly chain: SqliteAuditChain;
  private refusedFull = 0;
  private readonly onFull: ((refusal: MedgwError) => void) | undefined;
  private closed = false;
  private readonly st;
  /** Built once: wrapping a function in a transaction per call is work the hot path does not need. */
  private readonly appendAll: Database.Transaction<
    (items: readonly PreparedAppend[]) => (AppendResult | MedgwError)[]
  >;

  constructor(options: SqliteJournalOptions) {
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
    this.onFull = options.onFull;
    this.limits = {
      maxReadings: options.maxReadings,
      maxBytes: options.maxBytes,
      maxAuditEntries: options.maxAuditEntries,
    };
    let opened: Database.Database | undefined;
    let size: number | undefined;
    try {
      size = statSync(options.path).size;
    } catch {
      // no file yet: a new journal
    }
    if (size === 0 && options.acceptEmptyFile !== true) {
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_CORRUPT',
        `the journal at ${options.path} is an empty file (0 bytes) in a data directory that is not new: its history would silently disappear`,
      );
    }
    try {
      opened = new Database(options.path);
      opened.pragma('journal_mode = WAL');
      opened.pragma('synchronous = FULL');
      opened.pragma('busy_timeout = 5000');
      // Checkpoint every 4000 pages (16 MiB of WAL at 4 KiB pages) rather than SQLite's 1000: pages
      // written again and again between two checkpoints (index interiors, the random leaves of the
      // reading-id index) are copied back once, which takes about a fifth off an ingest-heavy commit.
      opened.pragma('wal_autocheckpoint = 4000');
      for (const p of options.pragmas ?? []) opened.pragma(p);
      const version = opened.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `it was written by a newer medgw (schema ${version}, this one knows ${SCHEMA_VERSION})`,
        );
      }
      if (version !== 0 && version < OLDEST_MIGRATED_SCHEMA) {
        // no released file has an earlier schema: such a file comes from a pre-release build
        throw new Error(
          `it has schema ${version}, from a pre-release medgw; move it aside and start a new journal`,
        );
      }
      // every page is read once at open (sqlite.org/pragma.html#pragma_quick_check): a damaged page
      // is reported here, as a journal error, not later by whichever component touches it first
      if (size !== undefined && size > 0) {
        const problems = opened.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[];
        const found = problems.map((r) => r.quick_check).filter((r) => r !== 'ok');
        if (found.length > 0) throw Object.assign(new Error(found.join('; ')), { code: 'SQLITE_CORRUPT' });
      }
      const db = opened;
      // an older file is migrated, its schema made current and its version set, in one transaction
      db.transaction(() => {
        for (let v = version === 0 ? SCHEMA_VERSION : version; v < SCHEMA_VERSION; v++) {
          db.exec(MIGRATIONS[v] ?? '');
        }
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    } catch (e) {
      opened?.close();
      const code = (e as { code?: unknown }).code;
      if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
        throw new MedgwError(
          'MEDGW_ERR_JOURNAL_CORRUPT',
          `the journal at ${options.path} is damaged: ${(e as Error).message}`,
        );
      }
      throw new MedgwError(
        'MEDGW_ERR_JOURNAL_OPEN',
        `cannot open the journal at ${options.path}: ${(e as Error).message}`,
      );
    }
    this.db = opened;
    const db = this.db;
    this.st = {
      get: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
      exists: db.prepare<[string], { row: number }>('SELECT row FROM outbox WHERE id = ?'),
      auditRow: db.prepare<[string], { row: number }>(
        "SELECT row FROM outbox WHERE id = ? AND state <> 'local'",
      ),
      deleteLocal: db.prepare<[string], { bytes: number; held: number }>(
        `DELETE FROM outbox WHERE id = ? AND state = 'local'
         RETURNING bytes, observation IS NOT NULL AS held`,
      ),
      // positional parameters (sqlite-schema.ts): binding by name costs about twice as much
      insert: db.prepare<(string | number | null)[]>(OUTBOX_INSERT),
      update: db.prepare(
        `UPDATE outbox SET state = @state, observation = @observation, bytes = @bytes, attempts = @attempts,
         next_attempt_at = @next_attempt_at, updated_at = @now, reason_code = @reason_code,
         reason_message = @reason_message, remote_id = @remote_id, patient_id = @patient_id WHERE id = @id`,
      ),
      due: db.prepare<[number, number], OutboxRow>(
        `SELECT * FROM outbox WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         ORDER BY created_at, rowid LIMIT ?`,
      ),
      cursorGet: db.prepare<[string], { value: number }>('SELECT value FROM cursors WHERE device_id = ?'),
      cursorSet: db.prepare(
        `INSERT INTO cursors (device_id, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
      heldTotals: db.prepare<[], { n: number; b: number | null }>(
        'SELECT COUNT(*) AS n, SUM(bytes) AS b FROM outbox WHERE observation IS NOT NULL',
      ),
      byState: db.prepare<[], { state: string; n: number }>(
        'SELECT state, COUNT(*) AS n FROM outbox GROUP BY state',
      ),
      oldestUnsent: db.prepare<[], { t: number | null }>(
        `SELECT MIN(created_at) AS t FROM outbox WHERE state IN (${UNSENT_STATES.map((s) => `'${s}'`).join(',')})`,
      ),
    };
    this.appendAll = db.transaction((items: readonly PreparedAppend[]) =>
      items.map((item) => this.appendItem(item)),
    );
    const totals = this.st.heldTotals.get();
    this.held = { readings: totals?.n ?? 0, bytes: totals?.b ?? 0 };
    // A reading kept local is named by its id in the audit log, never by its row: it is deleted once
    // it has served (purgeLocal), and an entry must name it as it was when its hash was computed.
    this.chain = new SqliteAuditChain(db, (id) => this.st.auditRow.get(id)?.row);
  }

  append(readings: readonly NewReading[], cursor?: { deviceId: string; value: number }): AppendResult {
    const [result] = this.appendBatch([{ readings, cursor }]);
    if (result instanceof MedgwError) throw result;
    return result!;
  }

  /**
   * Several appends in one transaction (one fsync); each item succeeds or is refused on its own.
   * Every check that can refuse an item runs before the item writes anything, so a refused item needs
   * no savepoint; any other failure rolls the whole transaction back.
   */
  appendBatch(items: readonly BatchAppend[]): (AppendResult | MedgwError)[] {
    this.assertOpen();
    return this.appendPrepared(prepareAppends(items));
  }

  /** appendBatch for items already checked and serialized (prepareAppends): the journal thread's entry. */
  appendPrepared(items: readonly PreparedAppend[]): (AppendResult | MedgwError)[] {
    this.assertOpen();
    const saved = this.mark();
    try {
      return this.appendAll.immediate(items);
    } catch (e) {
      this.rewind(saved);
      const mapped = mapSqliteError(e);
      if (mapped instanceof MedgwError && mapped.code === 'MEDGW_ERR_JOURNAL_FULL') {
        // the disk filled up: give each item its own chance, the small ones may still fit
        if (items.length > 1) return items.flatMap((item) => this.appendPrepared([item]));
        this.refused(mapped);
        return [mapped];
      }
      throw mapped;
    }
  }

  private refused(e: MedgwError): void {
    this.refusedFull++;
    try {
      this.onFull?.(e);
    } catch {
      // an alarm that fails must not turn a refusal into a crash
    }
  }

  /** One item inside the batch transaction: a JOURNAL_FULL refusal is returned before any write. */
  private appendItem(item: PreparedAppend): AppendResult | MedgwError {
    try {
      return this.appendInTx(item);
    } catch (e) {
      if (e instanceof MedgwError && e.code === 'MEDGW_ERR_JOURNAL_FULL') {
        this.refused(e);
        return e;
      }
      throw e;
    }
  }

  private appendInTx(item: PreparedAppend): AppendResult {
    const now = this.clock.now();
    let candidates: { r: PreparedReading; at: number }[] = [];
    /** Positions in `item.readings` of the duplicates, so they are reported in the order sent. */
    const duplicateAt: number[] = [];
    const seen = new Set<string>();
    let bytes = 0;
    item.readings.forEach((r, at) => {
      if (seen.has(r.id)) {
        duplicateAt.push(at);
        return;
      }
      seen.add(r.id);
      candidates.push({ r, at });
      bytes += r.bytes;
    });
    // When every candidate fits the limits, the ones already stored need no look-up first: the
    // insert skips them (ON CONFLICT) and reports them. Otherwise find them before writing, so that
    // the limit check — the last one that can refuse this item — sees exactly what would be added.
    if (!fitsLimits(this.limits, this.held, { readings: candidates.length, bytes })) {
      const fresh = candidates.filter((c) => this.st.exists.get(c.r.id) === undefined);
      for (const c of candidates) if (!fresh.includes(c)) duplicateAt.push(c.at);
      candidates = fresh;
      bytes = fresh.reduce((sum, c) => sum + c.r.bytes, 0);
      checkLimits(this.limits, this.held, { readings: fresh.length, bytes });
    }
    const stored: PreparedReading[] = [];
    let storedBytes = 0;
    for (const { r, at } of candidates) {
      const inserted = this.st.insert.run(
        ...outboxValues({
          id: r.id,
          device_id: r.deviceId,
          patient_id: r.patientId,
          kind: r.kind,
          state: r.state,
          observation: r.json,
          bytes: r.bytes,
          attempts: 0,
          next_attempt_at: null,
          created_at: now,
          updated_at: now,
          reason_code: r.reasonCode,
          reason_message: r.reasonMessage,
          remote_id: null,
        }),
      );
      if (inserted.changes === 0) {
        duplicateAt.push(at);
        continue;
      }
      stored.push(r);
      storedBytes += r.bytes;
      const local = r.state === 'local';
      this.chain.append(
        {
          at: now,
          event: 'reading.stored',
          readingId: r.id,
          deviceId: r.deviceId,
          ...(r.patientId !== null ? { patientId: r.patientId } : {}),
          kind: r.kind,
          detail: { state: r.state, ...(r.reasonCode !== null ? { code: r.reasonCode } : {}) },
        },
        // a local reading by its id (see auditRow)
        local ? undefined : Number(inserted.lastInsertRowid),
      );
    }
    this.held = { readings: this.held.readings + stored.length, bytes: this.held.bytes + storedBytes };
    const duplicates = duplicateAt.sort((a, b) => a - b).map((at) => item.readings[at]!.id);
    if (duplicates.length > 0) {
      this.chain.append({
        at: now,
        event: 'readings.duplicate',
        deviceId: item.readings[0]!.deviceId,
        detail: { count: duplicates.length },
      });
    }
    if (item.cursor) this.st.cursorSet.run(item.cursor.deviceId, item.cursor.value, now);
    return { accepted: stored.map((r) => r.id), duplicates };
  }

  get(id: string): OutboxRecord | undefined {
    this.assertOpen();
    const row = this.st.get.get(id);
    return row ? toRecord(row) : undefined;
  }

  list(
    filter: { state?: OutboxState; patientId?: string; deviceId?: string; limit?: number } = {},
  ): OutboxRecord[] {
    this.assertOpen();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.state) {
      where.push('state = ?');
      params.push(filter.state);
    }
    if (filter.patientId) {
      where.push('patient_id = ?');
      params.push(filter.patientId);
    }
    if (filter.deviceId) {
      where.push('device_id = ?');
      params.push(filter.deviceId);
    }
    let sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, rowid`;
    if (filter.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(filter.limit);
    }
    return this.db
      .prepare<(string | number)[], OutboxRow>(sql)
      .all(...params)
      .map(toRecord);
  }

  due(now: number, limit: number): OutboxRecord[] {
    this.assertOpen();
    return this.st.due.all(now, limit).map(toRecord);
  }

  transition(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch: Parameters<Journal['transition']>[3] = {},
  ): OutboxRecord {
    const [r] = this.transitionBatch([{ id, from, to, patch }]);
    if (r instanceof MedgwError) throw r;
    return r!;
  }

  /** Several transitions in one transaction (one fsync); each succeeds or is refused on its own. */
  transitionBatch(moves: readonly BatchTransition[]): (OutboxRecord | MedgwError)[] {
    this.assertOpen();
    const one = this.db.transaction((m: BatchTransition) =>
      this.transitionInTx(m.id, m.from, m.to, m.patch ?? {}),
    );
    const saved = this.mark();
    const all = this.db.transaction(() =>
      moves.map((m) => {
        const before = this.mark();
        try {
          if (m.patch?.audit) checkAuditEntry(m.patch.audit);
          return toRecord(one(m));
        } catch (e) {
          if (e instanceof MedgwError) {
            this.rewind(before);
            return e;
          }
          throw e;
        }
      }),
    );
    try {
      return all.immediate();
    } catch (e) {
      this.rewind(saved);
      throw mapSqliteError(e);
    }
  }

  private transitionInTx(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch: NonNullable<Parameters<Journal['transition']>[3]>,
  ): OutboxRow {
    const row = this.st.get.get(id);
    if (!row) throw unknownReading(id);
    checkTransition(id, row.state as OutboxState, from, to);
    const now = this.clock.now();
    const purge = to === 'delivered' || patch.purge === true;
    const restated =
      !purge && patch.observation && row.observation !== null ? JSON.stringify(patch.observation) : undefined;
    const next = {
      id,
      state: to,
      observation: purge ? null : (restated ?? row.observation),
      bytes: purge ? 0 : restated ? Buffer.byteLength(restated) : row.bytes,
      attempts: to === 'in-flight' ? row.attempts + 1 : row.attempts,
      next_attempt_at: to === 'pending' ? (patch.nextAttemptAt ?? null) : null,
      now,
      reason_code: patch.reason
        ? patch.reason.code
        : to === 'pending' && from !== 'in-flight'
          ? null
          : row.reason_code,
      reason_message: patch.reason
        ? patch.reason.message
        : to === 'pending' && from !== 'in-flight'
          ? null
          : row.reason_message,
      remote_id: patch.remoteId ?? row.remote_id,
      patient_id: patch.patientId ?? row.patient_id,
    };
    this.st.update.run(next);
    if (purge && row.observation !== null) {
      this.held = { readings: this.held.readings - 1, bytes: this.held.bytes - row.bytes };
    }
    if (restated)
      this.held = { readings: this.held.readings, bytes: this.held.bytes - row.bytes + next.bytes };
    if (patch.audit) {
      this.chain.append(
        {
          at: now,
          event: patch.audit.event,
          readingId: id,
          deviceId: row.device_id,
          ...(next.patient_id !== null ? { patientId: next.patient_id } : {}),
          kind: row.kind,
          ...(patch.audit.detail ? { detail: patch.audit.detail } : {}),
        },
        row.row,
      );
    } else if (auditedTransition(from, to)) {
      this.chain.append(
        {
          at: now,
          event: `reading.${to}`,
          readingId: id,
          deviceId: row.device_id,
          ...(next.patient_id !== null ? { patientId: next.patient_id } : {}),
          kind: row.kind,
          detail: {
            from,
            attempts: next.attempts,
            ...(patch.reason ? { code: patch.reason.code } : {}),
            ...(patch.remoteId ? { remoteId: patch.remoteId } : {}),
            ...(purge ? { purged: true } : {}),
          },
        },
        row.row,
      );
    }
    return this.st.get.get(id)!;
  }

  purgeLocal(ids: readonly string[], audit: LocalPurgeAudit): number {
    this.assertOpen();
    checkAuditEntry(audit);
    const saved = this.mark();
    try {
      return this.db
        .transaction(() => {
          let deleted = 0;
          for (const id of new Set(ids)) {
            const gone = this.st.deleteLocal.get(id);
            if (!gone) continue;
            deleted++;
            if (gone.held)
              this.held = { readings: this.held.readings - 1, bytes: this.held.bytes - gone.bytes };
          }
          if (deleted > 0) {
            this.chain.append({
              at: this.clock.now(),
              event: audit.event,
              ...(audit.deviceId !== undefined ? { deviceId: audit.deviceId } : {}),
              ...(audit.patientId !== undefined ? { patientId: audit.patientId } : {}),
              detail: localPurgeDetail(audit, deleted),
            });
          }
          return deleted;
        })
        .immediate();
    } catch (e) {
      this.rewind(saved);
      throw mapSqliteError(e);
    }
  }

  cursor(deviceId: string): number | undefined {
    this.assertOpen();
    return this.st.cursorGet.get(deviceId)?.value;
  }

  audit(entry: Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number }): AuditEntry {
    this.assertOpen();
    checkAuditEntry(entry);
    const saved = this.chain.mark();
    try {
      return this.db
        .transaction(() => this.chain.append({ ...entry, at: entry.at ?? this.clock.now() }))
        .immediate();
    } catch (e) {
      this.chain.rewind(saved);
      throw mapSqliteError(e);
    }
  }

  /**
   * Summaries the gateway writes on its own (refused inputs, aggregated per device and window): each
   * is refused alone (MEDGW_ERR_JOURNAL_FULL) once the audit log holds maxAuditEntries rows; all
   * that fit share one commit.
   */
  auditBatch(
    entries: readonly (Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number })[],
  ): (AuditEntry | MedgwError)[] {
    this.assertOpen();
    const saved = this.chain.mark();
    const now = this.clock.now();
    try {
      return this.db
        .transaction(() =>
          entries.map((entry) => {
            try {
              checkAuditEntry(entry);
              checkAuditRoom(this.limits, this.chain.lastSeq);
            } catch (e) {
              if (e instanceof MedgwError) return e;
              throw e;
            }
            return this.chain.append({ ...entry, at: entry.at ?? now });
          }),
        )
        .immediate();
    } catch (e) {
      this.chain.rewind(saved);
      throw mapSqliteError(e);
    }
  }

  /** The most recent `limit` entries matching the filter, in seq order. */
  auditList(filter: { patientId?: string; readingId?: string; limit?: number } = {}): AuditEntry[] {
    this.assertOpen();
    return this.chain.list(filter);
  }

  auditVerify(): number | undefined {
    this.assertOpen();
    return this.chain.verify();
  }

  stats(now: number): JournalStats {
    this.assertOpen();
    const byState = Object.fromEntries(OUTBOX_STATES.map((s) => [s, 0])) as Record<OutboxState, number>;
    for (const { state, n } of this.st.byState.all()) byState[state as OutboxState] = n;
    const oldest = this.st.oldestUnsent.get()?.t ?? null;
    return {
      byState,
      oldestUnsentAgeMs: oldest === null ? null : Math.max(0, now - oldest),
      held: { ...this.held },
      limits: this.limits,
      refusedFull: this.refusedFull,
      auditEntries: this.chain.count(),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** The in-memory state a rolled-back transaction gives back: the held totals and the chain's head. */
  private mark(): { held: { readings: number; bytes: number }; chain: ChainMark } {
    return { held: { ...this.held }, chain: this.chain.mark() };
  }

  private rewind(mark: { held: { readings: number; bytes: number }; chain: ChainMark }): void {
    this.held = mark.held;
    this.chain.rewind(mark.chain);
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new MedgwError('MEDGW_ERR_JOURNAL_OPEN', `the journal at ${this.path} is closed`);
    }
  }
}
