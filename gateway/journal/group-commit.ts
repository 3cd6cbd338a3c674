/**
 * Group commit: many small appends arriving in the same tick (one MQTT message each, QoS 1) are
 * written in one transaction, so they share one fsync. Each caller's promise settles only after that
 * commit, with its own result or its own refusal (one full item does not refuse the others).
 */
import { MedgwError } from '../../drivers/errors.ts';
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

function hasBatch(j: Journal): j is Journal & BatchJournal {
  return typeof (j as Partial<BatchJournal>).appendBatch === 'function';
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

export class GroupCommit {
  private queue: Waiting[] = [];
  private moves: WaitingMove[] = [];
  private scheduled = false;
  private batches = 0;
  private items = 0;
  private readonly appendedListeners = new Set<() => void>();

  constructor(
    private readonly journal: Journal,
    private readonly maxBatch = 256,
  ) {}

  /** Queues an append; resolves once it is committed. */
  append(
    readings: readonly NewReading[],
    cursor?: { readonly deviceId: string; readonly value: number },
  ): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ item: { readings, cursor }, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
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
      if (this.moves.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits everything queued now. */
  flush(): void {
    this.scheduled = false;
    this.flushMoves();
    this.flushAppends();
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

  private flushAppends(): void {
    const waiting = this.queue;
    this.queue = [];
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
