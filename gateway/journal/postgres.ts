/**
 * The journal in PostgreSQL, shared by several gateway instances (storage.kind: postgres). Every
 * operation is asynchronous here; a running gateway hosts this class on the journal thread
 * (worker.ts) and keeps the synchronous Journal contract through threaded.ts, as for SQLite.
 *
 * The rules are the ones of rules.ts (state machine, input checks, limits, audit hash); what this
 * file adds is what several writers on one database need:
 *
 * - Idempotent append: the reading id is the primary key; `INSERT … ON CONFLICT DO NOTHING` reports
 *   a re-sent reading as a duplicate whichever instance stored it first.
 * - Claims with leases (claim()): due readings move to in-flight with `claimed_by` / `claimed_until`,
 *   taken with `FOR UPDATE SKIP LOCKED` so two instances never get the same reading. A claim whose
 *   lease ran out (its instance died) is returned to the next claimant flagged `uncertain`: the
 *   forwarder searches the national side before sending it again. An instance whose lease was taken
 *   over cannot settle the reading any more (MEDGW_ERR_JOURNAL_STATE): only the new claimant does.
 * - Per-patient order: a patient's readings are claimed by one instance at a time. The claim takes a
 *   transaction-scoped advisory lock per patient (LOCK_SPACE.patient) and skips a patient that
 *   another instance has in flight under a live lease, so readings of one patient leave one instance,
 *   oldest first: the same guarantee as one box.
 * - The audit chain: one hash chain per instance (column `chain`, the instance name), each append
 *   serialized per chain under a transaction-scoped advisory lock (LOCK_SPACE.audit). Instances never
 *   wait for each other to audit; two processes started with the same instance name still write one
 *   valid chain (they take turns). auditVerify() checks every chain from its genesis. Entries list in
 *   the order they were written across chains (column `pos`).
 * - Limits: the readings and bytes held are counted in one row per instance (journal_held), summed
 *   for the check. Concurrent instances may each pass the check with the same committed total, so
 *   the limit can be exceeded by at most one batch per instance; nothing is ever evicted.
 * - Wake-ups: a commit that stored readings sends `NOTIFY medgw_journal`; listeners (listen()) are a
 *   hint for forwarders, whose polling stays the truth.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { MedgwError } from '../../kernel/errors.ts';
import {
  type AppendResult,
  type AuditEntry,
  type ClaimedReading,
  type Clock,
  type Journal,
  type NewReading,
  type OutboxRecord,
  type OutboxState,
  systemClock,
} from '../contracts.ts';
import {
  LOCK_SPACE,
  lockKey,
  type Migration,
  migrate,
  openPool,
  type Pool,
  type PoolClient,
  redactUrl,
} from '../storage/postgres.ts';
import type { BatchTransition } from './group-commit.ts';
import { type AuditInput, type PreparedAppend, type PreparedReading, prepareAppends } from './prepare.ts';
import {
  type AuditRow as StoredAuditRow,
  type OutboxRow as StoredOutboxRow,
  toAudit,
  toRecord,
} from './rows.ts';
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
  type LocalPurgeAudit,
  localPurgeDetail,
  OUTBOX_STATES,
  UNSENT_STATES,
  unknownReading,
  verifyChain,
} from './rules.ts';

export interface PostgresJournalOptions extends JournalLimits {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  readonly clock?: Clock;
  /** This instance's audit chain (default: the host name). */
  readonly instance?: string;
  /** Connections in the pool (default 4: the journal thread runs one operation at a time, plus LISTEN). */
  readonly poolSize?: number;
}

/** The notification channel of appends (a hint only). */
export const NOTIFY_CHANNEL = 'medgw_journal';

export const JOURNAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'outbox with claims and leases, cursors, audit chains per instance, held counters',
    sql: `
CREATE TABLE journal_outbox (
  id text PRIMARY KEY,
  row bigserial NOT NULL UNIQUE,
  device_id text NOT NULL,
  patient_id text,
  kind text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending','quarantined','held','in-flight','delivered','dead-letter')),
  observation text,
  bytes bigint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  reason_code text,
  reason_message text,
  remote_id text,
  claimed_by text,
  claimed_until bigint
);
CREATE INDEX journal_outbox_due ON journal_outbox (created_at, row) WHERE state = 'pending';
CREATE INDEX journal_outbox_state ON journal_outbox (state, created_at, row);
CREATE INDEX journal_outbox_flying ON journal_outbox (patient_id, claimed_until) WHERE state = 'in-flight';
CREATE INDEX journal_outbox_patient ON journal_outbox (patient_id, created_at, row);
CREATE INDEX journal_outbox_device ON journal_outbox (device_id);
CREATE TABLE journal_cursors (
  device_id text PRIMARY KEY,
  value bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE journal_audit (
  pos bigserial PRIMARY KEY,
  chain text NOT NULL,
  seq bigint NOT NULL,
  at bigint NOT NULL,
  event text NOT NULL,
  reading_id text,
  device_id text,
  patient_id text,
  kind text,
  detail text,
  hash text NOT NULL,
  UNIQUE (chain, seq)
);
CREATE INDEX journal_audit_patient ON journal_audit (patient_id, pos);
CREATE INDEX journal_audit_reading ON journal_audit (reading_id, pos) WHERE reading_id IS NOT NULL;
CREATE FUNCTION journal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER journal_audit_no_change BEFORE UPDATE OR DELETE ON journal_audit
  FOR EACH ROW EXECUTE FUNCTION journal_audit_append_only();
CREATE TABLE journal_held (
  instance text PRIMARY KEY,
  readings bigint NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0
);
`,
  },
  {
    version: 2,
    description: "outbox state 'local': continuous glucose sensor values kept for their summaries",
    // journal_outbox_state_check: the name PostgreSQL gives the column's CHECK of version 1
    sql: `
ALTER TABLE journal_outbox DROP CONSTRAINT journal_outbox_state_check,
  ADD CONSTRAINT journal_outbox_state_check
  CHECK (state IN ('pending','quarantined','held','in-flight','delivered','dead-letter','local'));
`,
  },
  {
    version: 3,
    description: 'a group commit in one statement: the check that refuses it whole when its assumptions fail',
    // a function, so that the refusal is decided when the statement runs, never folded ahead
    sql: `
CREATE FUNCTION journal_group_check(ok boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'the group commit''s assumptions no longer hold; it is committed again the long way'
      USING ERRCODE = 'MG001';
  END IF;
  RETURN true;
END $$;
`,
  },
];

/** bigint columns as numbers (epoch milliseconds, counters: far below 2^53). */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

type Queryable = Pick<PoolClient, 'query'>;

async function q<R extends pg.QueryResultRow>(
  c: Queryable,
  text: string,
  values: unknown[] = [],
  /** A statement run often: prepared once per connection under this name, then only executed. */
  name?: string,
): Promise<R[]> {
  try {
    const res = await c.query<R>({ text, values, types: TYPES, ...(name ? { name } : {}) });
    return res.rows;
  } catch (e) {
    throw storageError(e);
  }
}

/**
 * A lost or refused connection becomes MEDGW_ERR_STORAGE_UNREACHABLE, a full disk
 * MEDGW_ERR_JOURNAL_FULL (as SQLite's SQLITE_FULL): coded refusals, so nothing is acknowledged to a
 * device and the operator is told what to do. Other errors (defects) pass unchanged.
 */
export function storageError(e: unknown): unknown {
  if (e instanceof MedgwError) return e;
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  const message = e instanceof Error ? e.message : String(e);
  if (code === '53100') {
    return new MedgwError(
      'MEDGW_ERR_JOURNAL_FULL',
      'the disk holding the PostgreSQL journal is full; nothing was stored and nothing evicted',
      { limit: 'disk' },
    );
  }
  const lost =
    code.startsWith('08') ||
    [
      '57P01',
      '57P02',
      '57P03',
      '53300',
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
    ].includes(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
  if (!lost) return e;
  return new MedgwError(
    'MEDGW_ERR_STORAGE_UNREACHABLE',
    `the PostgreSQL journal did not answer (${message}); what was being written is not acknowledged`,
  );
}

/** An outbox row with its claim (which instance sends it, until when). */
interface OutboxRow extends StoredOutboxRow {
  claimed_by: string | null;
  claimed_until: number | null;
}

/** An audit row with the chain (one per instance) it belongs to. */
interface AuditRow extends StoredAuditRow {
  chain: string;
}

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

const OUTBOX_COLUMNS = `row, id, device_id, patient_id, kind, state, observation, bytes, attempts, next_attempt_at,
  created_at, updated_at, reason_code, reason_message, remote_id, claimed_by, claimed_until`;
const AUDIT_COLUMNS = 'chain, seq, at, event, reading_id, device_id, patient_id, kind, detail, hash';

/**
 * What one transaction writes besides the outbox: the audit entries of this instance's chain (the
 * chain's lock and tail are taken at the first entry) and the change of the held counters.
 */
class TxState {
  private tail: { seq: number; hash: string } | undefined;
  private readonly entries: AuditEntry[] = [];
  held = { readings: 0, bytes: 0 };

  constructor(
    /** None for a group checked in one statement (appendChecked()): its tail is given. */
    private readonly client: PoolClient | undefined,
    private readonly chain: string,
    tail?: { seq: number; hash: string },
  ) {
    this.tail = tail;
    this.opened = tail;
  }

  /** Where the chain ends with the entries gathered so far (undefined: not looked at). */
  current(): { seq: number; hash: string } | undefined {
    return this.tail;
  }

  /**
   * Opens the transaction with the chain's lock already taken and its tail and the held totals read,
   * all in one round trip (one simple-protocol query of four statements, run in order, each seeing
   * what was committed before it): the append path, which audits whenever it stores.
   */
  async beginAudited(): Promise<void> {
    let results: pg.QueryResult[];
    try {
      const res = await this.client!.query({
        text: `BEGIN;
SELECT pg_advisory_xact_lock(${LOCK_SPACE.audit}, ${lockKey(this.chain)});
SELECT seq, hash FROM journal_audit WHERE chain = ${pg.escapeLiteral(this.chain)} ORDER BY seq DESC LIMIT 1;
SELECT sum(readings)::bigint AS r, sum(bytes)::bigint AS b FROM journal_held`,
        types: TYPES,
      });
      results = res as unknown as pg.QueryResult[];
    } catch (e) {
      throw storageError(e);
    }
    const last = results[2]?.rows[0] as { seq: number; hash: string } | undefined;
    this.tail = last ?? { seq: 0, hash: GENESIS_HASH };
    this.opened = this.tail;
    const held = results[3]?.rows[0] as { r: number | null; b: number | null } | undefined;
    this.heldAtOpen = { readings: held?.r ?? 0, bytes: held?.b ?? 0 };
  }

  /** The held totals of every instance when the transaction opened (beginAudited). */
  heldAtOpen = { readings: 0, bytes: 0 };

  /** The chain's tail when the transaction opened (beginAudited), for rewind(). */
  private opened: { seq: number; hash: string } | undefined;

  /** The entries gathered so far, in order (written by the caller, or by flush()). */
  pending(): readonly AuditEntry[] {
    return this.entries;
  }

  /** The caller wrote the pending entries itself (in its own statement): flush() leaves them. */
  written(): void {
    this.entries.length = 0;
  }

  /** Forgets the pending entries: the chain continues from its tail at beginAudited() again. */
  rewind(): void {
    this.entries.length = 0;
    this.tail = this.opened;
  }

  async audit(entry: Omit<AuditEntry, 'seq' | 'hash'>): Promise<AuditEntry> {
    if (!this.tail) {
      const client = this.client!;
      await q(client, 'SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE.audit, lockKey(this.chain)]);
      const [last] = await q<{ seq: number; hash: string }>(
        client,
        'SELECT seq, hash FROM journal_audit WHERE chain = $1 ORDER BY seq DESC LIMIT 1',
        [this.chain],
      );
      this.tail = last ?? { seq: 0, hash: GENESIS_HASH };
    }
    const base: Omit<AuditEntry, 'hash'> = { ...entry, seq: this.tail.seq + 1 };
    const hash = auditHash(this.tail.hash, base, canonicalDetail(entry.detail));
    this.tail = { seq: base.seq, hash };
    const full = { ...base, hash };
    this.entries.push(full);
    return full;
  }

  /** Wake the listening instances at commit (appends that stored readings). */
  notify = false;

  /**
   * Writes what was gathered, in one statement (one round trip): the audit entries, the change of
   * the held counters, the NOTIFY. Called once, just before COMMIT.
   */
  async flush(instance: string): Promise<void> {
    const parts: string[] = [];
    const values: unknown[] = [];
    const param = (v: unknown): string => {
      values.push(v);
      return `$${values.length}`;
    };
    if (this.entries.length > 0) {
      const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
      for (const e of this.entries) {
        cols[0]!.push(e.seq);
        cols[1]!.push(e.at);
        cols[2]!.push(e.event);
        cols[3]!.push(e.readingId ?? null);
        cols[4]!.push(e.deviceId ?? null);
        cols[5]!.push(e.patientId ?? null);
        cols[6]!.push(e.kind ?? null);
        cols[7]!.push(e.detail ? canonicalDetail(e.detail) : null);
        cols[8]!.push(e.hash);
      }
      const types = ['bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];
      parts.push(
        `a AS (INSERT INTO journal_audit (chain, seq, at, event, reading_id, device_id, patient_id, kind, detail, hash)
         SELECT ${param(this.chain)}, * FROM unnest(${cols.map((c, i) => `${param(c)}::${types[i]}[]`).join(', ')}))`,
      );
    }
    if (this.held.readings !== 0 || this.held.bytes !== 0) {
      parts.push(
        `h AS (INSERT INTO journal_held (instance, readings, bytes)
         VALUES (${param(instance)}, ${param(this.held.readings)}::bigint, ${param(this.held.bytes)}::bigint)
         ON CONFLICT (instance) DO UPDATE SET readings = journal_held.readings + excluded.readings,
           bytes = journal_held.bytes + excluded.bytes)`,
      );
    }
    if (parts.length === 0 && !this.notify) return;
    // delivered at commit, to every instance listening (this one too)
    const tail = this.notify ? `SELECT pg_notify('${NOTIFY_CHANNEL}', '')` : 'SELECT 1';
    await q(this.client!, parts.length > 0 ? `WITH ${parts.join(', ')} ${tail}` : tail, values);
  }
}

/** One append item: its readings less the copies within it, and where those copies were. */
interface AppendPlan {
  readonly candidates: readonly { readonly r: PreparedReading; readonly at: number }[];
  readonly duplicateAt: readonly number[];
  readonly bytes: number;
}

/** The first copy of each reading across a group's items: what one INSERT would add. */
function firstCopies(plans: readonly AppendPlan[]): PreparedReading[] {
  const seen = new Set<string>();
  const fresh: PreparedReading[] = [];
  for (const plan of plans) {
    for (const c of plan.candidates) {
      if (seen.has(c.r.id)) continue;
      seen.add(c.r.id);
      fresh.push(c.r);
    }
  }
  return fresh;
}

function planAppend(item: PreparedAppend): AppendPlan {
  const candidates: { r: PreparedReading; at: number }[] = [];
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
  return { candidates, duplicateAt, bytes };
}

/**
 * One INSERT for many readings; returns the ids it stored (the others were stored already, by this
 * instance or another: ON CONFLICT DO NOTHING). WITH ORDINALITY + ORDER BY: rows get their `row`
 * (the listing order) in the order given.
 */
async function insertReadings(
  client: PoolClient,
  readings: readonly PreparedReading[],
  now: number,
): Promise<Set<string>> {
  if (readings.length === 0) return new Set();
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const r of readings) {
    cols[0]!.push(r.id);
    cols[1]!.push(r.deviceId);
    cols[2]!.push(r.patientId);
    cols[3]!.push(r.kind);
    cols[4]!.push(r.state);
    cols[5]!.push(r.json);
    cols[6]!.push(r.bytes);
    cols[7]!.push(r.reasonCode);
    cols[8]!.push(r.reasonMessage);
  }
  const rows = await q<{ id: string }>(
    client,
    `INSERT INTO journal_outbox (id, device_id, patient_id, kind, state, observation, bytes, attempts,
       created_at, updated_at, reason_code, reason_message)
     SELECT id, device_id, patient_id, kind, state, observation, bytes, 0, $10, $10, reason_code, reason_message
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
       $8::text[], $9::text[]) WITH ORDINALITY
       AS t(id, device_id, patient_id, kind, state, observation, bytes, reason_code, reason_message, n)
     ORDER BY n
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [...cols, now],
  );
  return new Set(rows.map((x) => x.id));
}

const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * A string as PostgreSQL stores it from a parameter: a lone UTF-16 surrogate (a device can send one
 * escaped in its JSON) becomes U+FFFD, as pg's UTF-8 encoding of a parameter does. Escaped inside a
 * JSON parameter it would instead refuse the whole group.
 */
function wellFormed(s: string): string {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
}

/** A group of readings and what goes with them, as the group statements take it. */
interface Group {
  readonly readings: readonly PreparedReading[];
  readonly now: number;
  readonly chain: string;
  readonly entries: readonly AuditEntry[];
  readonly instance: string;
  readonly cursors: ReadonlyMap<string, number>;
}

/** $1…$16 of both group statements. */
function groupParams(group: Group): unknown[] {
  // the rows as one JSON text: serialized natively (the observations are JSON already, and the
  // array literal pg would build for them escapes every quote in JavaScript, a regex per element)
  const rows = JSON.stringify(
    group.readings.map((x) => ({
      id: wellFormed(x.id),
      device_id: wellFormed(x.deviceId),
      patient_id: x.patientId === null ? null : wellFormed(x.patientId),
      kind: wellFormed(x.kind),
      state: x.state,
      // JSON.stringify wrote it well-formed (a lone surrogate as a \u escape)
      observation: x.json,
      bytes: x.bytes,
      reason_code: x.reasonCode === null ? null : wellFormed(x.reasonCode),
      reason_message: x.reasonMessage === null ? null : wellFormed(x.reasonMessage),
    })),
  );
  const a: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const e of group.entries) {
    a[0]!.push(e.seq);
    a[1]!.push(e.at);
    a[2]!.push(e.event);
    a[3]!.push(e.readingId ?? null);
    a[4]!.push(e.deviceId ?? null);
    a[5]!.push(e.patientId ?? null);
    a[6]!.push(e.kind ?? null);
    a[7]!.push(e.detail ? canonicalDetail(e.detail) : null);
    a[8]!.push(e.hash);
  }
  return [
    rows,
    group.now,
    group.chain,
    ...a,
    group.readings.length,
    group.instance,
    [...group.cursors.keys()],
    [...group.cursors.values()],
  ];
}

/**
 * The parts of a group statement: the INSERT (the reading id as key, ON CONFLICT DO NOTHING, so a
 * copy another instance stored first is skipped), how many it stored, the audit entries, the held
 * counters by what was stored, the cursors; the NOTIFY when something was stored.
 */
const GROUP_INSERT = `ins AS (
    INSERT INTO journal_outbox (id, device_id, patient_id, kind, state, observation, bytes, attempts,
      created_at, updated_at, reason_code, reason_message)
    SELECT id, device_id, patient_id, kind, state, observation, bytes, 0, $2, $2, reason_code, reason_message
    FROM ROWS FROM (json_to_recordset($1::json) AS (id text, device_id text, patient_id text, kind text,
      state text, observation text, bytes bigint, reason_code text, reason_message text)) WITH ORDINALITY
      AS t(id, device_id, patient_id, kind, state, observation, bytes, reason_code, reason_message, n)
    ORDER BY n
    ON CONFLICT (id) DO NOTHING
    RETURNING id, bytes
  ),
  got AS (SELECT count(*)::bigint AS c, coalesce(sum(bytes), 0)::bigint AS b FROM ins)`;
const GROUP_AUDIT = `INSERT INTO journal_audit (chain, seq, at, event, reading_id, device_id, patient_id, kind, detail, hash)
    SELECT $3, seq, at, event, reading_id, device_id, patient_id, kind, detail, hash
    FROM unnest($4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[],
      $10::text[], $11::text[], $12::text[]) WITH ORDINALITY
      AS e(seq, at, event, reading_id, device_id, patient_id, kind, detail, hash, n)`;
const GROUP_REST = `h AS (
    INSERT INTO journal_held (instance, readings, bytes) SELECT $14, c, b FROM got WHERE c > 0
    ON CONFLICT (instance) DO UPDATE SET readings = journal_held.readings + excluded.readings,
      bytes = journal_held.bytes + excluded.bytes
  ),
  cur AS (
    INSERT INTO journal_cursors (device_id, value, updated_at)
    SELECT device_id, value, $2 FROM unnest($15::text[], $16::bigint[]) AS k(device_id, value)
    ON CONFLICT (device_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
  )`;
const GROUP_NOTIFY = `(SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM got WHERE c > 0) IS NULL AS quiet`;

/**
 * Inside a transaction that holds the chain's lock (beginAudited()): the group in one statement, the
 * audit entries written only when the INSERT stored every reading they assume new (`audited`);
 * otherwise none is written and the caller computes them again from `inserted`.
 */
async function appendStatement(
  client: PoolClient,
  group: Group,
): Promise<{ inserted: Set<string>; audited: boolean }> {
  const [row] = await q<{ ids: string[] | null }>(
    client,
    `WITH ${GROUP_INSERT},
  a AS (${GROUP_AUDIT} WHERE (SELECT c FROM got) = $13 ORDER BY n),
  ${GROUP_REST}
SELECT (SELECT array_agg(id) FROM ins) AS ids, ${GROUP_NOTIFY}`,
    groupParams(group),
    'medgw_journal_append_group',
  );
  const inserted = new Set(row?.ids ?? []);
  return { inserted, audited: inserted.size === group.readings.length };
}

/** What refuses a checked group as a whole (nothing of it is stored): it is committed the long way. */
const GROUP_RETRY_CODES: ReadonlySet<string> = new Set([
  // journal_group_check(): a reading was stored already, the chain moved on, or the limits are near
  'MG001',
  // another process of this instance name appended to the chain at the same moment
  '23505',
  // two instances inserting the same readings in another order
  '40P01',
]);

/**
 * The group and its commit in one statement, outside any transaction (one round trip in all): the
 * audit entries continue the chain from `tail`, this process's last known end of its chain, without
 * its lock. journal_group_check() refuses the statement as a whole (SQLSTATE MG001, nothing stored)
 * unless the INSERT stored every reading the entries assume new, the chain still ends at `tail`,
 * and the held totals leave room for the group; a process of the same instance name appending at the
 * same moment makes the unique (chain, seq) refuse it. Returns false when refused so.
 */
async function appendChecked(
  pool: Queryable,
  group: Group,
  tail: { readonly seq: number; readonly hash: string },
  limits: JournalLimits,
  bytes: number,
): Promise<boolean> {
  try {
    await q(
      pool,
      `WITH ${GROUP_INSERT},
  a AS (${GROUP_AUDIT} ORDER BY n),
  ${GROUP_REST}
SELECT journal_group_check(
    (SELECT c FROM got) = $13
    AND CASE WHEN $17::bigint = 0 THEN NOT EXISTS (SELECT 1 FROM journal_audit WHERE chain = $3)
      ELSE EXISTS (SELECT 1 FROM journal_audit WHERE chain = $3 AND seq = $17 AND hash = $18::text) END
    AND NOT EXISTS (SELECT 1 FROM journal_audit WHERE chain = $3 AND seq > $17)
    AND ($19::bigint IS NULL OR (SELECT coalesce(sum(readings), 0) FROM journal_held) + $13 <= $19)
    AND ($20::bigint IS NULL OR (SELECT coalesce(sum(bytes), 0) FROM journal_held) + $21::bigint <= $20)
  ) AS ok, ${GROUP_NOTIFY}`,
      [
        ...groupParams(group),
        tail.seq,
        tail.hash,
        limits.maxReadings ?? null,
        limits.maxBytes ?? null,
        bytes,
      ],
      'medgw_journal_append_checked',
    );
    return true;
  } catch (e) {
    if (GROUP_RETRY_CODES.has(String((e as { code?: unknown } | null)?.code ?? ''))) return false;
    throw e;
  }
}

export class PostgresJournal {
  /** The URL without its password: what messages name. */
  readonly path: string;
  /** This instance's audit chain. */
  readonly instance: string;
  /** Who holds the claims this process takes: unique per process, so a restarted one is another owner. */
  readonly owner: string;
  private readonly clock: Clock;
  private readonly limits: JournalLimits;
  private refusedFull = 0;
  private closed = false;
  /**
   * Where this instance's chain ended after this process's last commit that looked at it: a group
   * continues from there in one statement (appendChecked()), which refuses itself if it no longer does.
   */
  private chainTail: { seq: number; hash: string } | undefined;
  /** Group commits made in one statement, and in a transaction (the first, or after a refusal). */
  readonly groupCommits = { oneStatement: 0, transaction: 0 };
  /** The LISTEN connection, kept out of the pool while the journal is open. */
  private listener: PoolClient | undefined;

  private constructor(
    private readonly pool: Pool,
    options: PostgresJournalOptions,
  ) {
    this.path = redactUrl(options.url);
    this.clock = options.clock ?? systemClock;
    this.instance = options.instance ?? hostname();
    this.owner = `${this.instance}/${process.pid}/${Math.random().toString(36).slice(2, 10)}`;
    this.limits = {
      maxReadings: options.maxReadings,
      maxBytes: options.maxBytes,
      maxAuditEntries: options.maxAuditEntries,
    };
  }

  /**
   * Connects, brings the schema to this version (MEDGW_ERR_STORAGE_SCHEMA_NEWER for a newer one,
   * MEDGW_ERR_STORAGE_UNREACHABLE when the server does not answer).
   */
  static async open(options: PostgresJournalOptions): Promise<PostgresJournal> {
    const pool = await openPool(options.url, {
      max: options.poolSize ?? 4,
      applicationName: 'medgw-journal',
    });
    try {
      await migrate(pool, 'journal', JOURNAL_MIGRATIONS);
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return new PostgresJournal(pool, options);
  }

  /**
   * Calls `onAppend` when any instance commits new readings (LISTEN medgw_journal): a hint only.
   * A lost connection is reopened by the next call; polling stays the truth meanwhile.
   */
  async listen(onAppend: () => void): Promise<void> {
    this.assertOpen();
    // a dedicated connection: LISTEN holds it for as long as the journal is open
    const client = await this.pool.connect();
    client.on('notification', (n) => {
      if (n.channel === NOTIFY_CHANNEL) onAppend();
    });
    client.on('error', () => {
      // hints are lost until a new connection listens; polling carries on meanwhile
      if (this.listener !== client) return;
      this.listener = undefined;
      client.release(true);
      this.relisten(onAppend);
    });
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.listener = client;
  }

  /** Listens again after a lost connection, every few seconds until the server answers. */
  private relisten(onAppend: () => void): void {
    const retry = setTimeout(() => {
      if (this.closed) return;
      this.listen(onAppend).catch(() => this.relisten(onAppend));
    }, 2_000);
    retry.unref();
  }

  /**
   * Runs `fn` in one transaction. A deadlock PostgreSQL broke by aborting this transaction (40P01:
   * instances locking the same rows in another order) is retried: nothing of it was committed.
   */
  private async tx<T>(
    fn: (client: PoolClient, state: TxState) => Promise<T>,
    /** Opened by TxState.beginAudited() (the chain locked, its tail and the held totals read). */
    audited = false,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.txOnce(fn, audited);
      } catch (e) {
        if (attempt >= 3 || (e as { code?: unknown } | null)?.code !== '40P01') throw e;
      }
    }
  }

  private async txOnce<T>(
    fn: (client: PoolClient, state: TxState) => Promise<T>,
    audited: boolean,
  ): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storageError(e);
    }
    let broken = false;
    try {
      const state = new TxState(client, this.instance);
      if (audited) await state.beginAudited();
      else await q(client, 'BEGIN');
      const result = await fn(client, state);
      await state.flush(this.instance);
      await q(client, 'COMMIT');
      const tail = state.current();
      if (tail) this.chainTail = tail;
      return result;
    } catch (e) {
      this.chainTail = undefined;
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw e;
    } finally {
      // a connection that cannot even roll back is not handed out again
      client.release(broken);
    }
  }

  private async heldTotals(c: Queryable): Promise<{ readings: number; bytes: number }> {
    const [row] = await q<{ r: number | null; b: number | null }>(
      c,
      'SELECT sum(readings)::bigint AS r, sum(bytes)::bigint AS b FROM journal_held',
    );
    return { readings: row?.r ?? 0, bytes: row?.b ?? 0 };
  }

  /** One append (Journal.append): throws its refusal. */
  async append(
    readings: readonly NewReading[],
    cursor?: { readonly deviceId: string; readonly value: number },
  ): Promise<AppendResult> {
    const [result] = await this.appendPrepared(prepareAppends([{ readings, cursor }]));
    if (result instanceof MedgwError) throw result;
    return result!;
  }

  /**
   * Several appends in one transaction; each item succeeds or is refused on its own (JOURNAL_FULL,
   * decided before the item writes anything). Readings are checked and serialized by the caller
   * (prepareAppends), as for SQLite.
   */
  async appendPrepared(items: readonly PreparedAppend[]): Promise<(AppendResult | MedgwError)[]> {
    const now = this.clock.now();
    const tail = this.chainTail;
    if (tail) {
      const done = await this.appendAtOnce(items, tail, now);
      if (done) return done;
    }
    this.groupCommits.transaction++;
    return this.tx(async (client, state) => {
      const held = state.heldAtOpen;
      const plans = items.map(planAppend);
      const fresh = firstCopies(plans);
      const bytes = fresh.reduce((sum, r) => sum + r.bytes, 0);
      // every item fits, so no item can be refused and one statement stores them all
      if (fitsLimits(this.limits, held, { readings: fresh.length, bytes })) {
        return this.appendGroup(client, state, items, plans, fresh, now);
      }
      const results: (AppendResult | MedgwError)[] = [];
      for (let i = 0; i < items.length; i++) {
        const current = {
          readings: held.readings + state.held.readings,
          bytes: held.bytes + state.held.bytes,
        };
        try {
          results.push(await this.appendAlone(client, state, items[i]!, plans[i]!, current, now));
        } catch (e) {
          if (e instanceof MedgwError && e.code === 'MEDGW_ERR_JOURNAL_FULL') {
            this.refusedFull++;
            results.push(e);
          } else throw e;
        }
      }
      state.notify = results.some((r) => !(r instanceof MedgwError) && r.accepted.length > 0);
      return results;
    }, true);
  }

  /**
   * The usual group commit, in one round trip: the group and its commit in one checked statement
   * (appendChecked()), its audit entries continuing the chain from where this process last left it
   * and assuming every reading new. Undefined when the statement refused itself (a reading stored
   * already, the chain moved on, the limits near): nothing was stored, the caller takes the long way.
   */
  private async appendAtOnce(
    items: readonly PreparedAppend[],
    tail: { seq: number; hash: string },
    now: number,
  ): Promise<AppendResult[] | undefined> {
    this.assertOpen();
    const plans = items.map(planAppend);
    const fresh = firstCopies(plans);
    const state = new TxState(undefined, this.instance, tail);
    const results = await this.auditGroup(state, items, plans, now);
    const group = this.group(fresh, now, state, items);
    const bytes = fresh.reduce((sum, r) => sum + r.bytes, 0);
    let stored: boolean;
    try {
      stored = await appendChecked(this.pool, group, tail, this.limits, bytes);
    } catch (e) {
      this.chainTail = undefined;
      throw e;
    }
    this.chainTail = stored ? state.current() : undefined;
    if (!stored) return undefined;
    this.groupCommits.oneStatement++;
    return results;
  }

  /** What the group statements write for these readings, with the entries gathered in `state`. */
  private group(
    fresh: readonly PreparedReading[],
    now: number,
    state: TxState,
    items: readonly PreparedAppend[],
  ): Group {
    // an item's cursor replaces the earlier ones of its device, as item after item would
    const cursors = new Map<string, number>();
    for (const item of items) if (item.cursor) cursors.set(item.cursor.deviceId, item.cursor.value);
    return {
      readings: fresh,
      now,
      chain: this.instance,
      entries: state.pending(),
      instance: this.instance,
      cursors,
    };
  }

  /**
   * The results and audit entries (in `state`) of a group none of whose items is refused: every
   * first copy in the group is new, or, given `inserted`, those the INSERT stored.
   */
  private async auditGroup(
    state: TxState,
    items: readonly PreparedAppend[],
    plans: readonly AppendPlan[],
    now: number,
    inserted?: ReadonlySet<string>,
  ): Promise<AppendResult[]> {
    const taken = new Set<string>();
    const isNew = (id: string) => {
      if ((inserted && !inserted.has(id)) || taken.has(id)) return false;
      taken.add(id);
      return true;
    };
    const out: AppendResult[] = [];
    for (let i = 0; i < items.length; i++) {
      out.push((await this.auditAppend(state, items[i]!, plans[i]!, isNew, now)).result);
    }
    return out;
  }

  /**
   * A group that fits the limits, inside the transaction (appendStatement): the readings, their
   * audit entries, the held counters, the cursors and the NOTIFY in one statement. The audit entries
   * are computed first as if every reading were new to the table; when another instance (or an
   * earlier commit) stored one of them already, the statement writes no audit entry, and they are
   * computed again from what it did store, then written before the commit (flush()).
   */
  private async appendGroup(
    client: PoolClient,
    state: TxState,
    items: readonly PreparedAppend[],
    plans: readonly AppendPlan[],
    fresh: readonly PreparedReading[],
    now: number,
  ): Promise<AppendResult[]> {
    const assumed = await this.auditGroup(state, items, plans, now);
    const { inserted, audited } = await appendStatement(client, this.group(fresh, now, state, items));
    if (audited) {
      state.written();
      return assumed;
    }
    state.rewind();
    return this.auditGroup(state, items, plans, now, inserted);
  }

  /**
   * One item when the group does not fit the limits as a whole: as sqlite.ts, the readings already
   * stored are found first, so that the limit check (the last one that can refuse the item) sees
   * exactly what would be added.
   */
  private async appendAlone(
    client: PoolClient,
    state: TxState,
    item: PreparedAppend,
    plan: AppendPlan,
    held: { readings: number; bytes: number },
    now: number,
  ): Promise<AppendResult> {
    let candidates = plan.candidates;
    const duplicateAt = [...plan.duplicateAt];
    if (!fitsLimits(this.limits, held, { readings: candidates.length, bytes: plan.bytes })) {
      const existing = new Set(
        (
          await q<{ id: string }>(client, 'SELECT id FROM journal_outbox WHERE id = ANY($1::text[])', [
            candidates.map((c) => c.r.id),
          ])
        ).map((x) => x.id),
      );
      const fresh = candidates.filter((c) => !existing.has(c.r.id));
      for (const c of candidates) if (existing.has(c.r.id)) duplicateAt.push(c.at);
      candidates = fresh;
      checkLimits(this.limits, held, {
        readings: fresh.length,
        bytes: fresh.reduce((sum, c) => sum + c.r.bytes, 0),
      });
    }
    const inserted = await insertReadings(
      client,
      candidates.map((c) => c.r),
      now,
    );
    return this.recordAppend(
      client,
      state,
      item,
      { ...plan, candidates, duplicateAt },
      (id) => inserted.has(id),
      now,
    );
  }

  /** After the insert: the result of one item, its audit entries, its held counts and its cursor. */
  private async recordAppend(
    client: PoolClient,
    state: TxState,
    item: PreparedAppend,
    plan: AppendPlan,
    isNew: (id: string) => boolean,
    now: number,
  ): Promise<AppendResult> {
    const { result, stored } = await this.auditAppend(state, item, plan, isNew, now);
    for (const r of stored) {
      state.held.readings += 1;
      state.held.bytes += r.bytes;
    }
    if (item.cursor) {
      await q(
        client,
        `INSERT INTO journal_cursors (device_id, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (device_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [item.cursor.deviceId, item.cursor.value, now],
      );
    }
    return result;
  }

  /** The result of one item and its audit entries (in `state`), given which of its readings are new. */
  private async auditAppend(
    state: TxState,
    item: PreparedAppend,
    plan: AppendPlan,
    isNew: (id: string) => boolean,
    now: number,
  ): Promise<{ result: AppendResult; stored: PreparedReading[] }> {
    const duplicateAt = [...plan.duplicateAt];
    const stored: PreparedReading[] = [];
    for (const { r, at } of plan.candidates) {
      if (!isNew(r.id)) {
        duplicateAt.push(at);
        continue;
      }
      stored.push(r);
      await state.audit({
        at: now,
        event: 'reading.stored',
        readingId: r.id,
        deviceId: r.deviceId,
        ...(r.patientId !== null ? { patientId: r.patientId } : {}),
        kind: r.kind,
        detail: { state: r.state, ...(r.reasonCode !== null ? { code: r.reasonCode } : {}) },
      });
    }
    const duplicates = duplicateAt.sort((a, b) => a - b).map((at) => item.readings[at]!.id);
    if (duplicates.length > 0) {
      await state.audit({
        at: now,
        event: 'readings.duplicate',
        deviceId: item.readings[0]!.deviceId,
        detail: { count: duplicates.length },
      });
    }
    return { result: { accepted: stored.map((r) => r.id), duplicates }, stored };
  }

  async get(id: string): Promise<OutboxRecord | undefined> {
    this.assertOpen();
    const [row] = await q<OutboxRow>(
      this.pool,
      `SELECT ${OUTBOX_COLUMNS} FROM journal_outbox WHERE id = $1`,
      [id],
    );
    return row ? toRecord(row) : undefined;
  }

  async list(
    filter: { state?: OutboxState; patientId?: string; deviceId?: string; limit?: number } = {},
  ): Promise<OutboxRecord[]> {
    this.assertOpen();
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state) {
      params.push(filter.state);
      where.push(`state = $${params.length}`);
    }
    if (filter.patientId) {
      params.push(filter.patientId);
      where.push(`patient_id = $${params.length}`);
    }
    if (filter.deviceId) {
      params.push(filter.deviceId);
      where.push(`device_id = $${params.length}`);
    }
    let sql = `SELECT ${OUTBOX_COLUMNS} FROM journal_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, row`;
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      sql += ` LIMIT $${params.length}`;
    }
    return (await q<OutboxRow>(this.pool, sql, params)).map(toRecord);
  }

  async due(now: number, limit: number): Promise<OutboxRecord[]> {
    this.assertOpen();
    const rows = await q<OutboxRow>(
      this.pool,
      `SELECT ${OUTBOX_COLUMNS} FROM journal_outbox WHERE state = 'pending'
         AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ORDER BY created_at, row LIMIT $2`,
      [now, limit],
    );
    return rows.map(toRecord);
  }

  /** Several transitions in one transaction; each succeeds or is refused on its own. */
  transitionBatch(moves: readonly BatchTransition[]): Promise<(OutboxRecord | MedgwError)[]> {
    // rows locked in id order (moves of one reading keep their order): two instances moving the
    // same readings at once wait for each other instead of deadlocking
    const order = moves
      .map((m, i) => ({ m, i }))
      .sort((a, b) => (a.m.id < b.m.id ? -1 : a.m.id > b.m.id ? 1 : 0));
    return this.tx(async (client, state) => {
      const out: (OutboxRecord | MedgwError)[] = new Array(moves.length);
      for (const { m, i } of order) {
        try {
          if (m.patch?.audit) checkAuditEntry(m.patch.audit);
          out[i] = toRecord(await this.transitionInTx(client, state, m.id, m.from, m.to, m.patch ?? {}));
        } catch (e) {
          // every refusal is decided before the move writes anything
          if (e instanceof MedgwError) out[i] = e;
          else throw e;
        }
      }
      return out;
    });
  }

  async transition(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch: Parameters<Journal['transition']>[3] = {},
  ): Promise<OutboxRecord> {
    const [r] = await this.transitionBatch([{ id, from, to, patch }]);
    if (r instanceof MedgwError) throw r;
    return r!;
  }

  private async transitionInTx(
    client: PoolClient,
    state: TxState,
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch: NonNullable<Parameters<Journal['transition']>[3]>,
  ): Promise<OutboxRow> {
    const [row] = await q<OutboxRow>(
      client,
      `SELECT ${OUTBOX_COLUMNS} FROM journal_outbox WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!row) throw unknownReading(id);
    checkTransition(id, row.state as OutboxState, from, to);
    const now = this.clock.now();
    this.checkLease(row, from, now);
    const purge = to === 'delivered' || patch.purge === true;
    const restated =
      !purge && patch.observation && row.observation !== null ? JSON.stringify(patch.observation) : undefined;
    const keepReason = !(to === 'pending' && from !== 'in-flight');
    const next = {
      observation: purge ? null : (restated ?? row.observation),
      bytes: purge ? 0 : restated ? Buffer.byteLength(restated) : row.bytes,
      attempts: to === 'in-flight' ? row.attempts + 1 : row.attempts,
      next_attempt_at: to === 'pending' ? (patch.nextAttemptAt ?? null) : null,
      reason_code: patch.reason ? patch.reason.code : keepReason ? row.reason_code : null,
      reason_message: patch.reason ? patch.reason.message : keepReason ? row.reason_message : null,
      remote_id: patch.remoteId ?? row.remote_id,
      patient_id: patch.patientId ?? row.patient_id,
    };
    const [updated] = await q<OutboxRow>(
      client,
      `UPDATE journal_outbox SET state = $2, observation = $3, bytes = $4, attempts = $5, next_attempt_at = $6,
         updated_at = $7, reason_code = $8, reason_message = $9, remote_id = $10, patient_id = $11,
         claimed_by = CASE WHEN $2 = 'in-flight' THEN $12 ELSE NULL END,
         claimed_until = CASE WHEN $2 = 'in-flight' THEN $13::bigint ELSE NULL END
       WHERE id = $1 RETURNING ${OUTBOX_COLUMNS}`,
      [
        id,
        to,
        next.observation,
        next.bytes,
        next.attempts,
        next.next_attempt_at,
        now,
        next.reason_code,
        next.reason_message,
        next.remote_id,
        next.patient_id,
        this.owner,
        // a move to in-flight outside claim(): leased for as long as a claim (see claim())
        now + DEFAULT_LEASE_MS,
      ],
    );
    if (purge && row.observation !== null) {
      state.held.readings -= 1;
      state.held.bytes -= row.bytes;
    }
    if (restated) state.held.bytes += next.bytes - row.bytes;
    const common = {
      at: now,
      readingId: id,
      deviceId: row.device_id,
      ...(next.patient_id !== null ? { patientId: next.patient_id } : {}),
      kind: row.kind,
    };
    if (patch.audit) {
      await state.audit({
        ...common,
        event: patch.audit.event,
        ...(patch.audit.detail ? { detail: patch.audit.detail } : {}),
      });
    } else if (auditedTransition(from, to)) {
      await state.audit({
        ...common,
        event: `reading.${to}`,
        detail: {
          from,
          attempts: next.attempts,
          ...(patch.reason ? { code: patch.reason.code } : {}),
          ...(patch.remoteId ? { remoteId: patch.remoteId } : {}),
          ...(purge ? { purged: true } : {}),
        },
      });
    }
    return updated!;
  }

  /**
   * Fencing: a reading in flight under another process's live lease, or taken over by another
   * claimant after this one's lease ran out, is settled only by its current claimant.
   */
  private checkLease(row: OutboxRow, from: OutboxState, now: number): void {
    if (from !== 'in-flight' || row.claimed_by === null || row.claimed_by === this.owner) return;
    if (row.claimed_until !== null && row.claimed_until < now) return;
    throw new MedgwError(
      'MEDGW_ERR_JOURNAL_STATE',
      `reading ${row.id} is in flight on another instance (${row.claimed_by}) until ${new Date(row.claimed_until ?? 0).toISOString()}; only that instance settles it`,
      { id: row.id, actual: 'in-flight', from, claimedBy: row.claimed_by },
    );
  }

  /**
   * Takes up to `limit` readings to send, in one transaction: first readings whose lease ran out
   * (returned `uncertain`, leased again to this process, audited `reading.lease-expired`), then due
   * pending readings, patient by patient, oldest first, moved to in-flight under a lease of
   * `leaseMs`. A patient with a reading in flight under another process's live lease is skipped,
   * and so is one whose claim another instance is making right now (advisory lock per patient).
   */
  claim(now: number, limit: number, leaseMs: number): Promise<ClaimedReading[]> {
    return this.tx(async (client, state) => {
      const until = now + leaseMs;
      const out: ClaimedReading[] = [];
      const expired = await q<OutboxRow>(
        client,
        `SELECT ${OUTBOX_COLUMNS} FROM journal_outbox WHERE state = 'in-flight' AND claimed_until < $1
         ORDER BY created_at, row LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      for (const row of expired) {
        const [r] = await q<OutboxRow>(
          client,
          `UPDATE journal_outbox SET claimed_by = $2, claimed_until = $3, updated_at = $4 WHERE id = $1
           RETURNING ${OUTBOX_COLUMNS}`,
          [row.id, this.owner, until, now],
        );
        await state.audit({
          at: now,
          event: 'reading.lease-expired',
          readingId: row.id,
          deviceId: row.device_id,
          ...(row.patient_id !== null ? { patientId: row.patient_id } : {}),
          kind: row.kind,
          detail: {
            previousOwner: row.claimed_by,
            leaseEnded: row.claimed_until,
            attempts: row.attempts,
          },
        });
        out.push({ record: toRecord(r!), uncertain: true });
      }
      const room = limit - out.length;
      if (room <= 0) return out;
      const rows = await this.claimDue(client, now, room);
      if (rows.length === 0) return out;
      const updated = await q<OutboxRow>(
        client,
        `UPDATE journal_outbox SET state = 'in-flight', attempts = attempts + 1, next_attempt_at = NULL,
           updated_at = $2, claimed_by = $3, claimed_until = $4 WHERE id = ANY($1::text[])
         RETURNING ${OUTBOX_COLUMNS}`,
        [rows.map((r) => r.id), now, this.owner, until],
      );
      const byId = new Map(updated.map((r) => [r.id, r]));
      for (const { id } of rows) out.push({ record: toRecord(byId.get(id)!), uncertain: false });
      return out;
    });
  }

  /**
   * Due readings this transaction may claim, oldest first, locked (FOR UPDATE SKIP LOCKED): only of
   * patients no other process has in flight under a live lease and whose advisory lock this
   * transaction got, and of each such patient only its oldest readings, none skipped.
   */
  private async claimDue(client: PoolClient, now: number, room: number): Promise<{ id: string }[]> {
    const due = `state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $1)`;
    // candidates seen without locking
    const seen = await q<{ patient_id: string | null }>(
      client,
      `SELECT patient_id FROM journal_outbox WHERE ${due} ORDER BY created_at, row LIMIT $2`,
      [now, Math.max(room * 4, 32)],
    );
    const candidates: string[] = [];
    let withoutPatient = false;
    for (const { patient_id } of seen) {
      if (patient_id === null) withoutPatient = true;
      else if (!candidates.includes(patient_id)) candidates.push(patient_id);
    }
    const elsewhere = async (patients: readonly string[]): Promise<Set<string>> =>
      new Set(
        (
          await q<{ patient_id: string }>(
            client,
            `SELECT DISTINCT patient_id FROM journal_outbox WHERE state = 'in-flight'
               AND patient_id = ANY($1::text[]) AND claimed_by <> $2 AND claimed_until >= $3`,
            [patients, this.owner, now],
          )
        ).map((r) => r.patient_id),
      );
    // looked at before the locks too: a lock is held to the end of this transaction, and taking it
    // for another instance's patient would make that instance skip its own patient meanwhile
    const busy = candidates.length > 0 ? await elsewhere(candidates) : new Set<string>();
    const free = candidates.filter((p) => !busy.has(p)).slice(0, room);
    let patients: string[] = [];
    if (free.length > 0) {
      const locks = await q<{ p: string; ok: boolean }>(
        client,
        `SELECT p, pg_try_advisory_xact_lock($1, k) AS ok
         FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS t(p, k, n) ORDER BY n`,
        [LOCK_SPACE.patient, free, free.map(lockKey)],
      );
      const locked = locks.filter((l) => l.ok).map((l) => l.p);
      // an instance that committed its claim between the look and the lock is seen now
      const taken = locked.length > 0 ? await elsewhere(locked) : new Set<string>();
      patients = locked.filter((p) => !taken.has(p));
    }
    if (patients.length === 0 && !withoutPatient) return [];
    const whose = `(patient_id = ANY($2::text[])${withoutPatient ? ' OR patient_id IS NULL' : ''})`;
    const ordered = await q<{ id: string; patient_id: string | null }>(
      client,
      `SELECT id, patient_id FROM journal_outbox WHERE ${whose} AND ${due} ORDER BY created_at, row LIMIT $3`,
      [now, patients, room],
    );
    const lockedRows = await q<{ id: string }>(
      client,
      `SELECT id FROM journal_outbox WHERE ${whose} AND ${due} ORDER BY created_at, row LIMIT $3
       FOR UPDATE SKIP LOCKED`,
      [now, patients, room],
    );
    // a row locked by someone else (a move being committed) stops its patient's claim there: none of
    // the patient's later readings overtakes it (readings of no patient are held by the gate: no order)
    const lockedIds = new Set(lockedRows.map((r) => r.id));
    const stopped = new Set<string>();
    const take: { id: string }[] = [];
    for (const r of ordered) {
      if (r.patient_id !== null && stopped.has(r.patient_id)) continue;
      if (!lockedIds.has(r.id)) {
        if (r.patient_id !== null) stopped.add(r.patient_id);
        continue;
      }
      take.push(r);
    }
    return take;
  }

  /** Journal.purgeLocal: the rows and one audit entry in one transaction; the held counters follow. */
  purgeLocal(ids: readonly string[], audit: LocalPurgeAudit): Promise<number> {
    this.assertOpen();
    checkAuditEntry(audit);
    return this.tx(async (client, state) => {
      const gone = await q<{ bytes: number; held: boolean }>(
        client,
        `DELETE FROM journal_outbox WHERE id = ANY($1::text[]) AND state = 'local'
         RETURNING bytes, observation IS NOT NULL AS held`,
        [[...new Set(ids)]],
      );
      for (const g of gone) {
        if (!g.held) continue;
        state.held.readings -= 1;
        state.held.bytes -= g.bytes;
      }
      if (gone.length > 0) {
        await state.audit({
          at: this.clock.now(),
          event: audit.event,
          ...(audit.deviceId !== undefined ? { deviceId: audit.deviceId } : {}),
          ...(audit.patientId !== undefined ? { patientId: audit.patientId } : {}),
          detail: localPurgeDetail(audit, gone.length),
        });
      }
      return gone.length;
    });
  }

  async cursor(deviceId: string): Promise<number | undefined> {
    this.assertOpen();
    const [row] = await q<{ value: number }>(
      this.pool,
      'SELECT value FROM journal_cursors WHERE device_id = $1',
      [deviceId],
    );
    return row?.value;
  }

  audit(entry: AuditInput): Promise<AuditEntry> {
    checkAuditEntry(entry);
    return this.tx((_client, state) => state.audit({ ...entry, at: entry.at ?? this.clock.now() }));
  }

  /** Summaries the gateway writes on its own; each refused alone once the log holds maxAuditEntries rows. */
  auditBatch(entries: readonly AuditInput[]): Promise<(AuditEntry | MedgwError)[]> {
    const now = this.clock.now();
    return this.tx(async (client, state) => {
      let count = await this.auditCount(client);
      const out: (AuditEntry | MedgwError)[] = [];
      for (const entry of entries) {
        try {
          checkAuditEntry(entry);
          checkAuditRoom(this.limits, count);
        } catch (e) {
          if (e instanceof MedgwError) {
            out.push(e);
            continue;
          }
          throw e;
        }
        out.push(await state.audit({ ...entry, at: entry.at ?? now }));
        count++;
      }
      return out;
    });
  }

  private async auditCount(c: Queryable): Promise<number> {
    const [row] = await q<{ n: number }>(c, 'SELECT count(*)::bigint AS n FROM journal_audit');
    return row?.n ?? 0;
  }

  /** The most recent `limit` entries matching the filter, in the order they were written. */
  async auditList(
    filter: { patientId?: string; readingId?: string; limit?: number } = {},
  ): Promise<AuditEntry[]> {
    this.assertOpen();
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.patientId) {
      params.push(filter.patientId);
      where.push(`patient_id = $${params.length}`);
    }
    if (filter.readingId) {
      params.push(filter.readingId);
      where.push(`reading_id = $${params.length}`);
    }
    let sql = `SELECT ${AUDIT_COLUMNS} FROM journal_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY pos DESC`;
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      sql += ` LIMIT $${params.length}`;
    }
    return (await q<AuditRow>(this.pool, sql, params)).map(toAudit).reverse();
  }

  /** Each chain checked from its genesis: the first broken entry of each broken chain. */
  async auditVerifyChains(): Promise<{ chain: string; entries: number; firstBroken?: number }[]> {
    this.assertOpen();
    const chains = await q<{ chain: string; n: number }>(
      this.pool,
      'SELECT chain, count(*)::bigint AS n FROM journal_audit GROUP BY chain ORDER BY chain',
    );
    const out: { chain: string; entries: number; firstBroken?: number }[] = [];
    const page = 5000;
    for (const { chain, n } of chains) {
      let after = 0;
      let broken: number | undefined;
      let prev = GENESIS_HASH;
      let expected = 1;
      for (;;) {
        const rows = await q<AuditRow>(
          this.pool,
          `SELECT ${AUDIT_COLUMNS} FROM journal_audit WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
          [chain, after, page],
        );
        if (rows.length === 0) break;
        const first = verifyChain(rows.map(toAudit), { prev, seq: expected });
        if (first !== undefined) {
          broken = first;
          break;
        }
        const last = rows[rows.length - 1]!;
        prev = last.hash;
        expected = last.seq + 1;
        after = last.seq;
      }
      out.push({ chain, entries: n, ...(broken !== undefined ? { firstBroken: broken } : {}) });
    }
    return out;
  }

  /** The seq of the first broken entry of the first broken chain, or undefined when all hold. */
  async auditVerify(): Promise<number | undefined> {
    return (await this.auditVerifyChains()).find((c) => c.firstBroken !== undefined)?.firstBroken;
  }

  async stats(now: number): Promise<JournalStats> {
    this.assertOpen();
    const byState = Object.fromEntries(OUTBOX_STATES.map((s) => [s, 0])) as Record<OutboxState, number>;
    for (const { state, n } of await q<{ state: string; n: number }>(
      this.pool,
      'SELECT state, count(*)::bigint AS n FROM journal_outbox GROUP BY state',
    ))
      byState[state as OutboxState] = n;
    const [oldest] = await q<{ t: number | null }>(
      this.pool,
      `SELECT min(created_at) AS t FROM journal_outbox WHERE state = ANY($1::text[])`,
      [UNSENT_STATES],
    );
    const t = oldest?.t ?? null;
    return {
      byState,
      oldestUnsentAgeMs: t === null ? null : Math.max(0, now - t),
      held: await this.heldTotals(this.pool),
      limits: this.limits,
      refusedFull: this.refusedFull,
      auditEntries: await this.auditCount(this.pool),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener?.release(true);
    this.listener = undefined;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new MedgwError('MEDGW_ERR_JOURNAL_OPEN', `the journal at ${this.path} is closed`);
  }
}

/** A move to in-flight outside claim() (transition()) holds its lease this long. */
export const DEFAULT_LEASE_MS = 120_000;
