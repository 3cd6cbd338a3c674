/**
 * The journal of a running gateway on its own thread. The SQLite connection (sqlite.ts, unchanged:
 * WAL, synchronous=FULL, one writer) or the PostgreSQL pool (postgres.ts, asynchronous there) lives
 * in a worker thread (worker.ts); the main thread keeps reading sockets, decoding and normalizing
 * while a group commit inserts and fsyncs there.
 *
 * - Group commits (GroupCommit over AsyncBatchJournal) are posted and answered asynchronously; a
 *   transport still acknowledges only once the answer says the batch is committed.
 * - Every other Journal call keeps its synchronous contract: the main thread posts it on a dedicated
 *   port and waits on a shared signal until the worker answers (Atomics.wait + receiveMessageOnPort),
 *   so the web pages, the admin API and the forwarder read what is committed, as before.
 * - close() travels behind the batches already posted, so they commit before the file closes.
 * A worker that stops unexpectedly fails every waiting call with MEDGW_ERR_JOURNAL_OPEN: nothing
 * is acknowledged that was not committed.
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
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
import { redactUrl } from '../storage/postgres.ts';
import type { AsyncBatchJournal, BatchAppend, BatchTransition } from './group-commit.ts';
import type { PostgresJournalOptions } from './postgres.ts';
import { type PreparedAppend, prepareAppends } from './prepare.ts';
import type { JournalStats } from './rules.ts';
import type { SqliteJournalOptions } from './sqlite.ts';
import {
  type AuditInput,
  type BatchOp,
  type BatchReply,
  type BatchRequest,
  deserializeError,
  deserializeResults,
  packAppends,
  type SerializedResult,
  SIGNAL_GONE,
  SIGNAL_WAITING,
  type SyncMethod,
  type SyncReply,
  type ThreadBackend,
  type ThreadEvent,
  type WorkerInit,
} from './thread-protocol.ts';

/** The worker's entry: a plain module that loads the TypeScript sources (no build step). */
const ENTRY = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));

/** How long a single call may wait for the journal thread before it is reported as stuck. */
const CALL_TIMEOUT_MS = 120_000;

interface Waiter {
  readonly resolve: (results: SerializedResult[]) => void;
  readonly reject: (e: unknown) => void;
}

export class ThreadedJournal implements Journal, AsyncBatchJournal {
  readonly path: string;
  private readonly worker: Worker;
  private readonly syncPort: MessagePort;
  private readonly signal: Int32Array;
  private readonly clock: Clock;
  private readonly onFull: ((refusal: MedgwError) => void) | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private closed = false;
  private failure: MedgwError | undefined;
  private readonly opened: Promise<void>;
  private readonly watchers = new Set<() => void>();
  /** Which process holds this journal's claims (PostgreSQL), as the journal thread reported it. */
  owner: string | undefined;
  /** Claims with leases: present only over PostgreSQL (see Journal.claim). */
  readonly claim?: (now: number, limit: number, leaseMs: number) => Promise<ClaimedReading[]>;
  /** Wake-ups from the other instances' commits: present only over PostgreSQL (see Journal.watch). */
  readonly watch?: (listener: () => void) => () => void;
  /** One audit chain per instance: present only over PostgreSQL (see Journal.auditChains). */
  readonly auditChains?: () => { chain: string; entries: number; firstBroken?: number }[];

  /** Starts the journal thread and opens the file there (MEDGW_ERR_JOURNAL_OPEN when it cannot). */
  static async open(options: SqliteJournalOptions): Promise<ThreadedJournal> {
    const { clock, onFull, ...rest } = options;
    const journal = new ThreadedJournal({ kind: 'sqlite', options: rest }, options.path, clock, onFull);
    await journal.opened;
    return journal;
  }

  /**
   * Starts the journal thread on a PostgreSQL database shared by several instances; the schema is
   * brought up to date there (MEDGW_ERR_STORAGE_UNREACHABLE, MEDGW_ERR_STORAGE_SCHEMA_NEWER).
   */
  static async openPostgres(
    options: PostgresJournalOptions & { readonly onFull?: (refusal: MedgwError) => void },
  ): Promise<ThreadedJournal> {
    const { clock, onFull, ...rest } = options;
    const journal = new ThreadedJournal(
      { kind: 'postgres', options: rest },
      redactUrl(options.url),
      clock,
      onFull,
    );
    await journal.opened;
    return journal;
  }

  private constructor(
    backend: ThreadBackend,
    path: string,
    clock: Clock | undefined,
    onFull: ((refusal: MedgwError) => void) | undefined,
  ) {
    this.path = path;
    this.clock = clock ?? systemClock;
    this.onFull = onFull;
    if (backend.kind === 'postgres') {
      this.claim = (now, limit, leaseMs) => this.claimAsync(now, limit, leaseMs);
      this.auditChains = () => this.call('auditVerifyChains', []);
      this.watch = (listener) => {
        this.watchers.add(listener);
        return () => this.watchers.delete(listener);
      };
    }
    const shared = new SharedArrayBuffer(4);
    this.signal = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.syncPort = port1;
    const init: WorkerInit = { backend, signal: shared, syncPort: port2 };
    this.worker = new Worker(ENTRY, { workerData: init, transferList: [port2] });
    this.opened = new Promise<void>((resolve, reject) => {
      const onEvent = (m: ThreadEvent | BatchReply) => {
        if (m.type !== 'opened') return;
        this.worker.off('message', onEvent);
        if (m.error) {
          this.closed = true;
          reject(deserializeError(m.error));
        } else {
          this.owner = m.owner;
          resolve();
        }
      };
      this.worker.on('message', onEvent);
      this.worker.once('exit', (code) =>
        reject(
          new MedgwError(
            'MEDGW_ERR_JOURNAL_OPEN',
            `the journal thread for ${this.path} stopped while opening (exit code ${code})`,
          ),
        ),
      );
    });
    this.worker.on('message', (m: ThreadEvent | BatchReply) => this.onMessage(m));
    this.worker.on('error', (e) => this.fail(`the journal thread failed: ${e.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the journal thread stopped unexpectedly (exit code ${code})`);
      else this.fail('the journal is closed');
    });
    // the thread keeps the process alive only while it opens or commits something asked of it
    void this.opened.then(
      () => {
        if (this.waiting.size === 0) this.worker.unref();
      },
      () => undefined,
    );
  }

  /** The operator alarm, raised here for each refusal the journal thread reports (as sqlite.ts does). */
  private alarm(e: unknown): void {
    if (!(e instanceof MedgwError) || e.code !== 'MEDGW_ERR_JOURNAL_FULL') return;
    try {
      this.onFull?.(e);
    } catch {
      // an alarm that fails must not turn a refusal into a crash
    }
  }

  private onMessage(m: ThreadEvent | BatchReply): void {
    if (m.type === 'notified') {
      for (const listener of this.watchers) {
        try {
          listener();
        } catch {
          // a hint: a listener that fails changes nothing
        }
      }
      return;
    }
    if (m.type !== 'batch') return;
    const waiter = this.waiting.get(m.id);
    if (!waiter) return;
    this.waiting.delete(m.id);
    if (this.waiting.size === 0) this.worker.unref();
    if ('error' in m) waiter.reject(deserializeError(m.error));
    else waiter.resolve(m.results);
  }

  /** Every call still waiting fails; later calls are refused with the same reason. */
  private fail(reason: string): void {
    this.failure ??= new MedgwError('MEDGW_ERR_JOURNAL_OPEN', `${reason} (${this.path})`);
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }

  private refusal(): MedgwError | undefined {
    if (this.closed) return new MedgwError('MEDGW_ERR_JOURNAL_OPEN', `the journal at ${this.path} is closed`);
    return this.failure;
  }

  /** Posts a batch behind those already posted; resolves with each item's result once committed. */
  private batch<T>(
    message: Exclude<BatchOp, { op: 'close' }>,
    now = this.clock.now(),
  ): Promise<(T | MedgwError)[]> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    const id = this.nextId++;
    return new Promise<SerializedResult[]>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      const request: BatchRequest = { id, now, ...message };
      this.worker.postMessage(request);
    }).then((serialized) => {
      const results = deserializeResults<T>(serialized);
      for (const r of results) this.alarm(r);
      return results;
    });
  }

  /**
   * Checks and serializes the readings here (a malformed one refuses the group, as sqlite.ts does),
   * so what crosses to the journal thread is flat text, cheap to copy.
   */
  appendBatchAsync(items: readonly BatchAppend[]): Promise<(AppendResult | MedgwError)[]> {
    let prepared: PreparedAppend[];
    try {
      prepared = prepareAppends(items);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.batch<AppendResult>({ op: 'append', packed: packAppends(prepared) });
  }

  transitionBatchAsync(moves: readonly BatchTransition[]): Promise<(OutboxRecord | MedgwError)[]> {
    return this.batch<OutboxRecord>({ op: 'transition', moves });
  }

  /** Summaries (SqliteJournal.auditBatch) committed on the journal thread, behind the batches posted. */
  auditBatchAsync(entries: readonly AuditInput[]): Promise<(AuditEntry | MedgwError)[]> {
    return this.batch<AuditEntry>({ op: 'audit', entries });
  }

  /**
   * due() without holding this thread while the journal thread finishes a commit: the forwarder's
   * refill uses it, so a busy ingest does not stall the event loop on each refill.
   */
  async dueAsync(now: number, limit: number): Promise<OutboxRecord[]> {
    const [rows] = await this.batch<OutboxRecord[]>({ op: 'due', limit }, now);
    if (rows instanceof MedgwError) throw rows;
    return rows ?? [];
  }

  private async claimAsync(now: number, limit: number, leaseMs: number): Promise<ClaimedReading[]> {
    const [rows] = await this.batch<ClaimedReading[]>({ op: 'claim', limit, leaseMs }, now);
    if (rows instanceof MedgwError) throw rows;
    return rows ?? [];
  }

  /** One call on the journal thread, waited for: the Journal contract stays synchronous. */
  private call<T>(method: SyncMethod, args: unknown[]): T {
    const refused = this.refusal();
    if (refused) throw refused;
    Atomics.store(this.signal, 0, SIGNAL_WAITING);
    this.syncPort.postMessage({ method, args, now: this.clock.now() });
    return this.answer<T>();
  }

  private answer<T>(): T {
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    for (;;) {
      const received = receiveMessageOnPort(this.syncPort);
      if (received) {
        const reply = received.message as SyncReply;
        if (reply.ok) return reply.value as T;
        const error = deserializeError(reply.error);
        this.alarm(error);
        throw error;
      }
      if (Atomics.load(this.signal, 0) === SIGNAL_GONE) {
        this.fail('the journal thread stopped unexpectedly');
        throw this.failure;
      }
      if (Date.now() > deadline) {
        // its late answer must never be taken for the next call's: the journal is done for
        this.fail(
          `the journal thread did not answer within ${CALL_TIMEOUT_MS / 1000} s; restart the gateway`,
        );
        void this.worker.terminate();
        throw this.failure;
      }
      // wakes when the worker raises the signal (answered or gone); the timeout only re-checks
      Atomics.wait(this.signal, 0, SIGNAL_WAITING, 1_000);
    }
  }

  append(readings: readonly NewReading[], cursor?: { deviceId: string; value: number }): AppendResult {
    return this.call('append', [readings, cursor]);
  }

  get(id: string): OutboxRecord | undefined {
    return this.call('get', [id]);
  }

  list(
    filter: { state?: OutboxState; patientId?: string; deviceId?: string; limit?: number } = {},
  ): OutboxRecord[] {
    return this.call('list', [filter]);
  }

  due(now: number, limit: number): OutboxRecord[] {
    return this.call('due', [now, limit]);
  }

  transition(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch?: Parameters<Journal['transition']>[3],
  ): OutboxRecord {
    return this.call('transition', [id, from, to, patch]);
  }

  purgeLocal(ids: readonly string[], audit: Parameters<Journal['purgeLocal']>[1]): number {
    return this.call('purgeLocal', [ids, audit]);
  }

  cursor(deviceId: string): number | undefined {
    return this.call('cursor', [deviceId]);
  }

  audit(entry: Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { at?: number }): AuditEntry {
    return this.call('audit', [entry]);
  }

  auditList(filter: { patientId?: string; readingId?: string; limit?: number } = {}): AuditEntry[] {
    return this.call('auditList', [filter]);
  }

  auditVerify(): number | undefined {
    return this.call('auditVerify', []);
  }

  stats(now: number): JournalStats {
    return this.call('stats', [now]);
  }

  /**
   * Closes the file behind every batch already posted (they commit first), then lets the thread
   * end. Safe to call twice.
   */
  close(): void {
    if (this.closed) return;
    if (this.failure) {
      this.closed = true;
      void this.worker.terminate();
      return;
    }
    Atomics.store(this.signal, 0, SIGNAL_WAITING);
    const request: BatchRequest = { id: 0, op: 'close', now: this.clock.now() };
    this.worker.postMessage(request);
    this.closed = true;
    try {
      this.answer<void>();
    } finally {
      this.syncPort.close();
    }
  }
}
