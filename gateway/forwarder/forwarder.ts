/**
 * The forwarder: takes due readings from the journal outbox and hands them to the cloud-bridge, one
 * transaction Bundle each, behind a consent gate per patient and per kind. Every outcome is a journal
 * transition plus an audit entry (never a value): delivered (values purged), dead letter with the
 * national code, held for consent (the patient's other readings held too, an event for the pages),
 * retried later with backoff. Held readings past the grace period are purged and audited. A reading
 * left `in-flight` by a crash is settled by searching the national side before it is sent again.
 *
 * This class is the facade the gateway and the tests use; the rules live in four parts:
 * - scheduling.ts: the poll, kick() and wake(), the senders and their concurrency, the refill of
 *   due readings (per-patient order and leases come from the journal: Journal.due / Journal.claim);
 * - consent-gate.ts: whether a patient's reading of a kind may leave (link present, not revoked, kind
 *   chosen), and whether a hold is lifted;
 * - holds.ts: each send's outcome as the catalogue's `outcome` says (hold the reading or the patient,
 *   dead letter, retry), delivered readings purged with their audit entry kept, expired holds purged;
 * - recovery.ts: readings that may have arrived (a crash, a claimant whose lease ran out) are searched
 *   for before any new POST, and no POST starts near the end of this instance's lease.
 * Journal moves, counters and events go through ledger.ts.
 *
 * Over a journal shared by several instances (Journal.claim: PostgreSQL) readings are claimed with a
 * lease instead of read with due(): no two instances take the same reading, a patient's readings
 * leave one instance at a time, and a reading whose claimant died comes back once its lease runs
 * out, flagged uncertain, so the same search-before-resend rule applies whoever claims it next.
 *
 * Cost per reading: the state change and its audit entry are one transaction, and every move goes
 * through a group commit, so the claims of a few due readings share one commit and the settles of
 * concurrent sends share theirs.
 */
import { EventEmitter } from 'node:events';
import type { SendOutcome } from '../../cloud-bridge/mes-client.ts';
import { KIND_PROFILES } from '../../cloud-bridge/profiles.ts';
import { ERROR_CATALOGUE, isMedgwError } from '../../kernel/errors.ts';
import type { Component, OutboxRecord } from '../contracts.ts';
import { GroupCommit } from '../journal/group-commit.ts';
import { ConsentGate } from './consent-gate.ts';
import { Holds } from './holds.ts';
import { Ledger } from './ledger.ts';
import { Recovery } from './recovery.ts';
import { Scheduler } from './scheduling.ts';
import type { ForwarderOptions, ForwarderStats, Log, ResolvedOptions } from './types.ts';

export type {
  ForwarderEvent,
  ForwarderOptions,
  ForwarderStats,
  LinkSource,
  ReadingSender,
  TransitionCommitter,
} from './types.ts';

const silent: Log = { info() {}, warn() {}, error() {} };

export class Forwarder extends EventEmitter implements Component {
  readonly name = 'forwarder';
  readonly #o: ResolvedOptions;
  readonly #ledger: Ledger;
  readonly #gate: ConsentGate;
  readonly #holds: Holds;
  readonly #recovery: Recovery;
  readonly #scheduler: Scheduler;

  constructor(options: ForwarderOptions) {
    super();
    const pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#o = {
      pollIntervalMs,
      batchSize: 20,
      concurrency: 4,
      heldGraceMs: 7 * 24 * 3600_000,
      leaseMs: 120_000,
      sendWindowMs: 20_000,
      catalogue: ERROR_CATALOGUE,
      ...options,
      maxPollIntervalMs: Math.max(options.maxPollIntervalMs ?? 0, pollIntervalMs),
      commits: options.commits ?? new GroupCommit(options.journal),
      log: options.log ?? silent,
    };
    this.#ledger = new Ledger(this.#o, (e) => this.emit('event', e));
    this.#gate = new ConsentGate(this.#o.links);
    this.#holds = new Holds(this.#o, this.#ledger, this.#gate);
    this.#recovery = new Recovery(this.#o, this.#ledger, this.#holds);
    this.#scheduler = new Scheduler(this.#o, {
      housekeep: () => this.#housekeep(),
      ready: () => this.#recovery.settled,
      admit: (r) => this.#admit(r),
      claimed: (r, uncertain, leaseEnd) => this.#claimed(r, uncertain, leaseEnd),
      forward: (r) => this.#forward(r),
      done: (id) => this.#recovery.forget(id),
      unclaim: (id) => this.#ledger.move(id, 'in-flight', 'pending'),
    });
  }

  start(): Promise<void> {
    return this.#scheduler.start();
  }

  stop(): Promise<void> {
    return this.#scheduler.stop();
  }

  /**
   * Asks for a full pass soon: holds released when the gate now passes (a patient linked again, a kind
   * chosen again), then due readings sent. The pages and the pairing call it.
   */
  kick(): void {
    this.#scheduler.kick();
  }

  /**
   * Sends due readings now, without the housekeeping of a full pass: called after every journal commit
   * that stored new readings, so delivery does not wait for the poll (which stays as a safety net).
   */
  wake(): void {
    this.#scheduler.wake();
  }

  /** One full pass: settle crash leftovers, purge expired holds, release holds, send everything due. */
  tick(): Promise<void> {
    return this.#scheduler.tick();
  }

  /** Figures for /metrics and the status page: outcomes by code, last delivery per patient. */
  stats(): ForwarderStats {
    return this.#ledger.stats();
  }

  /** Settles crash leftovers once, purges expired holds, releases holds the gate now passes. */
  async #housekeep(): Promise<void> {
    await this.#recovery.settleLeftovers();
    await this.#holds.purgeExpired();
    await this.#holds.release();
  }

  /**
   * Moves a due reading: in flight when it may be sent (returns the claimed record), else held by the
   * gate or dead-lettered when it can never be sent (returns undefined once committed).
   */
  async #admit(r: OutboxRecord): Promise<OutboxRecord | undefined> {
    if (!KIND_PROFILES[r.kind]) {
      await this.#holds.neverSendable(r, 'pending');
      return undefined;
    }
    const refused = this.#gate.refusal(r.patientId, r.kind);
    if (refused) {
      await this.#holds.hold(r.id, 'pending', refused);
      return undefined;
    }
    if (!r.observation) {
      await this.#holds.noValuesLeft(r.id, 'pending');
      return undefined;
    }
    return this.#ledger.move(r.id, 'pending', 'in-flight');
  }

  /**
   * A reading claimed under this instance's lease (shared journal): a kind never sent is dead-lettered
   * here (the returned commit); the consent gate runs in #forward, as for any in-flight reading.
   */
  #claimed(r: OutboxRecord, uncertain: boolean, leaseEnd: number): Promise<void> | undefined {
    this.#recovery.claimed(r.id, uncertain, leaseEnd);
    return KIND_PROFILES[r.kind] ? undefined : this.#holds.neverSendable(r, 'in-flight');
  }

  /**
   * Sends one claimed (in-flight) reading and classifies the answer. Returns the settle commit, or
   * undefined when the gate closed since the claim (the hold is committed).
   */
  async #forward(flying: OutboxRecord): Promise<{ readonly settled: Promise<void> } | undefined> {
    const reading = this.#ledger.reading(flying);
    if (!reading) {
      await this.#holds.noValuesLeft(flying.id, 'in-flight');
      return undefined;
    }
    const refused = this.#gate.refusal(flying.patientId, flying.kind);
    if (refused) {
      // the patient was held (or unlinked) while this reading waited for a sender: not sent
      await this.#holds.hold(flying.id, 'in-flight', refused);
      return undefined;
    }
    const patientId = flying.patientId as string;
    let outcome: SendOutcome;
    const searchFirst = this.#recovery.searchFirst(flying);
    try {
      const known = searchFirst ? await this.#o.sender.findDelivered(patientId, reading) : undefined;
      if (!known && this.#recovery.leaseTooShort(flying.id)) {
        // Too little of the lease is left for a whole send: the POST could land after another
        // instance took the reading over and searched. Leave it in flight: when the lease ends, the
        // next claimant (this instance or another) searches before sending.
        this.#o.log.warn({ readingId: flying.id }, 'claim too close to its lease end: not sent now');
        return undefined;
      }
      outcome = known
        ? { status: 'delivered', remoteId: known, httpStatus: 200 }
        : await this.#o.sender.send(patientId, reading, flying.attempts);
    } catch (e) {
      outcome = this.#failed(e, searchFirst);
    }
    if (outcome.status === 'retry') this.#scheduler.retried(flying.id);
    return { settled: this.#holds.settle(flying, reading, patientId, outcome) };
  }

  /** The outcome of a search or send that threw instead of answering. */
  #failed(e: unknown, searched: boolean): SendOutcome {
    const message = e instanceof Error ? e.message : String(e);
    // The search itself was refused for the patient (consent, link): hold, as a POST would.
    if (isMedgwError(e) && this.#holds.holdOf(e.code) === 'hold-patient') {
      return { status: 'held', code: e.code, message };
    }
    // A failed search keeps the uncertainty: the next attempt searches again.
    return {
      status: 'retry',
      code: searched ? 'MEDGW_ERR_MES_NO_ANSWER' : isMedgwError(e) ? e.code : 'MEDGW_ERR_MES_PROTOCOL',
      message,
      retryAt: this.#o.clock.now() + 60_000,
    };
  }
}
