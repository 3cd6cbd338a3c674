/**
 * The durable journal: outbox, RACP cursors and the hash-chained audit log in one SQLite file
 * (better-sqlite3, WAL, synchronous=FULL). A reading and the cursor that covers it commit in one
 * transaction; nothing is ever evicted to make room.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MedgwError } from '../../drivers/errors.ts';
import type { Observation } from '../../drivers/types.ts';
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
import {
  auditedTransition,
  auditHash,
  canonicalDetail,
  checkAuditEntry,
  checkAuditRoom,
  checkLimits,
  checkTransition,
  GENESIS_HASH,
  type JournalLimits,
  type JournalStats,
  OUTBOX_STATES,
  UNSENT_STATES,
  unknownReading,
  verifyChain,
} from './rules.ts';

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

interface OutboxRow {
  row: number;
  id: string;
  device_id: string;
  patient_id: string | null;
  kind: string;
  state: string;
  observation: string | null;
  bytes: number;
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  reason_code: string | null;
  reason_message: string | null;
  remote_id: string | null;
}

interface AuditRow {
  seq: number;
  at: number;
  event: string;
  reading_id: string | null;
  device_id: string | null;
  patient_id: string | null;
  kind: string | null;
  detail: string | null;
  hash: string;
}

export { type PreparedAppend, type PreparedReading, prepareAppends } from './prepare.ts';

/** Bumped with every schema change; a newer file is refused rather than misread. */
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  row INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  device_id TEXT NOT NULL,
  patient_id TEXT,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','quarantined','held','in-flight','delivered','dead-letter')),
  observation TEXT,
  bytes INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  reason_code TEXT,
  reason_message TEXT,
  remote_id TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_patient ON outbox (patient_id);
CREATE INDEX IF NOT EXISTS outbox_device ON outbox (device_id);
CREATE TABLE IF NOT EXISTS cursors (
  device_id TEXT PRIMARY KEY,
  value INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  reading_row INTEGER,
  reading_id TEXT,
  device_id TEXT,
  patient_id TEXT,
  kind TEXT,
  detail TEXT,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_patient ON audit (patient_id);
CREATE INDEX IF NOT EXISTS audit_reading_row ON audit (reading_row) WHERE reading_row IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_reading ON audit (reading_id) WHERE reading_id IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** Audit rows with the id of the reading they are about, whichever way it is referenced. */
const AUDIT_SELECT = `SELECT a.seq, a.at, a.event, COALESCE(a.reading_id, o.id) AS reading_id, a.device_id,
  a.patient_id, a.kind, a.detail, a.hash FROM audit a LEFT JOIN outbox o ON o.row = a.reading_row`;

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

function toRecord(r: OutboxRow): OutboxRecord {
  return {
    id: r.id,
    deviceId: r.device_id,
    ...(r.patient_id !== null ? { patientId: r.patient_id } : {}),
    kind: r.kind as Observation['kind'],
    state: r.state as OutboxState,
    observation: r.observation === null ? null : (JSON.parse(r.observation) as Observation),
    attempts: r.attempts,
    ...(r.next_attempt_at !== null ? { nextAttemptAt: r.next_attempt_at } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.reason_code !== null ? { reason: { code: r.reason_code, message: r.reason_message ?? '' } } : {}),
    ...(r.remote_id !== null ? { remoteId: r.remote_id } : {}),
  };
}

function toAudit(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    event: r.event,
    ...(r.reading_id !== null ? { readingId: r.reading_id } : {}),
    ...(r.device_id !== null ? { deviceId: r.device_id } : {}),
    ...(r.patient_id !== null ? { patientId: r.patient_id } : {}),
    ...(r.kind !== null ? { kind: r.kind } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as AuditEntry['detail'] } : {}),
    hash: r.hash,
  };
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
  private lastHash = GENESIS_HASH;
  private lastSeq = 0;
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
      if (version !== 0 && version < SCHEMA_VERSION) {
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
      opened.exec(SCHEMA);
      opened.pragma(`user_version = ${SCHEMA_VERSION}`);
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
      // positional parameters on the two per-reading inserts: binding by name costs about twice as much
      insert: db.prepare<
        [
          string,
          string,
          string | null,
          string,
          string,
          string,
          number,
          number,
          number,
          string | null,
          string | null,
        ]
      >(
        `INSERT INTO outbox (id, device_id, patient_id, kind, state, observation, bytes, attempts, created_at, updated_at, reason_code, reason_message)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      ),
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
      auditInsert: db.prepare<
        [
          number,
          number,
          string,
          number | null,
          string | null,
          string | null,
          string | null,
          string | null,
          string | null,
          string,
        ]
      >(
        `INSERT INTO audit (seq, at, event, reading_row, reading_id, device_id, patient_id, kind, detail, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      auditLast: db.prepare<[], { seq: number; hash: string }>(
        'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
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
      auditCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit'),
    };
    this.appendAll = db.transaction((items: readonly PreparedAppend[]) =>
      items.map((item) => this.appendItem(item)),
    );
    const totals = this.st.heldTotals.get();
    this.held = { readings: totals?.n ?? 0, bytes: totals?.b ?? 0 };
    const last = this.st.auditLast.get();
    if (last) {
      this.lastSeq = last.seq;
      this.lastHash = last.hash;
    }
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
    const saved = { held: { ...this.held }, lastSeq: this.lastSeq, lastHash: this.lastHash };
    try {
      return this.appendAll.immediate(items);
    } catch (e) {
      this.held = saved.held;
      this.lastSeq = saved.lastSeq;
      this.lastHash = saved.lastHash;
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
        r.id,
        r.deviceId,
        r.patientId,
        r.kind,
        r.state,
        r.json,
        r.bytes,
        now,
        now,
        r.reasonCode,
        r.reasonMessage,
      );
      if (inserted.changes === 0) {
        duplicateAt.push(at);
        continue;
      }
      stored.push(r);
      storedBytes += r.bytes;
      this.auditInTx(
        {
          at: now,
          event: 'reading.stored',
          readingId: r.id,
          deviceId: r.deviceId,
          ...(r.patientId !== null ? { patientId: r.patientId } : {}),
          kind: r.kind,
          detail: { state: r.state, ...(r.reasonCode !== null ? { code: r.reasonCode } : {}) },
        },
        Number(inserted.lastInsertRowid),
      );
    }
    this.held = { readings: this.held.readings + stored.length, bytes: this.held.bytes + storedBytes };
    const duplicates = duplicateAt.sort((a, b) => a - b).map((at) => item.readings[at]!.id);
    if (duplicates.length > 0) {
      this.auditInTx({
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
    const saved = { held: { ...this.held }, lastSeq: this.lastSeq, lastHash: this.lastHash };
    const all = this.db.transaction(() =>
      moves.map((m) => {
        const before = { held: { ...this.held }, lastSeq: this.lastSeq, lastHash: this.lastHash };
        try {
          if (m.patch?.audit) checkAuditEntry(m.patch.audit);
          return toRecord(one(m));
        } catch (e) {
          if (e instanceof MedgwError) {
            Object.assign(this, before);
            return e;
          }
          throw e;
        }
      }),
    );
    try {
      return all.immediate();
    } catch (e) {
      Object.assign(this, saved);
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
      this.auditInTx(
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
      this.auditInTx(
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

  cursor(deviceId: string): number | undefined {
    this.assertOpen();
    return this.st.cursorGet.get(deviceId)?.value;
  }

  audit(entry: Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number }): AuditEntry {
    this.assertOpen();
    checkAuditEntry(entry);
    const saved = { lastSeq: this.lastSeq, lastHash: this.lastHash };
    try {
      return this.db
        .transaction(() => this.auditInTx({ ...entry, at: entry.at ?? this.clock.now() }))
        .immediate();
    } catch (e) {
      Object.assign(this, saved);
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
    const saved = { lastSeq: this.lastSeq, lastHash: this.lastHash };
    const now = this.clock.now();
    try {
      return this.db
        .transaction(() =>
          entries.map((entry) => {
            try {
              checkAuditEntry(entry);
              checkAuditRoom(this.limits, this.lastSeq);
            } catch (e) {
              if (e instanceof MedgwError) return e;
              throw e;
            }
            return this.auditInTx({ ...entry, at: entry.at ?? now });
          }),
        )
        .immediate();
    } catch (e) {
      Object.assign(this, saved);
      throw mapSqliteError(e);
    }
  }

  /**
   * Appends one chained entry. An entry about a reading of the outbox references it by its row (an
   * ever-growing key, so its index only appends); the text id is kept only for a reading the outbox
   * does not hold.
   */
  private auditInTx(entry: Omit<AuditEntry, 'seq' | 'hash'>, readingRow?: number): AuditEntry {
    const seq = this.lastSeq + 1;
    const row =
      readingRow ?? (entry.readingId !== undefined ? this.st.exists.get(entry.readingId)?.row : undefined);
    const base: Omit<AuditEntry, 'hash'> = { ...entry, seq };
    // stored as hashed: keys in canonical order (the values read back hash the same)
    const detail = entry.detail ? canonicalDetail(entry.detail) : null;
    const hash = auditHash(this.lastHash, base, detail ?? 'null');
    this.st.auditInsert.run(
      seq,
      entry.at,
      entry.event,
      row ?? null,
      row === undefined ? (entry.readingId ?? null) : null,
      entry.deviceId ?? null,
      entry.patientId ?? null,
      entry.kind ?? null,
      detail,
      hash,
    );
    this.lastSeq = seq;
    this.lastHash = hash;
    return { ...base, hash };
  }

  /** The most recent `limit` entries matching the filter, in seq order. */
  auditList(filter: { patientId?: string; readingId?: string; limit?: number } = {}): AuditEntry[] {
    this.assertOpen();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.patientId) {
      where.push('a.patient_id = ?');
      params.push(filter.patientId);
    }
    if (filter.readingId) {
      where.push('(a.reading_row = (SELECT row FROM outbox WHERE id = ?) OR a.reading_id = ?)');
      params.push(filter.readingId, filter.readingId);
    }
    let sql = `${AUDIT_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.seq DESC`;
    if (filter.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(filter.limit);
    }
    return this.db
      .prepare<(string | number)[], AuditRow>(sql)
      .all(...params)
      .map(toAudit)
      .reverse();
  }

  auditVerify(): number | undefined {
    this.assertOpen();
    const rows = this.db.prepare<[], AuditRow>(`${AUDIT_SELECT} ORDER BY a.seq`).iterate();
    const entries = (function* () {
      for (const r of rows) yield toAudit(r);
    })();
    return verifyChain(entries);
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
      auditEntries: this.st.auditCount.get()?.n ?? 0,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new MedgwError('MEDGW_ERR_JOURNAL_OPEN', `the journal at ${this.path} is closed`);
    }
  }
}
