/**
 * The hash-chained audit log of the SQLite journal: each entry's hash covers the previous one's
 * (rules.ts: auditHash, verifyChain), so an edited or removed entry breaks the chain; the table
 * refuses updates and deletes (sqlite-schema.ts). The chain's head (last seq and hash) is kept in
 * memory; a transaction that rolls back rewinds it to the mark taken before.
 */
import type Database from 'better-sqlite3';
import type { AuditEntry } from '../contracts.ts';
import { type AuditRow, toAudit } from './rows.ts';
import { auditHash, canonicalDetail, GENESIS_HASH, verifyChain } from './rules.ts';
import { AUDIT_INSERT, auditValues } from './sqlite-schema.ts';

/** Audit rows with the id of the reading they are about, whichever way it is referenced. */
const AUDIT_SELECT = `SELECT a.seq, a.at, a.event, COALESCE(a.reading_id, o.id) AS reading_id, a.device_id,
  a.patient_id, a.kind, a.detail, a.hash FROM audit a LEFT JOIN outbox o ON o.row = a.reading_row`;

/** Where the chain ends: taken before a transaction, given back when it rolls back. */
export interface ChainMark {
  readonly seq: number;
  readonly hash: string;
}

export class SqliteAuditChain {
  #seq = 0;
  #hash = GENESIS_HASH;
  readonly #db: Database.Database;
  readonly #st;

  /** `rowOf` finds the outbox row of a reading id (undefined when the outbox does not hold it). */
  constructor(
    db: Database.Database,
    private readonly rowOf: (readingId: string) => number | undefined,
  ) {
    this.#db = db;
    this.#st = {
      insert: db.prepare<(string | number | null)[]>(AUDIT_INSERT),
      last: db.prepare<[], { seq: number; hash: string }>(
        'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit'),
    };
    const last = this.#st.last.get();
    if (last) {
      this.#seq = last.seq;
      this.#hash = last.hash;
    }
  }

  /** The seq of the last entry (0 for an empty log). */
  get lastSeq(): number {
    return this.#seq;
  }

  mark(): ChainMark {
    return { seq: this.#seq, hash: this.#hash };
  }

  rewind(mark: ChainMark): void {
    this.#seq = mark.seq;
    this.#hash = mark.hash;
  }

  /**
   * Appends one chained entry, inside the caller's transaction. An entry about a reading of the
   * outbox references it by its row (an ever-growing key, so its index only appends); the text id is
   * kept only for a reading the outbox does not hold.
   */
  append(entry: Omit<AuditEntry, 'seq' | 'hash'>, readingRow?: number): AuditEntry {
    const seq = this.#seq + 1;
    const row = readingRow ?? (entry.readingId !== undefined ? this.rowOf(entry.readingId) : undefined);
    const base: Omit<AuditEntry, 'hash'> = { ...entry, seq };
    // stored as hashed: keys in canonical order (the values read back hash the same)
    const detail = entry.detail ? canonicalDetail(entry.detail) : null;
    const hash = auditHash(this.#hash, base, detail ?? 'null');
    this.#st.insert.run(
      ...auditValues({
        seq,
        at: entry.at,
        event: entry.event,
        reading_row: row ?? null,
        reading_id: row === undefined ? (entry.readingId ?? null) : null,
        device_id: entry.deviceId ?? null,
        patient_id: entry.patientId ?? null,
        kind: entry.kind ?? null,
        detail,
        hash,
      }),
    );
    this.#seq = seq;
    this.#hash = hash;
    return { ...base, hash };
  }

  /** The most recent `limit` entries matching the filter, in seq order. */
  list(filter: { patientId?: string; readingId?: string; limit?: number } = {}): AuditEntry[] {
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
    return this.#db
      .prepare<(string | number)[], AuditRow>(sql)
      .all(...params)
      .map(toAudit)
      .reverse();
  }

  /** The seq of the first entry that breaks the chain, or undefined when it holds (rules.ts). */
  verify(): number | undefined {
    const rows = this.#db.prepare<[], AuditRow>(`${AUDIT_SELECT} ORDER BY a.seq`).iterate();
    const entries = (function* () {
      for (const r of rows) yield toAudit(r);
    })();
    return verifyChain(entries);
  }

  count(): number {
    return this.#st.count.get()?.n ?? 0;
  }
}
