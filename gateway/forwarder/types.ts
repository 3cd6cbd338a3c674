/**
 * What the parts of the forwarder share: the clients it drives (ReadingSender, LinkSource), what it
 * tells the pages (ForwarderEvent), its counters (ForwarderStats) and its options.
 */
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import type { SendOutcome } from '../../cloud-bridge/mes-client.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import type { Catalogue, ErrorCode } from '../../kernel/errors.ts';
import type { Clock, Journal, Registry } from '../contracts.ts';
import type { GroupCommit } from '../journal/group-commit.ts';

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
      readonly code: ErrorCode;
    }
  | {
      readonly type: 'consent-withdrawn' | 'reauth-required' | 'idpe-mismatch';
      readonly patientId: string;
      readonly held: number;
      readonly code: ErrorCode;
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

export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the forwarder needs of a group commit: queue a journal transition, resolve once committed. */
export type TransitionCommitter = Pick<GroupCommit, 'transition'>;

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

/** The options with their defaults filled in, as every part reads them. */
export type ResolvedOptions = Required<
  Omit<ForwarderOptions, 'registry' | 'log' | 'commits' | 'maxPollIntervalMs'>
> &
  Pick<ForwarderOptions, 'registry'> & { log: Log; commits: TransitionCommitter; maxPollIntervalMs: number };
