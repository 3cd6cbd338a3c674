/**
 * PostgreSQL storage shared by several gateway instances (storage.kind: postgres): the connection pool
 * and the versioned schema migrations every PostgreSQL store (journal, registry, tokens) runs at start.
 *
 * Migrations: each store names its component and gives its migrations in order (version 1, 2, …).
 * `migrate()` applies the missing ones in one transaction under a transaction-scoped advisory lock,
 * so three instances starting together apply each migration once. A schema newer than the code (a
 * newer medgw wrote it) is refused with MEDGW_ERR_STORAGE_SCHEMA_NEWER: this version never writes
 * to a schema it does not know.
 */
import pg from 'pg';
import { MedgwError } from '../../kernel/errors.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface Migration {
  /** 1, 2, 3…: the schema version this migration brings the component to. */
  readonly version: number;
  /** What it changes, stored beside the version. */
  readonly description: string;
  readonly sql: string;
}

/** Opens a pool and checks that the server answers (MEDGW_ERR_STORAGE_UNREACHABLE when it does not). */
export async function openPool(
  url: string,
  options: { max?: number; applicationName?: string } = {},
): Promise<Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'medgw',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its connection emits on the pool; without a listener that is fatal.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new MedgwError(
      'MEDGW_ERR_STORAGE_UNREACHABLE',
      `PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}`,
    );
  }
  return pool;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

/** Runs `fn` in one transaction on one client; rolls back on a throw. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** A stable 32-bit key for pg_advisory_*lock(int, int) from a name (FNV-1a). */
export function lockKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Namespaces of the two-key advisory locks medgw takes (first key), so stores never collide. */
export const LOCK_SPACE = {
  migrations: 0x6d676d01,
  patient: 0x6d676d02,
  refresh: 0x6d676d03,
  audit: 0x6d676d04,
} as const;

/**
 * Brings `component`'s schema to the newest of `migrations`; returns the version it is at. Refuses a
 * schema newer than the newest migration given (MEDGW_ERR_STORAGE_SCHEMA_NEWER).
 */
export async function migrate(
  pool: Pool,
  component: string,
  migrations: readonly Migration[],
): Promise<number> {
  for (let i = 0; i < migrations.length; i++) {
    if (migrations[i]?.version !== i + 1)
      throw new Error(`${component}: migration ${i + 1} is missing or out of order`);
  }
  const target = migrations.length;
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE.migrations, lockKey(component)]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS medgw_schema (
         component text NOT NULL,
         version integer NOT NULL,
         description text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (component, version)
       )`,
    );
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM medgw_schema WHERE component = $1',
      [component],
    );
    const current = rows[0]?.v ?? 0;
    if (current > target) {
      throw new MedgwError(
        'MEDGW_ERR_STORAGE_SCHEMA_NEWER',
        `${component} schema is at version ${current}; this medgw knows up to ${target}`,
      );
    }
    for (const m of migrations.slice(current)) {
      await client.query(m.sql);
      await client.query('INSERT INTO medgw_schema (component, version, description) VALUES ($1, $2, $3)', [
        component,
        m.version,
        m.description,
      ]);
    }
    return target;
  });
}
