/**
 * The measured process of the memory benchmark (bench/memory.ts starts it with an IPC channel, so the
 * figures are this process's own, free of the simulated clients and of the other benchmarks).
 * Modes (argv[2]):
 *   journal-sqlite | journal-memory  append N queued readings, report memory before and after;
 *   gateway | bare                   start the gateway side (hooks, pipeline, SQLite journal) or a bare
 *                                    aedes broker; once the parent connected and dropped one warm-up
 *                                    device, report memory, then again when it says its devices are
 *                                    connected.
 */

import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { GroupCommit } from '../gateway/journal/group-commit.ts';
import { MemoryJournal } from '../gateway/journal/memory.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { startGatewaySide } from './ingest.ts';
import { envInt, memoryNow, pendingReadings, tempDir } from './ingest-common.ts';

export type ChildReport =
  | { readonly type: 'ready'; readonly url: string; readonly ids: readonly string[]; readonly secret: string }
  | { readonly type: 'memory'; readonly label: string; readonly rssMiB: number; readonly heapMiB: number };

function send(message: ChildReport): Promise<void> {
  return new Promise((resolve) => process.send?.(message, () => resolve()));
}

function nextMessage(): Promise<string> {
  return new Promise((resolve) => process.once('message', (m) => resolve(String(m))));
}

async function report(label: string): Promise<void> {
  await send({ type: 'memory', label, ...memoryNow() });
}

async function journalMode(kind: 'sqlite' | 'memory'): Promise<void> {
  const count = envInt('MEDGW_BENCH_MEMORY_READINGS', 10_000);
  const dir = tempDir('memory-journal');
  try {
    const journal =
      kind === 'sqlite'
        ? new SqliteJournal({ path: join(dir.path, 'journal.sqlite') })
        : new MemoryJournal({ clock: { now: () => Date.now() } });
    const commits = new GroupCommit(journal);
    // warm-up: the first readings load code and fill caches that are not part of the queue
    await Promise.all(pendingReadings(100, 100, 'memory-warm').map((r) => commits.append([r])));
    await report('before');
    // readings arrive 100 at a time (100 devices), each group committed before the next: what stays
    // is the queue, not a burst of garbage
    for (let i = 0; i < count; i += 100) {
      const group = pendingReadings(Math.min(100, count - i), 100, `memory-${i}`);
      await Promise.all(group.map((r) => commits.append([r])));
    }
    if (journal.stats(Date.now()).byState.pending !== count + 100)
      throw new Error('memory bench: readings missing');
    await report('after');
    journal.close();
  } finally {
    dir.remove();
  }
}

async function brokerMode(kind: 'gateway' | 'bare'): Promise<void> {
  const devices = envInt('MEDGW_BENCH_MEMORY_DEVICES', 100);
  const dir = tempDir('memory-broker');
  try {
    let stop: () => Promise<void>;
    if (kind === 'gateway') {
      // one more device than measured: the first one warms the connection path up
      const side = await startGatewaySide(dir.path, devices + 1, 'mem');
      stop = side.stop;
      await send({ type: 'ready', url: side.fleet.url, ids: side.fleet.ids, secret: side.fleet.secret });
    } else {
      const aedes = await Aedes.createBroker();
      const server = createServer({ noDelay: true }, aedes.handle);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      stop = async () => {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      };
      const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ids = Array.from({ length: devices + 1 }, (_, i) => `bare-mem-${i}`);
      await send({ type: 'ready', url, ids, secret: 'unused' });
    }
    await nextMessage(); // the parent connected and disconnected the warm-up device
    await report('before');
    await nextMessage(); // the parent's devices are connected
    await report('after');
    await nextMessage(); // the parent disconnected them
    await stop();
  } finally {
    dir.remove();
  }
}

const mode = process.argv[2];
if (mode === 'journal-sqlite') await journalMode('sqlite');
else if (mode === 'journal-memory') await journalMode('memory');
else if (mode === 'gateway' || mode === 'bare') await brokerMode(mode);
else throw new Error(`memory-child: unknown mode ${mode}`);
process.disconnect?.();
