/**
 * Pairing links and their tokens on PostgreSQL (storage.kind: postgres), shared by several gateway
 * instances, and the advisory lock that serializes a patient's token refresh across them.
 *
 * Encryption: each link is sealed with AES-256-GCM (the data directory's Sealer, gateway/secrets, NIST
 * SP 800-38D) before it reaches the database, its key from MEDGW_TOKEN_KEY or `<dataDir>/token.key`. The key never goes into the database; every instance needs the same one,
 * given in MEDGW_TOKEN_KEY or as the same token.key file provisioned to each instance's data
 * directory (docs/storage.md). The database keeps a fingerprint of the key (HMAC-SHA-256 of a fixed
 * text under the key: it reveals nothing of the key), so an instance started with another key is
 * refused at start (MEDGW_ERR_TOKEN_KEY) instead of failing on the first link it reads. The sealed
 * text holds the patient id and is checked against its row, so a sealed link moved to another
 * patient's row is refused (MEDGW_ERR_TOKEN_STORE).
 *
 * Like the registry, each instance keeps a copy (the forwarder reads a link on every send), written
 * through, kept in step by NOTIFY `medgw_tokens` (the patient id) and a periodic reload. An update
 * merges its patch into the row as the database holds it, locked, never into the copy: marking a
 * consent withdrawn on one instance never puts back tokens another instance has just rotated.
 */
import type { LinkStore, PatientLink, RefreshLock } from '../../cloud-bridge/token-store.ts';
import { MedgwError } from '../../kernel/errors.ts';
import type { Sealer } from '../secrets/index.ts';
import { type ChannelListener, listenChannel } from './listen.ts';
import { inTransaction, LOCK_SPACE, lockKey, type Migration, migrate, type Pool } from './postgres.ts';

export const TOKENS_CHANNEL = 'medgw_tokens';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'pairing links sealed with the instances token key, and that key fingerprint',
    sql: `
      CREATE TABLE medgw_token_link (
        patient_id text PRIMARY KEY,
        sealed text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE medgw_token_key (
        id integer PRIMARY KEY CHECK (id = 1),
        fingerprint text NOT NULL
      );
    `,
  },
];

function unseal(sealer: Sealer, patientId: string, sealed: string): PatientLink {
  const link = JSON.parse(sealer.open(sealed)) as PatientLink;
  if (link.patientId !== patientId) {
    throw new MedgwError(
      'MEDGW_ERR_TOKEN_STORE',
      `the sealed link in the row of ${patientId} is another patient's`,
    );
  }
  return link;
}

export interface PostgresTokenStoreOptions {
  /** The full reload behind the notifications; default 30 s. */
  readonly reloadIntervalMs?: number;
  readonly relistenMs?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

export class PostgresTokenStore implements LinkStore {
  readonly #pool: Pool;
  readonly #sealer: Sealer;
  readonly #options: PostgresTokenStoreOptions;
  #links = new Map<string, PatientLink>();
  /** Reloads and writes of this instance, one after the other (see PostgresRegistry). */
  #queue: Promise<unknown> = Promise.resolve();
  #listener: ChannelListener | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #notified = new Set<string>();
  #notifiedRead: Promise<void> | undefined;

  private constructor(pool: Pool, sealer: Sealer, options: PostgresTokenStoreOptions) {
    this.#pool = pool;
    this.#sealer = sealer;
    this.#options = options;
  }

  /**
   * Brings the schema up to date, checks the sealer's key against the fingerprint the database keeps
   * (the first instance records it; it reveals nothing of the key), listens for other instances'
   * changes, then loads the copy.
   */
  static async open(
    pool: Pool,
    sealer: Sealer,
    options: PostgresTokenStoreOptions = {},
  ): Promise<PostgresTokenStore> {
    await migrate(pool, 'tokens', MIGRATIONS);
    const fingerprint = sealer.fingerprint();
    await pool.query(
      'INSERT INTO medgw_token_key (id, fingerprint) VALUES (1, $1) ON CONFLICT (id) DO NOTHING',
      [fingerprint],
    );
    const { rows } = await pool.query<{ fingerprint: string }>(
      'SELECT fingerprint FROM medgw_token_key WHERE id = 1',
    );
    if (rows[0]?.fingerprint !== fingerprint) {
      throw new MedgwError(
        'MEDGW_ERR_TOKEN_KEY',
        'this instance token key is not the one that sealed the tokens in PostgreSQL: give every instance the same key (MEDGW_TOKEN_KEY, or the same token.key in each data directory)',
      );
    }
    const store = new PostgresTokenStore(pool, sealer, options);
    try {
      store.#listener = await listenChannel(pool, {
        channel: TOKENS_CHANNEL,
        onPayload: (patientId) => store.#hint(patientId),
        onRelisten: () => store.reload(),
        ...(options.relistenMs !== undefined ? { relistenMs: options.relistenMs } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
      await store.reload();
    } catch (e) {
      await store.close();
      throw e;
    }
    store.#timer = setInterval(() => {
      store
        .reload()
        .catch((e: unknown) =>
          options.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'token links reload failed'),
        );
    }, options.reloadIntervalMs ?? 30_000);
    store.#timer.unref();
    return store;
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #hint(patientId: string): void {
    this.#notified.add(patientId);
    if (this.#notifiedRead) return;
    this.#notifiedRead = this.#enqueue(async () => {
      this.#notifiedRead = undefined;
      const ids = [...this.#notified];
      this.#notified.clear();
      await this.#readRows(ids);
    }).catch((e: unknown) =>
      this.#options.log?.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'reading token links another instance changed failed',
      ),
    );
  }

  async #readRows(ids: readonly string[]): Promise<Map<string, PatientLink>> {
    const { rows } = await this.#pool.query<{ patient_id: string; sealed: string }>(
      'SELECT patient_id, sealed FROM medgw_token_link WHERE patient_id = ANY($1)',
      [ids],
    );
    const found = new Map(rows.map((r) => [r.patient_id, unseal(this.#sealer, r.patient_id, r.sealed)]));
    const next = new Map(this.#links);
    for (const id of ids) {
      const link = found.get(id);
      if (link) next.set(id, link);
      else next.delete(id);
    }
    this.#links = next;
    return found;
  }

  /** Reads every link again and replaces the copy (at open, periodically, after a lost connection). */
  reload(): Promise<void> {
    return this.#enqueue(async () => {
      const { rows } = await this.#pool.query<{ patient_id: string; sealed: string }>(
        'SELECT patient_id, sealed FROM medgw_token_link',
      );
      this.#links = new Map(rows.map((r) => [r.patient_id, unseal(this.#sealer, r.patient_id, r.sealed)]));
    });
  }

  get(patientId: string): PatientLink | undefined {
    return this.#links.get(patientId);
  }

  list(): PatientLink[] {
    return [...this.#links.values()];
  }

  /** Reads the row itself (another instance may have just rotated the tokens) and refreshes the copy. */
  fresh(patientId: string): Promise<PatientLink | undefined> {
    return this.#enqueue(async () => (await this.#readRows([patientId])).get(patientId));
  }

  async put(link: PatientLink): Promise<void> {
    await this.#enqueue(() =>
      inTransaction(this.#pool, async (client) => {
        await client.query(
          `INSERT INTO medgw_token_link (patient_id, sealed) VALUES ($1, $2)
           ON CONFLICT (patient_id) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()`,
          [link.patientId, this.#sealer.seal(JSON.stringify(link))],
        );
        await client.query('SELECT pg_notify($1, $2)', [TOKENS_CHANNEL, link.patientId]);
      }),
    );
    this.#links = new Map(this.#links).set(link.patientId, link);
  }

  async update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink> {
    const next = await this.#enqueue(() =>
      inTransaction(this.#pool, async (client) => {
        const { rows } = await client.query<{ sealed: string }>(
          'SELECT sealed FROM medgw_token_link WHERE patient_id = $1 FOR UPDATE',
          [patientId],
        );
        const row = rows[0];
        if (!row) throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${patientId} is not linked`);
        const merged: PatientLink = { ...unseal(this.#sealer, patientId, row.sealed), ...patch, patientId };
        await client.query(
          'UPDATE medgw_token_link SET sealed = $2, updated_at = now() WHERE patient_id = $1',
          [patientId, this.#sealer.seal(JSON.stringify(merged))],
        );
        await client.query('SELECT pg_notify($1, $2)', [TOKENS_CHANNEL, patientId]);
        return merged;
      }),
    ).catch((e: unknown) => {
      // a link another instance removed: the copy forgets it too
      if (e instanceof MedgwError && e.code === 'MEDGW_ERR_NOT_LINKED') {
        this.#links = new Map(this.#links);
        this.#links.delete(patientId);
      }
      throw e;
    });
    this.#links = new Map(this.#links).set(patientId, next);
    return next;
  }

  async remove(patientId: string): Promise<boolean> {
    const removed = await this.#enqueue(() =>
      inTransaction(this.#pool, async (client) => {
        const { rowCount } = await client.query('DELETE FROM medgw_token_link WHERE patient_id = $1', [
          patientId,
        ]);
        await client.query('SELECT pg_notify($1, $2)', [TOKENS_CHANNEL, patientId]);
        return (rowCount ?? 0) > 0;
      }),
    );
    this.#links = new Map(this.#links);
    this.#links.delete(patientId);
    return removed;
  }

  /** Stops listening and reloading; the pool stays open (its owner ends it). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#listener?.close();
    await this.#queue.catch(() => undefined);
  }

  /** Hides the tokens from console.log / util.inspect / pino serializers. */
  toJSON(): { storage: 'postgres'; links: number } {
    return { storage: 'postgres', links: this.#links.size };
  }
}

/**
 * The refresh lock across instances: a session-level advisory lock per patient (LOCK_SPACE.refresh,
 * lockKey(patientId)), held on a connection of its own for the length of the refresh. A crashed
 * holder's connection closes and PostgreSQL releases its lock: no lease to wait out.
 *
 * Give it its own small pool: the refresh it guards writes through the store's pool, so a lock
 * sharing that pool could hold every connection while its holders wait for one.
 */
export class PostgresRefreshLock implements RefreshLock {
  constructor(private readonly pool: Pool) {}

  async withLock<T>(patientId: string, fn: () => Promise<T>): Promise<T> {
    const key = [LOCK_SPACE.refresh, lockKey(patientId)];
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', key);
    } catch (e) {
      client.release(e as Error);
      throw e;
    }
    try {
      return await fn();
    } finally {
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', key);
        client.release();
      } catch (e) {
        // the connection is gone, and its lock with it
        client.release(e as Error);
      }
    }
  }
}
