/**
 * The measured process of the abuse-login-flood benchmark (bench/abuse-login.ts forks it with an IPC
 * channel): the gateway's HTTP server with the admin API and the local pages (registry and SQLite
 * journal in a temp directory), on a free loopback port. Reports `ready` with its URL, then its
 * memory (after a full garbage collection) each time the parent sends a label.
 */
import { join } from 'node:path';
import { LocalAdminOps } from '../gateway/admin/ops.ts';
import { HttpServer } from '../gateway/admin/server.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { silentLogger } from '../gateway/log.ts';
import { Operations } from '../gateway/ops/operations.ts';
import { LowRegistry } from '../gateway/registry/registry.ts';
import { registerWeb } from '../gateway/web/index.ts';
import { memoryNow, tempDir } from './ingest-common.ts';

export type LoginChildReport =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'memory'; readonly label: string; readonly rssMiB: number; readonly heapMiB: number };

const dir = tempDir('abuse-login');
const clock = { now: () => Date.now() };
const log = silentLogger();
const registry = await LowRegistry.open(join(dir.path, 'registry.json'));
const journal = new SqliteJournal({ path: join(dir.path, 'journal.db'), clock });
const ops = new Operations(new LocalAdminOps(registry, journal, clock), { registry, journal });
const server = new HttpServer(
  { host: '127.0.0.1', port: 0, token: 'bench-admin-token-0123456789', log },
  ops,
);
registerWeb(server, {
  dataDir: dir.path,
  registry,
  journal,
  ops,
  clock,
  log,
  initialPassword: 'bench-password-0123',
});
await server.start();

const send = (m: LoginChildReport) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
process.on('message', (label: string) => {
  if (label === 'stop') {
    void server.stop().then(() => {
      journal.close();
      dir.remove();
      process.exit(0);
    });
    return;
  }
  void send({ type: 'memory', label, ...memoryNow() });
});
await send({ type: 'ready', url: server.url ?? '' });
