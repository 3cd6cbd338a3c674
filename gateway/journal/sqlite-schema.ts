/**
 * The SQLite journal's file format: its tables, and the order of their columns written once. The
 * CREATE TABLE statements and the positional INSERTs (positional binding costs about half of binding
 * by name on the per-reading path) are both built from the column lists below, so an insert can never
 * put a value in the wrong column. Rows are read back by name (rows.ts).
 */
import type { AuditRow, OutboxRow } from './rows.ts';

/** Bumped with every schema change; a newer file is refused rather than misread. */
export const SCHEMA_VERSION = 3;

/** The oldest schema a released medgw wrote: an older file comes from a pre-release build. */
export const OLDEST_MIGRATED_SCHEMA = 2;

/** An audit row as stored: a reading the outbox holds is referenced by its row, any other by its id. */
export interface StoredAuditRow extends AuditRow {
  reading_row: number | null;
}

type Value = string | number | null;

/** The outbox columns in file order, each with its declaration. */
const OUTBOX = {
  row: 'INTEGER PRIMARY KEY',
  id: 'TEXT NOT NULL UNIQUE',
  device_id: 'TEXT NOT NULL',
  patient_id: 'TEXT',
  kind: 'TEXT NOT NULL',
  // the states of a file of this schema version (a new state is a schema change: SCHEMA_VERSION)
  state:
    "TEXT NOT NULL CHECK (state IN ('pending','quarantined','held','in-flight','delivered','dead-letter','local'))",
  observation: 'TEXT',
  bytes: 'INTEGER NOT NULL DEFAULT 0',
  attempts: 'INTEGER NOT NULL DEFAULT 0',
  next_attempt_at: 'INTEGER',
  created_at: 'INTEGER NOT NULL',
  updated_at: 'INTEGER NOT NULL',
  reason_code: 'TEXT',
  reason_message: 'TEXT',
  remote_id: 'TEXT',
} as const satisfies Record<keyof OutboxRow, string>;

/** The audit columns in file order, each with its declaration. */
const AUDIT = {
  seq: 'INTEGER PRIMARY KEY',
  at: 'INTEGER NOT NULL',
  event: 'TEXT NOT NULL',
  reading_row: 'INTEGER',
  reading_id: 'TEXT',
  device_id: 'TEXT',
  patient_id: 'TEXT',
  kind: 'TEXT',
  detail: 'TEXT',
  hash: 'TEXT NOT NULL',
} as const satisfies Record<keyof StoredAuditRow, string>;

function table(name: string, columns: Record<string, string>): string {
  const lines = Object.entries(columns).map(([column, declaration]) => `  ${column} ${declaration}`);
  return `CREATE TABLE IF NOT EXISTS ${name} (\n${lines.join(',\n')}\n);`;
}

export const SCHEMA = `
${table('outbox', OUTBOX)}
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_patient ON outbox (patient_id);
CREATE INDEX IF NOT EXISTS outbox_device ON outbox (device_id);
CREATE TABLE IF NOT EXISTS cursors (
  device_id TEXT PRIMARY KEY,
  value INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
${table('audit', AUDIT)}
CREATE INDEX IF NOT EXISTS audit_patient ON audit (patient_id);
CREATE INDEX IF NOT EXISTS audit_reading_row ON audit (reading_row) WHERE reading_row IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_reading ON audit (reading_id) WHERE reading_id IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

const OUTBOX_COLUMNS = Object.keys(OUTBOX).join(', ');

/**
 * What brings a file of schema N to N + 1, keyed by N; run in one transaction with SCHEMA and the new
 * user_version (sqlite.ts), so a file is either migrated whole or left as it was.
 *
 * 2 → 3: the outbox state `local` (continuous glucose sensor values kept for their summaries). SQLite
 * cannot change a CHECK constraint in place; the table is rebuilt the way sqlite.org/lang_altertable.html
 * ("Making Other Kinds Of Table Schema Changes") describes: create the new table, copy the rows, drop the
 * old one, rename the new one; SCHEMA then recreates its indexes. Every row keeps its `row`, so the audit
 * entries that reference a reading by its row still name it (and their hashes still chain).
 */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  2: `
${table('outbox_v3', OUTBOX)}
INSERT INTO outbox_v3 (${OUTBOX_COLUMNS}) SELECT ${OUTBOX_COLUMNS} FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;
`,
};

/** A new outbox row: every column but `row`, which SQLite assigns. */
export type NewOutboxRow = Omit<OutboxRow, 'row'>;

const OUTBOX_INSERTED = (Object.keys(OUTBOX) as (keyof OutboxRow)[]).filter(
  (c): c is keyof NewOutboxRow => c !== 'row',
);
const AUDIT_INSERTED = Object.keys(AUDIT) as (keyof StoredAuditRow)[];

function insert(name: string, columns: readonly string[]): string {
  return `INSERT INTO ${name} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

/** Inserts a new reading; one already stored under its id is left as it is (`changes` is 0). */
export const OUTBOX_INSERT = `${insert('outbox', OUTBOX_INSERTED)} ON CONFLICT (id) DO NOTHING`;

/** The parameters of OUTBOX_INSERT, in its column order. */
export function outboxValues(r: NewOutboxRow): Value[] {
  return OUTBOX_INSERTED.map((c) => r[c]);
}

export const AUDIT_INSERT = insert('audit', AUDIT_INSERTED);

/** The parameters of AUDIT_INSERT, in its column order. */
export function auditValues(r: StoredAuditRow): Value[] {
  return AUDIT_INSERTED.map((c) => r[c]);
}
