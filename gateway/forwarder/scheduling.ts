/**
 * Scheduling: when the forwarder looks at the outbox and how many readings it sends at once. A poll
 * (stretched while nothing is due, up to maxPollIntervalMs) stays the truth; kick() asks for a full
 * pass soon (housekeeping first), wake() starts the senders at once after a commit of new readings.
 * Up to `concurrency` senders take claimed readings from one queue, refilled at most two per sender
 * so a crash leaves few to search. Over a local journal due readings are moved in flight here; over
 * a shared one (Journal.claim) they are claimed under a lease, a patient's readings leaving one
 * instance at a time. A reading retried during a drain is not taken twice in the same drain (backoff
 * is its nextAttemptAt, set by the measurements client).
 */
import { isMedgwError } from '../../kernel/errors.ts';
import type { Journal, OutboxRecord } from '../contracts.ts';
import { settleAll } from './ledger.ts';
import type { ResolvedOptions } from './types.ts';

/** What the scheduler has done to a reading, by the parts that know the rules. */
export interface ReadingWork {
  /** One round of housekeeping (crash leftovers, expired holds, released holds). */
  housekeep(): Promise<void>;
  /** Whether wake-ups may start senders (crash leftovers settled). */
  ready(): boolean;
  /** A due reading of a local journal: moved in flight (returned) or held / dead-lettered (undefined). */
  admit(r: OutboxRecord): Promise<OutboxRecord | undefined>;
  /**
   * A reading claimed under this instance's lease: undefined when it may be queued, else the commit
   * that dead-letters it (a kind never sent).
   */
  claimed(r: OutboxRecord, uncertain: boolean, leaseEnd: number): Promise<void> | undefined;
  /** Sends one in-flight reading; resolves once sent, with the commit of its outcome. */
  forward(r: OutboxRecord): Promise<{ readonly settled: Promise<void> } | undefined>;
  /** The reading is settled or given up: forget what was kept about it. */
  done(id: string): void;
  /** A claimed reading no sender took (stopping): back to pending. */
  unclaim(id: string): Promise<unknown>;
}

export class Scheduler {
  #timer: NodeJS.Timeout | undefined;
  #kickTimer: NodeJS.Immediate | undefined;
  #housekeeping: Promise<void> | undefined;
  #kickAgain = false;
  #stopped = true;
  /** Readings claimed (in flight) and not yet taken by a sender. */
  #queue: OutboxRecord[] = [];
  /** Readings taken by this forwarder and not yet settled (claiming, queued, sending, settling). */
  readonly #claimed = new Set<string>();
  /** Readings sent back to pending during the current drain: never taken twice in one drain. */
  readonly #retried = new Set<string>();
  #senders = 0;
  #refilling: Promise<void> | undefined;
  #ticks = 0;
  /** The poll interval now (stretched while passes find nothing), and whether this pass claimed any. */
  #pollMs: number;
  #claimedSincePoll = false;
  /** Settle commits queued and not yet committed. */
  readonly #settling = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly o: ResolvedOptions,
    private readonly work: ReadingWork,
  ) {
    this.#pollMs = o.pollIntervalMs;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.tick();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#kickTimer) clearImmediate(this.#kickTimer);
    this.#timer = undefined;
    this.#kickTimer = undefined;
    await this.#housekeeping;
    await this.#idle();
    await this.#unclaim();
  }

  /** See Forwarder.kick(). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#housekeeping) {
      this.#kickAgain = true;
      return;
    }
    if (this.#kickTimer) return;
    this.#kickTimer = setImmediate(() => {
      this.#kickTimer = undefined;
      void this.#pass();
    });
  }

  /** See Forwarder.wake(). */
  wake(): void {
    if (this.#stopped || !this.work.ready()) return;
    this.#pollMs = this.o.pollIntervalMs;
    this.#pump();
  }

  /** One full pass: housekeeping, then everything due sent and settled. */
  async tick(): Promise<void> {
    this.#ticks++;
    try {
      await this.#housekeep();
      this.#pump();
      await this.#idle();
    } finally {
      this.#ticks--;
    }
  }

  /** A reading sent back to pending in this drain: not taken again before the drain ends. */
  retried(id: string): void {
    this.#retried.add(id);
  }

  /** Claimed readings no sender took (stopping): back to pending, as they were never sent. */
  async #unclaim(): Promise<void> {
    const left = this.#queue;
    this.#queue = [];
    await settleAll(left.map((r) => this.work.unclaim(r.id)));
    for (const r of left) this.#claimed.delete(r.id);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#claimedSincePoll = false;
      void this.#pass().finally(() => {
        // nothing to send: wait longer before the next look (a wake-up shortens it again)
        this.#pollMs = this.#claimedSincePoll
          ? this.o.pollIntervalMs
          : Math.min(this.#pollMs * 2, this.o.maxPollIntervalMs);
        this.#schedule();
      });
    }, this.#pollMs);
    this.#timer.unref();
  }

  /** Housekeeping, then senders started on what is due; does not wait for the sends. */
  async #pass(): Promise<void> {
    try {
      await this.#housekeep();
      this.#pump();
    } catch (e) {
      this.o.log.error(
        { code: isMedgwError(e) ? e.code : undefined, err: String(e) },
        'forwarder pass failed',
      );
    }
  }

  /** Housekeeping rounds until no kick came in during one; concurrent callers share them. */
  #housekeep(): Promise<void> {
    this.#housekeeping ??= (async () => {
      do {
        this.#kickAgain = false;
        await this.work.housekeep();
      } while (this.#kickAgain && !this.#stopped);
    })().finally(() => {
      this.#housekeeping = undefined;
    });
    return this.#housekeeping;
  }

  /** Senders run while started, and during an explicit tick() (tests and tools run passes by hand). */
  #sending(): boolean {
    return !this.#stopped || this.#ticks > 0;
  }

  /** Starts senders, up to the concurrency; each stops when nothing is due. */
  #pump(): void {
    while (this.#sending() && this.#senders < this.o.concurrency) {
      this.#senders++;
      void this.#sender();
    }
  }

  /** How many readings one refill takes: at most two per sender, so a crash leaves few to search. */
  #window(): number {
    return Math.min(this.o.batchSize, 2 * this.o.concurrency);
  }

  /**
   * Fetches due readings and moves them in one commit: the sendable ones in flight (queued for the
   * senders), the others held or dead-lettered. Concurrent callers share one refill.
   */
  #refill(): Promise<void> {
    const { journal } = this.o;
    if (journal.claim) return this.#refillClaims(journal.claim.bind(journal));
    this.#refilling ??= this.#refillDue().finally(() => {
      this.#refilling = undefined;
    });
    return this.#refilling;
  }

  async #refillDue(): Promise<void> {
    const window = this.#window();
    const limit = window + this.#claimed.size + this.#retried.size;
    const { journal } = this.o;
    const now = this.o.clock.now();
    const rows = journal.dueAsync ? await journal.dueAsync(now, limit) : journal.due(now, limit);
    const due = rows.filter((r) => !this.#claimed.has(r.id) && !this.#retried.has(r.id)).slice(0, window);
    for (const r of due) this.#claimed.add(r.id);
    if (due.length > 0) this.#claimedSincePoll = true;
    const admitted = await Promise.allSettled(due.map((r) => this.work.admit(r)));
    admitted.forEach((c, i) => {
      const r = due[i];
      if (!r) return;
      if (c.status === 'fulfilled' && c.value) {
        this.#queue.push(c.value);
        return;
      }
      this.#claimed.delete(r.id);
      if (
        c.status === 'rejected' &&
        !(isMedgwError(c.reason) && c.reason.code === 'MEDGW_ERR_JOURNAL_STATE')
      ) {
        this.o.log.error(
          {
            readingId: r.id,
            code: isMedgwError(c.reason) ? c.reason.code : undefined,
            err: String(c.reason),
          },
          'forwarding a reading failed',
        );
      }
    });
  }

  /**
   * The refill over a shared journal: readings claimed under this process's lease, already in
   * flight. Concurrent callers share one refill.
   */
  #refillClaims(claim: NonNullable<Journal['claim']>): Promise<void> {
    this.#refilling ??= (async () => {
      const now = this.o.clock.now();
      const claimed = await claim(now, this.#window(), this.o.leaseMs);
      if (claimed.length > 0) this.#claimedSincePoll = true;
      else if (await this.#dueElsewhere(now)) this.#claimedSincePoll = true;
      const dead: Promise<void>[] = [];
      for (const { record: r, uncertain } of claimed) {
        // this process's own claim whose lease ran out while its send is still running (a send
        // slower than forwarder.leaseMs): the running sender settles it, a second one would send it twice
        if (this.#claimed.has(r.id)) continue;
        const refused = this.work.claimed(r, uncertain, now + this.o.leaseMs);
        if (refused) {
          dead.push(refused);
          continue;
        }
        this.#claimed.add(r.id);
        this.#queue.push(r);
      }
      await settleAll(dead);
    })().finally(() => {
      this.#refilling = undefined;
    });
    return this.#refilling;
  }

  /**
   * Nothing for this instance, yet readings are due (their patients are in flight on other
   * instances): keep looking at the short interval, they are free again soon.
   */
  async #dueElsewhere(now: number): Promise<boolean> {
    const { journal } = this.o;
    const due = journal.dueAsync ? await journal.dueAsync(now, 1) : journal.due(now, 1);
    return due.length > 0;
  }

  /** One sender: sends claimed readings one after another, refilling while any is due. */
  async #sender(): Promise<void> {
    try {
      while (this.#sending()) {
        let r = this.#queue.shift();
        if (!r) {
          await this.#refill();
          r = this.#queue.shift();
          if (!r) break;
        }
        this.#track(r, (await this.#send(r))?.settled);
      }
    } finally {
      this.#senders--;
      this.#checkIdle();
    }
  }

  /** Sends one reading; a failure is logged, the sender goes on with the next. */
  async #send(r: OutboxRecord): Promise<{ readonly settled: Promise<void> } | undefined> {
    try {
      return await this.work.forward(r);
    } catch (e) {
      this.o.log.error(
        { readingId: r.id, code: isMedgwError(e) ? e.code : undefined, err: String(e) },
        'forwarding a reading failed',
      );
      return undefined;
    }
  }

  /** The settle commit is shared with other senders' moves: the sender moves on without waiting. */
  #track(r: OutboxRecord, settled: Promise<void> | undefined): void {
    const tracked: Promise<void> = (settled ?? Promise.resolve())
      .catch((e: unknown) => {
        this.o.log.error(
          { readingId: r.id, code: isMedgwError(e) ? e.code : undefined, err: String(e) },
          'settling a reading failed',
        );
      })
      .finally(() => {
        this.#claimed.delete(r.id);
        this.work.done(r.id);
        this.#settling.delete(tracked);
        this.#checkIdle();
      });
    this.#settling.add(tracked);
  }

  #idle(): Promise<void> {
    if (this.#senders === 0 && this.#settling.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #checkIdle(): void {
    if (this.#senders !== 0 || this.#settling.size !== 0) return;
    // a drain is over: readings retried during it may be taken again by the next one
    this.#retried.clear();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
