/**
 * The forwarder: takes due readings from the journal outbox and hands them to the cloud-bridge, one
 * transaction Bundle each, behind a consent gate per patient and per kind. Every outcome is a journal
 * transition plus an audit entry (never a value): delivered (values purged), dead letter with the
 * national code, held for consent (the patient's other readings held too, an event for the pages),
 * retried later with backoff. Held readings past the grace period are purged and audited. A reading
 * left `in-flight` by a crash is settled by searching the national side before it is sent again.
 *
 * Over a journal shared by several instances (Journal.claim: PostgreSQL) readings are claimed with a
 * lease instead of read with due(): no two instances take the same reading, a patient's readings
 * leave one instance at a time, and a reading whose claimant died comes back once its lease runs
 * out, flagged uncertain, so the same search-before-resend rule applies whoever claims it next. The
 * start-up recovery then leaves in-flight readings alone (they may be another instance's live
 * claims). Wake-ups from other instances' commits (Journal.watch) start the senders early; the
 * poll, stretched while nothing is due (maxPollIntervalMs), stays the truth.
 *
 * Cost per reading: the state change and its audit entry are one transaction, and every move goes
 * through a group commit, so the claims of a few due readings share one commit and the settles of
 * concurrent sends share theirs. `wake()` (after each commit of new readings) starts the senders at
 * once; the poll stays as a safety net and runs the housekeeping (crash leftovers, holds).
 */
import { EventEmitter } from 'node:events';
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import type { SendOutcome } from '../../cloud-bridge/mes-client.ts';
import { KIND_PROFILES } from '../../cloud-bridge/profiles.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import {
  type Catalogue,
  ERROR_CATALOGUE,
  type ErrorCode,
  isMedgwError,
  nationalOutcomeOf,
} from '../../kernel/errors.ts';
import type { Clock, Component, Journal, OutboxRecord, OutboxState, Registry } from '../contracts.ts';
import { GroupCommit } from '../journal/group-commit.ts';

/** The part of the measurements client the forwarder uses (cloud-bridge MesClient). */
export interface ReadingSender {
  send(patientId: string, reading: Omit<BridgeReading, 'patient'>, attempt?: number): Promise<SendOutcome>;
  findDelivered(patientId: string, reading: Omit<BridgeReading, 'patient'>): Promise<string | undefined>;
}

/** The part of the token store the forwarder reads and marks (cloud-bridge TokenStore). */
export interface LinkSource {
  get(patientId: string): PatientLink | undefined;
  update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink>;
}

/** What the pages and the CLI are told about (server-sent events, notices to the provider). */
export type ForwarderEvent =
  | {
      readonly type: 'delivered';
      readonly readingId: string;
      readonly patientId: string;
      readonly remoteId: string;
    }
  | {
      readonly type: 'dead-letter';
      readonly readingId: string;
      readonly patientId?: string;
      readonly code: string;
    }
  | {
      readonly type: 'consent-withdrawn' | 'reauth-required' | 'idpe-mismatch';
      readonly patientId: string;
      readonly held: number;
      readonly code: string;
    }
  | { readonly type: 'held-purged'; readonly patientId?: string; readonly count: number };

/** Counters since start: what operators look at first. */
export interface ForwarderStats {
  delivered: number;
  /** Dead letters by code (national rejections and readings never sendable). */
  deadLetter: Record<string, number>;
  /** Readings held by code (consent, link, local choice). */
  held: Record<string, number>;
  /** Retries scheduled by code (national side unavailable, circuit open, no answer). */
  retry: Record<string, number>;
  /** Last successful delivery per patient, ms since the epoch. */
  lastDeliveryAt: Record<string, number>;
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ForwarderOptions {
  readonly journal: Journal;
  readonly sender: ReadingSender;
  readonly links: LinkSource;
  readonly registry?: Pick<Registry, 'getDevice'>;
  readonly clock: Clock;
  readonly log?: Log;
  /** How often the outbox is polled (real time). */
  readonly pollIntervalMs?: number;
  /**
   * Polls that find nothing to send stretch the interval, doubling up to this (default: no
   * stretching); a wake-up or a pass that sends brings it back to pollIntervalMs.
   */
  readonly maxPollIntervalMs?: number;
  /**
   * How long a claim on a shared journal lasts (Journal.claim): longer than any send takes, since
   * another instance takes over (searching first) a claim whose lease ran out. Default 2 minutes.
   */
  readonly leaseMs?: number;
  /**
   * With a lease: how long one send may take from its start (the measurements client's request timeout,
   * 15 s, and a margin). A claimed reading is POSTed only while at least this much of its lease is
   * left (or half the lease, when shorter): an instance that stalled after its claim (a long pause, a
   * frozen process) never starts a POST that could land after another instance took the reading over
   * and searched for it. Default 20 s.
   */
  readonly sendWindowMs?: number;
  readonly batchSize?: number;
  /** Readings sent at the same time. */
  readonly concurrency?: number;
  /** How long readings held for consent are kept before their values are purged. */
  readonly heldGraceMs?: number;
  /**
   * The gateway's group commit over the same journal: state moves of concurrent sends share one
   * transaction. Without it the forwarder keeps its own.
   */
  readonly commits?: TransitionCommitter;
  /** Which codes hold a reading or a patient (kernel/errors.ts `outcome`); default the catalogue itself. */
  readonly catalogue?: Catalogue;
}

const silent: Log = { info() {}, warn() {}, error() {} };

/** What the forwarder needs of a group commit: queue a journal transition, resolve once committed. */
export type TransitionCommitter = Pick<GroupCommit, 'transition'>;

export class Forwarder extends EventEmitter implements Component {
  readonly name = 'forwarder';
  readonly #o: Required<Omit<ForwarderOptions, 'registry' | 'log' | 'commits' | 'maxPollIntervalMs'>> &
    Pick<ForwarderOptions, 'registry'> & { log: Log; commits: TransitionCommitter };
  #timer: NodeJS.Timeout | undefined;
  #kickTimer: NodeJS.Immediate | undefined;
  #housekeeping: Promise<void> | undefined;
  #kickAgain = false;
  #recovered = false;
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
  #pollMs = 0;
  #maxPollMs = 0;
  #claimedSincePoll = false;
  /** Claimed readings whose previous claimant's lease ran out: searched for before any send. */
  readonly #uncertain = new Set<string>();
  /** When this instance's lease on a claimed reading ends (shared journal only). */
  readonly #leaseEnds = new Map<string, number>();
  /** Settle commits queued and not yet committed. */
  readonly #settling = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];
  readonly #stats: ForwarderStats = { delivered: 0, deadLetter: {}, held: {}, retry: {}, lastDeliveryAt: {} };

  constructor(options: ForwarderOptions) {
    super();
    this.#o = {
      pollIntervalMs: 1000,
      batchSize: 20,
      concurrency: 4,
      heldGraceMs: 7 * 24 * 3600_000,
      leaseMs: 120_000,
      sendWindowMs: 20_000,
      catalogue: ERROR_CATALOGUE,
      ...options,
      commits: options.commits ?? new GroupCommit(options.journal),
      log: options.log ?? silent,
    };
    this.#pollMs = this.#o.pollIntervalMs;
    this.#maxPollMs = Math.max(options.maxPollIntervalMs ?? 0, this.#o.pollIntervalMs);
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

  /** Claimed readings no sender took (stopping): back to pending, as they were never sent. */
  async #unclaim(): Promise<void> {
    const left = this.#queue;
    this.#queue = [];
    await settleAll(left.map((r) => this.#move(r.id, 'in-flight', 'pending')));
    for (const r of left) this.#claimed.delete(r.id);
  }

  /**
   * Asks for a full pass soon: holds released when the gate now passes (a patient linked again, a kind
   * chosen again), then due readings sent. The pages and the pairing call it.
   */
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

  /**
   * Sends due readings now, without the housekeeping of a full pass: called after every journal commit
   * that stored new readings, so delivery does not wait for the poll (which stays as a safety net).
   */
  wake(): void {
    if (this.#stopped || !this.#recovered) return;
    this.#pollMs = this.#o.pollIntervalMs;
    this.#pump();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#claimedSincePoll = false;
      void this.#pass().finally(() => {
        // nothing to send: wait longer before the next look (a wake-up shortens it again)
        this.#pollMs = this.#claimedSincePoll
          ? this.#o.pollIntervalMs
          : Math.min(this.#pollMs * 2, this.#maxPollMs);
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
      this.#o.log.error(
        { code: isMedgwError(e) ? e.code : undefined, err: String(e) },
        'forwarder pass failed',
      );
    }
  }

  /** Settles crash leftovers once, purges expired holds, releases holds the gate now passes. */
  #housekeep(): Promise<void> {
    this.#housekeeping ??= (async () => {
      do {
        this.#kickAgain = false;
        // over a shared journal, in-flight readings may be other instances' live claims: their
        // leases decide (claim() returns the expired ones as uncertain)
        if (!this.#recovered) this.#recovered = this.#o.journal.claim ? true : await this.#recover();
        await this.#purgeExpiredHolds();
        await this.#releaseHolds();
      } while (this.#kickAgain && !this.#stopped);
    })().finally(() => {
      this.#housekeeping = undefined;
    });
    return this.#housekeeping;
  }

  /** One full pass: settle crash leftovers, purge expired holds, release holds, send everything due. */
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

  /** Senders run while started, and during an explicit tick() (tests and tools run passes by hand). */
  #sending(): boolean {
    return !this.#stopped || this.#ticks > 0;
  }

  /** Starts senders, up to the concurrency; each stops when nothing is due. */
  #pump(): void {
    while (this.#sending() && this.#senders < this.#o.concurrency) {
      this.#senders++;
      void this.#sender();
    }
  }

  /**
   * Fetches due readings and moves them in one commit: the sendable ones in flight (queued for the
   * senders, at most two per sender so a crash leaves few to search), the others held or dead-lettered.
   * Concurrent callers share one refill.
   */
  #refill(): Promise<void> {
    if (this.#o.journal.claim) return this.#refillClaims(this.#o.journal.claim.bind(this.#o.journal));
    this.#refilling ??= (async () => {
      const window = Math.min(this.#o.batchSize, 2 * this.#o.concurrency);
      const limit = window + this.#claimed.size + this.#retried.size;
      const journal = this.#o.journal;
      const now = this.#o.clock.now();
      const rows = journal.dueAsync ? await journal.dueAsync(now, limit) : journal.due(now, limit);
      const due = rows.filter((r) => !this.#claimed.has(r.id) && !this.#retried.has(r.id)).slice(0, window);
      for (const r of due) this.#claimed.add(r.id);
      if (due.length > 0) this.#claimedSincePoll = true;
      const claims = await Promise.allSettled(due.map((r) => this.#claim(r)));
      claims.forEach((c, i) => {
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
          this.#o.log.error(
            {
              readingId: r.id,
              code: isMedgwError(c.reason) ? c.reason.code : undefined,
              err: String(c.reason),
            },
            'forwarding a reading failed',
          );
        }
      });
    })().finally(() => {
      this.#refilling = undefined;
    });
    return this.#refilling;
  }

  /**
   * The refill over a shared journal: readings claimed under this process's lease, already in
   * flight. A kind never sent is dead-lettered here; the consent gate runs in #forward, as for any
   * in-flight reading. Concurrent callers share one refill.
   */
  #refillClaims(claim: NonNullable<Journal['claim']>): Promise<void> {
    this.#refilling ??= (async () => {
      const window = Math.min(this.#o.batchSize, 2 * this.#o.concurrency);
      const now = this.#o.clock.now();
      const claimed = await claim(now, window, this.#o.leaseMs);
      if (claimed.length > 0) this.#claimedSincePoll = true;
      else {
        // nothing for this instance, yet readings are due (their patients are in flight on other
        // instances): keep looking at the short interval, they are free again soon
        const journal = this.#o.journal;
        const due = journal.dueAsync ? await journal.dueAsync(now, 1) : journal.due(now, 1);
        if (due.length > 0) this.#claimedSincePoll = true;
      }
      const dead: Promise<OutboxRecord>[] = [];
      for (const { record: r, uncertain } of claimed) {
        // this process's own claim whose lease ran out while its send is still running (a send
        // slower than forwarder.leaseMs): the running sender settles it, a second one would send it twice
        if (this.#claimed.has(r.id)) continue;
        if (uncertain) this.#uncertain.add(r.id);
        this.#leaseEnds.set(r.id, now + this.#o.leaseMs);
        if (!KIND_PROFILES[r.kind]) {
          const moved = this.#move(r.id, 'in-flight', 'dead-letter', {
            reason: {
              code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
              message: `${r.kind} readings are never sent to Mon espace santé`,
            },
          });
          dead.push(moved);
          void moved.then(
            () => {
              this.#count('deadLetter', 'MEDGW_ERR_BUNDLE_NOT_SENDABLE');
              this.#emit({
                type: 'dead-letter',
                readingId: r.id,
                patientId: r.patientId,
                code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
              });
            },
            () => undefined,
          );
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
        const current: OutboxRecord = r;
        let settled: Promise<void> | undefined;
        try {
          settled = (await this.#forward(current))?.settled;
        } catch (e) {
          this.#o.log.error(
            { readingId: current.id, code: isMedgwError(e) ? e.code : undefined, err: String(e) },
            'forwarding a reading failed',
          );
        }
        // the settle commit is shared with other senders' moves: the sender moves on without waiting
        const tracked: Promise<void> = (settled ?? Promise.resolve())
          .catch((e: unknown) => {
            this.#o.log.error(
              { readingId: current.id, code: isMedgwError(e) ? e.code : undefined, err: String(e) },
              'settling a reading failed',
            );
          })
          .finally(() => {
            this.#claimed.delete(current.id);
            this.#uncertain.delete(current.id);
            this.#leaseEnds.delete(current.id);
            this.#settling.delete(tracked);
            this.#checkIdle();
          });
        this.#settling.add(tracked);
      }
    } finally {
      this.#senders--;
      this.#checkIdle();
    }
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

  /** A journal move through the group commit (shares its transaction with concurrent moves). */
  #move(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch?: Parameters<Journal['transition']>[3],
  ): Promise<OutboxRecord> {
    return this.#o.commits.transition(id, from, to, patch);
  }

  #reading(r: OutboxRecord): Omit<BridgeReading, 'patient'> | undefined {
    if (!r.observation) return undefined;
    const identity = this.#o.registry?.getDevice(r.deviceId)?.identity;
    return {
      id: r.id,
      observation: r.observation,
      device: { id: r.deviceId, ...(identity ? { identity } : {}) },
    };
  }

  /** Why a patient's reading of this kind may not leave now, or undefined when it may. */
  #gate(patientId: string | undefined, r: OutboxRecord): { code: ErrorCode; message: string } | undefined {
    if (!patientId)
      return { code: 'MEDGW_ERR_NOT_LINKED', message: 'the reading is not attributed to a patient' };
    const link = this.#o.links.get(patientId);
    if (!link)
      return { code: 'MEDGW_ERR_NOT_LINKED', message: 'the patient is not linked with Mon espace santé' };
    if (link.status === 'reauth-required') {
      return { code: 'MEDGW_ERR_REAUTH_REQUIRED', message: 'the patient must link again' };
    }
    if (link.status === 'consent-withdrawn') {
      return { code: 'MEDGW_ERR_MES_CONSENT', message: 'the patient withdrew consent on Mon espace santé' };
    }
    const kind = KIND_PROFILES[r.kind]?.consentKind;
    const allowed = link.kinds ?? link.grantedKinds;
    if (kind && allowed && !allowed.includes(kind)) {
      return {
        code: 'MEDGW_ERR_CONSENT_LOCAL',
        message: `the patient did not choose to send ${kind} readings`,
      };
    }
    return undefined;
  }

  /**
   * Moves a due reading: in flight when it may be sent (returns the claimed record), else held by the
   * gate or dead-lettered when it can never be sent (returns undefined once committed).
   */
  async #claim(r: OutboxRecord): Promise<OutboxRecord | undefined> {
    if (!KIND_PROFILES[r.kind]) {
      await this.#move(r.id, 'pending', 'dead-letter', {
        reason: {
          code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
          message: `${r.kind} readings are never sent to Mon espace santé`,
        },
      });
      this.#count('deadLetter', 'MEDGW_ERR_BUNDLE_NOT_SENDABLE');
      this.#emit({
        type: 'dead-letter',
        readingId: r.id,
        patientId: r.patientId,
        code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
      });
      return undefined;
    }
    const refused = this.#gate(r.patientId, r);
    if (refused) {
      await this.#move(r.id, 'pending', 'held', { reason: refused });
      this.#count('held', refused.code);
      return undefined;
    }
    if (!r.observation) {
      await this.#move(r.id, 'pending', 'dead-letter', {
        reason: { code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE', message: 'the reading has no values left to send' },
      });
      return undefined;
    }
    return this.#move(r.id, 'pending', 'in-flight');
  }

  /**
   * Sends one claimed (in-flight) reading and classifies the answer. Returns the settle commit, or
   * undefined when the gate closed since the claim (the hold is committed).
   */
  async #forward(flying: OutboxRecord): Promise<{ readonly settled: Promise<void> } | undefined> {
    const { clock } = this.#o;
    const reading = this.#reading(flying);
    if (!reading) {
      await this.#move(flying.id, 'in-flight', 'dead-letter', {
        reason: { code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE', message: 'the reading has no values left to send' },
      });
      return undefined;
    }
    const refused = this.#gate(flying.patientId, flying);
    if (refused) {
      // the patient was held (or unlinked) while this reading waited for a sender: not sent
      await this.#move(flying.id, 'in-flight', 'held', { reason: refused });
      this.#count('held', refused.code);
      return undefined;
    }
    const patientId = flying.patientId as string;
    let outcome: SendOutcome;
    // The last attempt got no answer, or its claimant died with it (lease ran out): it may have
    // arrived, so look before sending again.
    const searchFirst = flying.reason?.code === 'MEDGW_ERR_MES_NO_ANSWER' || this.#uncertain.has(flying.id);
    try {
      const known = searchFirst ? await this.#o.sender.findDelivered(patientId, reading) : undefined;
      if (!known && this.#leaseTooShort(flying.id)) {
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
      const message = e instanceof Error ? e.message : String(e);
      if (isMedgwError(e) && this.#holds(e.code) === 'hold-patient') {
        // The search itself was refused for the patient (consent, link): hold, as a POST would.
        outcome = { status: 'held', code: e.code, message };
      } else {
        // A failed search keeps the uncertainty: the next attempt searches again.
        outcome = {
          status: 'retry',
          code: searchFirst ? 'MEDGW_ERR_MES_NO_ANSWER' : isMedgwError(e) ? e.code : 'MEDGW_ERR_MES_PROTOCOL',
          message,
          retryAt: clock.now() + 60_000,
        };
      }
    }
    return { settled: this.#settle(flying, reading, patientId, outcome) };
  }

  /** Whether less of this instance's lease on a claimed reading is left than a send may take. */
  #leaseTooShort(id: string): boolean {
    const end = this.#leaseEnds.get(id);
    if (end === undefined) return false;
    const window = Math.min(this.#o.sendWindowMs, this.#o.leaseMs / 2);
    return this.#o.clock.now() + window > end;
  }

  /**
   * Records the outcome of a send: the state change and its audit entry are one journal transaction
   * (queued in the group commit); counters, log line and event follow the commit.
   */
  async #settle(
    r: OutboxRecord,
    reading: Omit<BridgeReading, 'patient'>,
    patientId: string,
    outcome: SendOutcome,
  ): Promise<void> {
    const { log } = this.#o;
    const measuredAt = reading.observation.time.utc ?? null;
    switch (outcome.status) {
      case 'delivered': {
        await this.#move(r.id, 'in-flight', 'delivered', {
          remoteId: outcome.remoteId,
          audit: {
            event: 'mes.delivered',
            detail: {
              remoteId: outcome.remoteId,
              httpStatus: outcome.httpStatus,
              measuredAt,
              // what measuredAt is (a reception time when the device gave none: docs/clinical-mapping.md, Time)
              timeQuality: reading.observation.time.quality,
              receivedAt: r.createdAt,
              attempts: r.attempts,
              status: 'delivered',
            },
          },
        });
        this.#count('delivered');
        log.info({ readingId: r.id, kind: r.kind, remoteId: outcome.remoteId }, 'reading delivered');
        this.#emit({ type: 'delivered', readingId: r.id, patientId, remoteId: outcome.remoteId });
        return;
      }
      case 'dead-letter': {
        await this.#move(r.id, 'in-flight', 'dead-letter', {
          reason: { code: outcome.code, message: outcome.message },
          audit: {
            event: 'mes.rejected',
            detail: {
              code: outcome.code,
              httpStatus: outcome.httpStatus ?? null,
              national: outcome.nationalMessage?.slice(0, 300) ?? null,
              measuredAt,
              status: 'dead-letter',
            },
          },
        });
        this.#count('deadLetter', outcome.code);
        log.warn(
          { readingId: r.id, kind: r.kind, code: outcome.code, httpStatus: outcome.httpStatus },
          'reading rejected',
        );
        this.#emit({ type: 'dead-letter', readingId: r.id, patientId, code: outcome.code });
        return;
      }
      case 'held': {
        await this.#move(r.id, 'in-flight', 'held', {
          reason: { code: outcome.code, message: outcome.message },
        });
        this.#count('held', outcome.code);
        // the catalogue says whether the answer concerns the patient (all their readings wait) or this reading
        if (this.#holds(outcome.code) !== 'hold-reading') {
          await this.#holdPatient(patientId, outcome.code, outcome.message, outcome.httpStatus);
        }
        return;
      }
      case 'retry': {
        this.#retried.add(r.id);
        await this.#move(r.id, 'in-flight', 'pending', {
          reason: { code: outcome.code, message: outcome.message },
          nextAttemptAt: outcome.retryAt,
        });
        this.#count('retry', outcome.code);
        log.warn(
          { readingId: r.id, code: outcome.code, httpStatus: outcome.httpStatus, retryAt: outcome.retryAt },
          'reading will be retried',
        );
        return;
      }
    }
  }

  /** A patient-level refusal: mark the link, hold the patient's other pending readings, tell the pages. */
  async #holdPatient(
    patientId: string,
    code: ErrorCode,
    message: string,
    httpStatus?: number,
  ): Promise<void> {
    const { journal, links, log } = this.#o;
    if (code === 'MEDGW_ERR_MES_CONSENT' && links.get(patientId)?.status === 'linked') {
      await links.update(patientId, { status: 'consent-withdrawn' });
    }
    // one transaction for all of them; one taken by a sender meanwhile is refused alone (it gets its own answer)
    const moves = await Promise.allSettled(
      journal
        .list({ state: 'pending', patientId })
        .map((other) => this.#move(other.id, 'pending', 'held', { reason: { code, message } })),
    );
    const held = 1 + moves.filter((m) => m.status === 'fulfilled').length;
    journal.audit({
      event: 'mes.patient-held',
      patientId,
      detail: { code, httpStatus: httpStatus ?? null, held },
    });
    log.warn({ code, held }, 'readings of a patient held');
    const type =
      code === 'MEDGW_ERR_MES_CONSENT'
        ? 'consent-withdrawn'
        : code === 'MEDGW_ERR_MES_IDPE_MISMATCH'
          ? 'idpe-mismatch'
          : 'reauth-required';
    this.#emit({ type, patientId, held, code });
  }

  /** Holds of ours whose gate now passes (patient linked again, kind chosen again) go back to pending. */
  async #releaseHolds(): Promise<void> {
    const { journal } = this.#o;
    const released: Promise<OutboxRecord>[] = [];
    for (const r of journal.list({ state: 'held' })) {
      if (!r.reason || !this.#holds(r.reason.code) || !r.observation) continue;
      if (this.#gate(r.patientId, r)) continue;
      const link = r.patientId ? this.#o.links.get(r.patientId) : undefined;
      // A national refusal is lifted only by a new link made after the hold.
      if (r.reason.code !== 'MEDGW_ERR_CONSENT_LOCAL' && r.reason.code !== 'MEDGW_ERR_NOT_LINKED') {
        if (!link || link.linkedAt <= r.updatedAt) continue;
      }
      released.push(this.#move(r.id, 'held', 'pending'));
    }
    await settleAll(released);
  }

  async #purgeExpiredHolds(): Promise<void> {
    const { journal, clock, heldGraceMs } = this.#o;
    const now = clock.now();
    const moves: { r: OutboxRecord; done: Promise<OutboxRecord> }[] = [];
    for (const r of journal.list({ state: 'held' })) {
      if (!r.reason || !this.#holds(r.reason.code)) continue;
      if (now - r.updatedAt < heldGraceMs) continue;
      const done = this.#move(r.id, 'held', 'dead-letter', {
        purge: true,
        reason: {
          code: 'MEDGW_ERR_HELD_EXPIRED',
          message: `held since ${new Date(r.updatedAt).toISOString()} (${r.reason.code})`,
        },
        audit: {
          event: 'mes.held-purged',
          detail: { heldCode: r.reason.code, heldSince: r.updatedAt, status: 'purged' },
        },
      });
      moves.push({ r, done });
    }
    const purged = new Map<string, number>();
    const results = await Promise.allSettled(moves.map((m) => m.done));
    results.forEach((result, i) => {
      const r = moves[i]?.r;
      if (!r || result.status !== 'fulfilled') return;
      const key = r.patientId ?? '';
      purged.set(key, (purged.get(key) ?? 0) + 1);
    });
    await settleAll(moves.map((m) => m.done));
    for (const [patientId, count] of purged) {
      this.#o.log.info({ count }, 'held readings purged after the grace period');
      this.#emit({ type: 'held-purged', ...(patientId ? { patientId } : {}), count });
    }
  }

  /** Readings left in flight by a crash: delivered if the national side has them, else sent again. */
  async #recover(): Promise<boolean> {
    const { journal, log } = this.#o;
    for (const r of journal.list({ state: 'in-flight' })) {
      const reading = this.#reading(r);
      if (!reading || !r.patientId) {
        await this.#move(r.id, 'in-flight', 'pending');
        continue;
      }
      let remoteId: string | undefined;
      try {
        remoteId = await this.#o.sender.findDelivered(r.patientId, reading);
      } catch (e) {
        // Cannot tell now: the regular pass searches again before any new POST (MES_NO_ANSWER).
        const message = e instanceof Error ? e.message : String(e);
        await this.#move(r.id, 'in-flight', 'pending', {
          reason: {
            code: 'MEDGW_ERR_MES_NO_ANSWER',
            message: `sent before a restart, not settled yet: ${message}`,
          },
          nextAttemptAt: this.#o.clock.now() + 30_000,
        });
        log.warn(
          { readingId: r.id, code: isMedgwError(e) ? e.code : undefined },
          'in-flight reading not settled yet',
        );
        continue;
      }
      if (remoteId) {
        await this.#settle(r, reading, r.patientId, { status: 'delivered', remoteId, httpStatus: 200 });
      } else {
        await this.#move(r.id, 'in-flight', 'pending', {
          audit: { event: 'mes.resend-after-crash', detail: { searched: true } },
        });
      }
    }
    return true;
  }

  /**
   * The hold a code means, from the catalogue (`outcome`): hold-reading and hold-patient are the holds
   * the forwarder owns (it releases or purges them); the pipeline's holds are not touched.
   */
  #holds(code: string): 'hold-reading' | 'hold-patient' | undefined {
    const outcome = nationalOutcomeOf(code, this.#o.catalogue);
    return outcome === 'hold-reading' || outcome === 'hold-patient' ? outcome : undefined;
  }

  /** Figures for /metrics and the status page: outcomes by code, last delivery per patient. */
  stats(): ForwarderStats {
    return structuredClone(this.#stats);
  }

  #count(outcome: 'delivered' | 'deadLetter' | 'held' | 'retry', code?: string): void {
    if (outcome === 'delivered') {
      this.#stats.delivered++;
      return;
    }
    const map = this.#stats[outcome];
    const key = code ?? 'unknown';
    map[key] = (map[key] ?? 0) + 1;
  }

  #emit(e: ForwarderEvent): void {
    if (e.type === 'delivered') this.#stats.lastDeliveryAt[e.patientId] = this.#o.clock.now();
    this.emit('event', e);
  }
}

/** Waits for every move; a move refused on its own (the reading moved meanwhile) is not an error here. */
async function settleAll(moves: readonly Promise<OutboxRecord>[]): Promise<void> {
  const results = await Promise.allSettled(moves);
  for (const r of results) {
    if (r.status === 'rejected' && !(isMedgwError(r.reason) && r.reason.code === 'MEDGW_ERR_JOURNAL_STATE')) {
      throw r.reason;
    }
  }
}
