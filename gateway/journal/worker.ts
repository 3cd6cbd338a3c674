/**
 * The journal thread (see threaded.ts): owns the only SQLite connection of a running gateway and
 * executes what the main thread asks, in arrival order on each channel:
 * - batches (group commits of appends or state moves) arrive on the parent port and are answered
 *   there, so the main thread keeps serving sockets while SQLite inserts and fsyncs;
 * - single calls (reads, one-off writes) arrive on the sync port; the answer is posted back and the
 *   shared signal is raised so the waiting main thread wakes (Atomics.wait / receiveMessageOnPort).
 * Every call carries the main thread's clock reading, so an injected clock stays authoritative.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MedgwError } from '../../drivers/errors.ts';
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

let journal: SqliteJournal;
try {
  // the operator alarm is raised on the main thread, from the refusals it receives
  const options: SqliteJournalOptions = { ...init.options, clock };
  journal = new SqliteJournal(options);
} catch (e) {
  post({ type: 'opened', error: serializeError(e) });
  gone();
  process.exit(0);
}
post({ type: 'opened' });

syncPort.on('message', (m: SyncRequest) => {
  now = m.now;
  let reply: SyncReply;
  try {
    const fn: unknown = journal[m.method];
    if (typeof fn !== 'function') {
      throw new MedgwError('MEDGW_ERR_JOURNAL_INVALID', `the journal has no operation ${m.method}`);
    }
    reply = { ok: true, value: fn.apply(journal, m.args) };
  } catch (e) {
    reply = { ok: false, error: serializeError(e) };
  }
  answer(reply);
});

function answer(reply: SyncReply): void {
  syncPort.postMessage(reply);
  Atomics.store(signal, 0, SIGNAL_ANSWERED);
  Atomics.notify(signal, 0);
}

port.on('message', (m: BatchRequest) => {
  now = m.now;
  if (m.op === 'close') {
    // after every batch posted before it: they are committed, the file closes, the thread ends
    try {
      journal.close();
      answer({ ok: true, value: undefined });
    } catch (e) {
      answer({ ok: false, error: serializeError(e) });
    }
    syncPort.close();
    port.close();
    return;
  }
  try {
    const results =
      m.op === 'append'
        ? journal.appendPrepared(unpackAppends(m.packed))
        : m.op === 'transition'
          ? journal.transitionBatch(m.moves)
          : m.op === 'audit'
            ? journal.auditBatch(m.entries)
            : [journal.due(m.now, m.limit)];
    post({ type: 'batch', id: m.id, results: serializeResults(results) });
  } catch (e) {
    post({ type: 'batch', id: m.id, error: serializeError(e) });
  }
});
