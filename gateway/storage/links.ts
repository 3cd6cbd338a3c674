/**
 * Where a gateway keeps its pairing links, from its configuration: the encrypted file of its data
 * directory (storage.kind sqlite), or the PostgreSQL table the instances share (storage.kind
 * postgres) with the advisory lock that serializes a patient's token refresh across them. Either way
 * the tokens are sealed by the data directory's Sealer (gateway/secrets: MEDGW_TOKEN_KEY or
 * <dataDir>/token.key).
 */
import type { LinkStore, RefreshLock } from '../../cloud-bridge/token-store.ts';
import type { Config } from '../config/schema.ts';
import { openSealer } from '../secrets/index.ts';
import { openPool } from './postgres.ts';
import { TokenStore } from './tokens-file.ts';
import { PostgresRefreshLock, PostgresTokenStore } from './tokens-postgres.ts';

export interface OpenedLinks {
  readonly store: LinkStore;
  /** Present when several instances share the store: give it to the PairingClient. */
  readonly lock?: RefreshLock;
  /** Stops listening and ends the pools (nothing to do for the file). */
  close(): Promise<void>;
}

export async function openLinks(
  config: Pick<Config, 'dataDir' | 'storage'>,
  env: NodeJS.ProcessEnv = process.env,
  log?: { warn(obj: object, msg: string): void },
): Promise<OpenedLinks> {
  if (config.storage.kind !== 'postgres' || !config.storage.url) {
    return { store: new TokenStore(config.dataDir, env), close: async () => undefined };
  }
  const sealer = openSealer(config.dataDir, env);
  const pool = await openPool(config.storage.url, { max: 3, applicationName: 'medgw tokens' });
  // its own pool: a lock holder's refresh writes through the store's pool (tokens-postgres.ts)
  const lockPool = await openPool(config.storage.url, {
    max: 2,
    applicationName: 'medgw refresh lock',
  }).catch(async (e: unknown) => {
    await pool.end().catch(() => undefined);
    throw e;
  });
  let store: PostgresTokenStore;
  try {
    store = await PostgresTokenStore.open(pool, sealer, log ? { log } : {});
  } catch (e) {
    await Promise.allSettled([pool.end(), lockPool.end()]);
    throw e;
  }
  return {
    store,
    lock: new PostgresRefreshLock(lockPool),
    async close() {
      await store.close();
      await Promise.allSettled([pool.end(), lockPool.end()]);
    },
  };
}
