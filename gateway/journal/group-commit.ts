/**
 * Group commit: many small appends arriving in the same tick (one MQTT message each, QoS 1) are
 * written in one transaction, so they share one fsync. Each caller's promise settles only after that
 * commit, with its own result or its own refusal (one full item does not refuse the others).
 *
 * Over a journal on its own thread (threaded.ts) the commits run there, one round at a time: what
 * arrives while a round is being committed waits for the next one, so batches grow with the load
 * while this thread keeps serving the network.
 *
 * Fair queuing: appends wait in one queue per device, and a round takes them in turn, one from each
 * device, up to the round size. A device flooding the gateway fills later rounds with its own
 * readings; another device's reading still goes into the next round.
 */
import { MedgwError } from '../../kernel/errors.ts';
import type { AppendResult, Journal, NewReading, OutboxRecord, OutboxState } from '../contracts.ts';

export interface BatchAppend {
  readonly readings: readonly NewReading[];
  readonly cursor?: { readonly deviceId: string; readonly value: number } | undefined;
}

export interface BatchTransition {
  readonly id: string;
  readonly from: OutboxState;
  readonly to: OutboxState;
  readonly patch?: Parameters<Journal['transition']>[3];
}

/** A journal that can commit several appends, or several transitions, in one transaction. */
export interface BatchJournal {
  appendBatch(items: readonly BatchAppend[]): (AppendResult | MedgwError)[];
  /** Each move succeeds or is refused on its own (state, unknown id); all that succeed share one commit. */
  transitionBatch(moves: readonly BatchTransition[]): (OutboxRecord | MedgwError)[];
}

/** The same, committed elsewhere (the journal thread) and answered once committed. */
export interface AsyncBatchJournal {
  appendBatchAsync(items: readonly BatchAppend[]): Promise<(AppendResult | MedgwError)[]>;
  transitionBatchAsync(moves: readonly BatchTransition[]): Promise<(OutboxRecord | MedgwError)[]>;
}

function hasBatch(j: Journal): j is Journal & BatchJournal {
  return typeof (j as Partial<BatchJournal>).appendBatch === 'function';
}

function hasAsyncBatch(j: Journal): j is Journal & AsyncBatchJournal {
  return typeof (j as Partial<AsyncBatchJournal>).appendBatchAsync === 'function';
}

interface Waiting {
  readonly item: BatchAppend;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

interface WaitingMove {
  readonly move: BatchTransition;
  readonly resolve: (r: OutboxRecord) => void;
  readonly reject: (e: unknown) => void;
}

/** The device an append is for (its readings', else its cursor's): the unit of fair queuing. */
function sourceOf(item: BatchAppend): string {
  return item.readings[0]?.deviceId ?? item.cursor?.deviceId ?? '';
}

/** Appends waiting, one FIFO per device, taken in turn (round robin). */
class FairQueue {
  private readonly bySource = new Map<string, Waiting[]>();
  size = 0;

  push(w: Waiting): void {
    const key = sourceOf(w.item);
    const q = this.bySource.get(key);
    if (q) q.push(w);
    else this.bySource.set(key, [w]);
    this.size += 1;
  }

  /** Up to `max` appends, one per device in turn; a device keeps its own order. */
  take(max: number): Waiting[] {
    const out: Waiting[] = [];
    while (out.length < max && this.size > 0) {
      for (const [key, q] of this.bySource) {
        const w = q.shift();
        if (w) {
          out.push(w);
          this.size -= 1;
        }
        // re-inserted at the end: the next round starts with the devices served least recently
        this.bySource.delete(key);
        if (q.length > 0) this.bySource.set(key, q);
        if (out.length >= max) break;
      }
    }
    return out;
  }
}

export class GroupCommit {
  private readonly queue = new FairQueue();
  private moves: WaitingMove[] = [];
  private scheduled = false;
  /** Asynchronous journal: a round is being committed (its end starts the next one). */
  private busy = false;
  private idle: (() => void)[] = [];
  private batches = 0;
  private items = 0;
  private readonly appendedListeners = new Set<() => void>();

  /**
   * @param maxBatch appends that start a commit at once when they are waiting (synchronous journal)
   * @param maxRound appends in one round on the journal thread; the rest wait for the next round
   */
  constructor(
    private readonly journal: Journal,
    private readonly maxBatch = 256,
    private readonly maxRound = 2048,
  ) {}

  /** Queues an append; resolves once it is committed. */
  append(
    readings: readonly NewReading[],
    cursor?: { readonly deviceId: string; readonly value: number },
  ): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ item: { readings, cursor }, resolve, reject });
      if (this.queue.size >= this.maxBatch) void this.flush();
      else this.schedule();
    });
  }

  /**
   * Calls `listener` after each commit that stored at least one new reading (the forwarder wakes on
   * it instead of waiting for its poll). Returns the unsubscribe function.
   */
  onAppended(listener: () => void): () => void {
    this.appendedListeners.add(listener);
    return () => this.appendedListeners.delete(listener);
  }

  private appended(results: readonly (AppendResult | MedgwError)[]): void {
    if (!results.some((r) => !(r instanceof MedgwError) && r.accepted.length > 0)) return;
    for (const listener of this.appendedListeners) listener();
  }

  /** Queues a transition; resolves with the new record once it is committed (same rules as Journal.transition). */
  transition(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch?: Parameters<Journal['transition']>[3],
  ): Promise<OutboxRecord> {
    return new Promise<OutboxRecord>((resolve, reject) => {
      this.moves.push({ move: { id, from, to, ...(patch ? { patch } : {}) }, resolve, reject });
      if (this.moves.length >= this.maxBatch) void this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /**
   * Commits everything queued now; resolves once it is committed. A synchronous journal has
   * committed when this returns; an asynchronous one commits round after round until nothing waits.
   */
  flush(): Promise<void> {
    this.scheduled = false;
    const journal = this.journal;
    if (!hasAsyncBatch(journal)) {
      this.flushMoves();
      this.flushAppends();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.idle.push(resolve));
    this.pump(journal);
    return done;
  }

  /** Starts a round unless one is running; wakes the flushers once nothing is left. */
  private pump(journal: AsyncBatchJournal): void {
    if (this.busy) return;
    const moves = this.moves;
    const appends = this.queue.take(this.maxRound);
    this.moves = [];
    if (moves.length === 0 && appends.length === 0) {
      for (const wake of this.idle.splice(0)) wake();
      return;
    }
    this.busy = true;
    const round: Promise<void>[] = [];
    if (moves.length > 0) {
      round.push(
        journal.transitionBatchAsync(moves.map((w) => w.move)).then(
          (results) => this.settleMoves(moves, results),
          (e: unknown) => {
            for (const w of moves) w.reject(e);
          },
        ),
      );
    }
    if (appends.length > 0) {
      this.batches++;
      this.items += appends.length;
      round.push(
        journal.appendBatchAsync(appends.map((w) => w.item)).then(
          (results) => this.settleAppends(appends, results),
          (e: unknown) => this.oneByOne(journal, appends, e),
        ),
      );
    }
    void Promise.all(round).finally(() => {
      this.busy = false;
      this.pump(journal);
    });
  }

  private flushMoves(): void {
    const waiting = this.moves;
    this.moves = [];
    if (waiting.length === 0) return;
    let results: (OutboxRecord | MedgwError)[];
    try {
      if (hasBatch(this.journal)) {
        results = this.journal.transitionBatch(waiting.map((w) => w.move));
      } else {
        results = waiting.map(({ move }) => {
          try {
            return this.journal.transition(move.id, move.from, move.to, move.patch);
          } catch (e) {
            if (e instanceof MedgwError) return e;
            throw e;
          }
        });
      }
    } catch (e) {
      for (const w of waiting) w.reject(e);
      return;
    }
    this.settleMoves(waiting, results);
  }

  private flushAppends(): void {
    while (this.queue.size > 0) this.commitAppends(this.queue.take(this.maxRound));
  }

  private commitAppends(waiting: Waiting[]): void {
    if (waiting.length === 0) return;
    this.batches++;
    this.items += waiting.length;
    let results: (AppendResult | MedgwError)[];
    try {
      if (hasBatch(this.journal)) {
        results = this.journal.appendBatch(waiting.map((w) => w.item));
      } else {
        results = waiting.map((w) => {
          try {
            return this.journal.append(w.item.readings, w.item.cursor);
          } catch (e) {
            if (e instanceof MedgwError) return e;
            throw e;
          }
        });
      }
    } catch (e) {
      // a malformed item refuses the whole group before anything is written: retry one by one
      if (e instanceof MedgwError && waiting.length > 1) {
        const single: (AppendResult | MedgwError)[] = [];
        for (const w of waiting) {
          try {
            const r = this.journal.append(w.item.readings, w.item.cursor);
            single.push(r);
            w.resolve(r);
          } catch (err) {
            w.reject(err);
          }
        }
        this.appended(single);
        return;
      }
      for (const w of waiting) w.reject(e);
      return;
    }
    this.settleAppends(waiting, results);
  }

  /** The asynchronous twin of the one-by-one retry above. */
  private async oneByOne(journal: AsyncBatchJournal, waiting: readonly Waiting[], e: unknown): Promise<void> {
    if (!(e instanceof MedgwError) || waiting.length === 1) {
      for (const w of waiting) w.reject(e);
      return;
    }
    for (const w of waiting) {
      try {
        this.settleAppends([w], await journal.appendBatchAsync([w.item]));
      } catch (err) {
        w.reject(err);
      }
    }
  }

  private settleMoves(
    waiting: readonly WaitingMove[],
    results: readonly (OutboxRecord | MedgwError)[],
  ): void {
    waiting.forEach((w, i) => {
      const r = results[i];
      if (r instanceof MedgwError) w.reject(r);
      else if (r) w.resolve(r);
      else
        w.reject(
          new MedgwError('MEDGW_ERR_JOURNAL_INVALID', 'the journal returned no result for a transition'),
        );
    });
  }

  private settleAppends(waiting: readonly Waiting[], results: readonly (AppendResult | MedgwError)[]): void {
    waiting.forEach((w, i) => {
      const r = results[i];
      if (r instanceof MedgwError) w.reject(r);
      else if (r) w.resolve(r);
      else
        w.reject(new MedgwError('MEDGW_ERR_JOURNAL_INVALID', 'the journal returned no result for an append'));
    });
    this.appended(results);
  }

  /** Batches committed and appends they carried, for metrics and benchmarks. */
  counters(): { batches: number; items: number } {
    return { batches: this.batches, items: this.items };
  }
}
