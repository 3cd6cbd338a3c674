/**
 * The versioned migrations every PostgreSQL store runs at start (gateway/storage/postgres.ts): applied
 * once, in order, by instances starting together; a schema newer than the code is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Migration, migrate, openPool, type Pool } from '../../gateway/storage/postgres.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const v1: Migration = { version: 1, description: 'a table', sql: 'CREATE TABLE t (id text PRIMARY KEY)' };
const v2: Migration = { version: 2, description: 'a column', sql: 'ALTER TABLE t ADD COLUMN n integer' };

describe('PostgreSQL migrations', () => {
  it('applies each migration once even when five instances start together', async () => {
    const url = server.database();
    const pools: Pool[] = [];
    for (let i = 0; i < 5; i++) pools.push(await openPool(url));
    try {
      const versions = await Promise.all(pools.map((p) => migrate(p, 'test', [v1, v2])));
      expect(versions).toEqual([2, 2, 2, 2, 2]);
      const { rows } = await pools[0]!.query(
        'SELECT version FROM medgw_schema WHERE component = $1 ORDER BY 1',
        ['test'],
      );
      expect(rows.map((r) => r.version)).toEqual([1, 2]);
      await pools[0]!.query("INSERT INTO t (id, n) VALUES ('a', 1)");
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('brings an older schema forward and refuses a newer one with a coded error', async () => {
    const url = server.database();
    const pool = await openPool(url);
    try {
      expect(await migrate(pool, 'test', [v1])).toBe(1);
      expect(await migrate(pool, 'test', [v1, v2])).toBe(2);
      await expect(migrate(pool, 'test', [v1])).rejects.toMatchObject({
        code: 'MEDGW_ERR_STORAGE_SCHEMA_NEWER',
      });
      // Another component's versions are its own.
      expect(
        await migrate(pool, 'other', [{ version: 1, description: 'x', sql: 'CREATE TABLE u (id text)' }]),
      ).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('says which server it could not reach, without the password', async () => {
    const url = `postgres://medgw:secret-pw@127.0.0.1:${server.port + 1}/nowhere`;
    const err = await openPool(url).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEDGW_ERR_STORAGE_UNREACHABLE' });
    expect(String((err as Error).message)).not.toContain('secret-pw');
  });
});
