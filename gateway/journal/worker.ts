/**
 * The journal thread (see threaded.ts): owns the journal of a running gateway — the only SQLite
 * connection of one box, or the PostgreSQL pool of an instance sharing its journal — and executes
 * what the main thread asks, in arrival order:
 * - batches (group commits of appends or state moves, claims) arrive on the parent port and are
 *   answered there, so the main thread keeps serving sockets while the journal commits;
 * - single calls (reads, one-off writes) arrive on the sync port; the answer is posted back and the
 *   shared signal is raised so the waiting main thread wakes (Atomics.wait / receiveMessageOnPort).
 * SQLite answers synchronously; PostgreSQL answers asynchronously, and its operations run one at a
 * time, in arrival order, as SQLite's do (one queue), so an instance's own writes never race each
 * other. Every call carries the main thread's clock reading, so an injected clock stays authoritative.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MedgwError } from '../../kernel/errors.ts';
import { PostgresJournal } from './postgres.ts';
import { SqliteJournal, type SqliteJournalOptions } from './sqlite.ts';
import {
  type BatchReply,
  type BatchRequest,
  SIGNAL_ANSWERED,
  SIGNAL_GONE,
  type SyncReply,
  type SyncRequest,
  serializeError,
  serializeResults,
  type ThreadEvent,
  unpackAppends,
  type WorkerInit,
} from './thread-protocol.ts';

const init = workerData as WorkerInit;
const signal = new Int32Array(init.signal);
const syncPort: MessagePort = init.syncPort;
const port = parentPort;
if (!port) throw new Error('the journal worker runs only as a worker thread');

let now = Date.now();
const clock = { now: () => now };

function post(message: ThreadEvent | BatchReply): void {
  port?.postMessage(message);
}

/** Wakes a main thread waiting on a call that can no longer be answered. */
function gone(): void {
  Atomics.store(signal, 0, SIGNAL_GONE);
  Atomics.notify(signal, 0);
}
process.on('exit', gone);

let journal: SqliteJournal | PostgresJournal;
try {
  if (init.backend.kind === 'sqlite') {
    // the operator alarm is raised on the main thread, from the refusals it receives
    const options: SqliteJournalOptions = { ...init.backend.options, clock };
    journal = new SqliteJournal(options);
  } else {
    const pg = await PostgresJournal.open({ ...init.backend.options, clock });
    journal = pg;
    await pg.listen(() => post({ type: 'notified' }));
  }
} catch (e) {
  post({ type: 'opened', error: serializeError(e) });
  gone();
  process.exit(0);
}
post({ type: 'opened', ...(journal instanceof PostgresJournal ? { owner: journal.owner } : {}) });

/** Operations in arrival order, one at a time (a synchronous journal finishes each before the next). */
let queue: Promise<unknown> = Promise.resolve();
function inOrder(run: () => Promise<void>): void {
  queue = queue.then(run, run);
}

/**
 * Reads that PostgreSQL answers on another connection without waiting for the writes queued before
 * them: they see what is committed, and the main thread, blocked until the answer, is not held for
 * the length of a group commit.
 */
const READS: ReadonlySet<string> = new Set([
  'get',
  'list',
  'due',
  'cursor',
  'auditList',
  'auditVerify',
  'auditVerifyChains',
  'stats',
]);
function schedule(method: string, at: number, run: () => Promise<void>): void {
  // a read is given its time as an argument: the clock of the writes in progress stays theirs
  if (journal instanceof PostgresJournal && READS.has(method)) void run();
  else
    inOrder(() => {
      now = at;
      return run();
    });
}

syncPort.on('message', (m: SyncRequest) =>
  schedule(m.method, m.now, async () => {
    let reply: SyncReply;
    try {
      const fn: unknown = (journal as unknown as Record<string, unknown>)[m.method];
      if (typeof fn !== 'function') {
        throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `the journal has no operation ${m.method}`);
      }
      reply = { ok: true, value: await fn.apply(journal, m.args) };
    } catch (e) {
      reply = { ok: false, error: serializeError(e) };
    }
    answer(reply);
  }),
);

function answer(reply: SyncReply): void {
  syncPort.postMessage(reply);
  Atomics.store(signal, 0, SIGNAL_ANSWERED);
  Atomics.notify(signal, 0);
}

port.on('message', (m: BatchRequest) =>
  schedule(m.op, m.now, async () => {
    if (m.op === 'close') {
      // after every batch posted before it: they are committed, the journal closes, the thread ends
      try {
        await journal.close();
        answer({ ok: true, value: undefined });
      } catch (e) {
        answer({ ok: false, error: serializeError(e) });
      }
      syncPort.close();
      port.close();
      return;
    }
    try {
      let results: unknown[];
      if (m.op === 'append') results = await journal.appendPrepared(unpackAppends(m.packed));
      else if (m.op === 'transition') results = await journal.transitionBatch(m.moves);
      else if (m.op === 'audit') results = await journal.auditBatch(m.entries);
      else if (m.op === 'claim') {
        if (!(journal instanceof PostgresJournal)) {
          throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', 'claims with leases need the PostgreSQL journal');
        }
        results = [await journal.claim(m.now, m.limit, m.leaseMs)];
      } else results = [await journal.due(m.now, m.limit)];
      post({ type: 'batch', id: m.id, results: serializeResults(results) });
    } catch (e) {
      post({ type: 'batch', id: m.id, error: serializeError(e) });
    }
  }),
);
