/**
 * How the command line reaches an instance: through the admin API when a gateway holds the data
 * directory (lock + admin-endpoint.json + admin-token), or directly on the files otherwise, holding
 * the lock for the duration of the command so nothing else writes them meanwhile.
 */
import { chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { MedgwError } from '../../kernel/errors.ts';
import type { Config } from '../config/schema.ts';
import { type Clock, type Journal, systemClock } from '../contracts.ts';
import {
  acquireLock,
  dataPath,
  ensureDataDir,
  isNewDataDir,
  lockHolder,
  readAdminEndpoint,
  readAdminToken,
} from '../datadir.ts';
import { SqliteJournal } from '../journal/sqlite.ts';
import { ThreadedJournal } from '../journal/threaded.ts';
import { deviceProvisioner } from '../mqtt/dynsec.ts';
import { PostgresRegistry } from '../registry/postgres.ts';
import { LowRegistry } from '../registry/registry.ts';
import { AdminClient } from './client.ts';
import { type AdminOps, LocalAdminOps } from './ops.ts';

/**
 * Opens the registry and the journal of a data directory (the caller holds the lock). A running
 * gateway asks for `threaded` (journal.thread): the journal then lives on its own thread. With
 * storage.kind postgres the journal is the PostgreSQL one shared by the instances (always threaded).
 */
export async function openStores(
  config: Config,
  clock: Clock = systemClock,
  onFull?: (refusal: MedgwError) => void,
  threaded = false,
  /** Where a shared registry says that it lost and got back its change notifications. */
  log?: { warn(obj: object, msg: string): void },
): Promise<{ registry: OpenedRegistry; journal: Journal & { readonly path: string } }> {
  ensureDataDir(config.dataDir);
  // before the registry file may be created: an empty journal is new only in a new data directory
  const acceptEmptyFile = isNewDataDir(config.dataDir);
  // storage.kind postgres: the registry the instances share, a copy in each kept in step (NOTIFY)
  const registry: OpenedRegistry =
    config.storage.kind === 'postgres' && config.storage.url
      ? await PostgresRegistry.connect(config.storage.url, log ? { log } : {})
      : await LowRegistry.open(dataPath(config.dataDir, 'registry'));
  try {
    return { registry, journal: await openJournal(config, clock, onFull, threaded, acceptEmptyFile) };
  } catch (e) {
    await registry.close();
    throw e;
  }
}

/** The registry of openStores: the data directory's file, or the PostgreSQL one (close() ends its pool). */
export type OpenedRegistry = LowRegistry | PostgresRegistry;

async function openJournal(
  config: Config,
  clock: Clock,
  onFull: ((refusal: MedgwError) => void) | undefined,
  threaded: boolean,
  acceptEmptyFile: boolean,
): Promise<Journal & { readonly path: string }> {
  const limits = {
    clock,
    maxReadings: config.journal.maxReadings,
    maxBytes: config.journal.maxBytes,
    maxAuditEntries: config.journal.maxAuditEntries,
    ...(onFull ? { onFull } : {}),
  };
  if (config.storage.kind === 'postgres' && config.storage.url) {
    // shared by several instances: always on its own thread (pg is asynchronous, the contract is
    // not); this instance's audit chain is named after the host and the data directory it holds
    const journal = await ThreadedJournal.openPostgres({
      url: config.storage.url,
      instance: `${hostname()}:${resolve(config.dataDir)}`,
      ...limits,
    });
    return journal;
  }
  const options = { path: dataPath(config.dataDir, 'journal'), acceptEmptyFile, ...limits };
  const journal = threaded ? await ThreadedJournal.open(options) : new SqliteJournal(options);
  // the data directory is 0700 already; the journal files are private too
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      chmodSync(`${journal.path}${suffix}`, 0o600);
    } catch {
      // -wal and -shm exist only while a connection has them open
    }
  }
  return journal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function connect(
  config: Config,
  options: { clock?: Clock; waitMs?: number } = {},
): Promise<AdminOps & { readonly mode: 'api' | 'direct' }> {
  const dataDir = config.dataDir;
  const deadline = Date.now() + (options.waitMs ?? 5000);
  for (;;) {
    const holder = lockHolder(dataDir);
    if (!holder) {
      let lock: ReturnType<typeof acquireLock>;
      try {
        lock = acquireLock(dataDir, 'cli');
      } catch (e) {
        // a gateway started between our look and our lock: go through its API
        if (e instanceof MedgwError && e.code === 'MEDGW_ERR_DATADIR_LOCKED' && Date.now() < deadline)
          continue;
        throw e;
      }
      try {
        const { registry, journal } = await openStores(config, options.clock);
        const ops = new LocalAdminOps(
          registry,
          journal,
          options.clock ?? systemClock,
          async () => {
            journal.close();
            await registry.close();
            lock.release();
          },
          config.timezone,
          deviceProvisioner(config),
        );
        return Object.assign(ops, { mode: 'direct' as const });
      } catch (e) {
        lock.release();
        throw e;
      }
    }
    if (holder.role === 'gateway') {
      const endpoint = readAdminEndpoint(dataDir);
      const token = readAdminToken(dataDir);
      if (endpoint && endpoint.pid === holder.pid && token) {
        return Object.assign(new AdminClient(endpoint.url, token), { mode: 'api' as const });
      }
      if (Date.now() >= deadline) {
        throw new MedgwError(
          'MEDGW_ERR_ADMIN_UNREACHABLE',
          `the gateway (process ${holder.pid}) holds ${dataDir} but has not published its admin endpoint`,
        );
      }
    } else if (Date.now() >= deadline) {
      throw new MedgwError(
        'MEDGW_ERR_DATADIR_LOCKED',
        `${dataDir} is being changed by another medgw command (process ${holder.pid})`,
      );
    }
    await sleep(100);
  }
}
