/**
 * The forwarder: takes due readings from the journal outbox and hands them to the cloud-bridge, one
 * transaction Bundle each, behind a consent gate per patient and per kind. Every outcome is a journal
 * transition plus an audit entry (never a value): delivered (values purged), dead letter with the
 * national code, held for consent (the patient's other readings held too, an event for the pages),
 * retried later with backoff. Held readings past the grace period are purged and audited. A reading
 * left `in-flight` by a crash is settled by searching the national side before it is sent again.
 */
import { EventEmitter } from 'node:events';
import type { BridgeDeviceIdentity, BridgeReading } from '../../cloud-bridge/bundle.ts';
import type { SendOutcome } from '../../cloud-bridge/mes-client.ts';
import { KIND_PROFILES } from '../../cloud-bridge/profiles.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { type ErrorCode, isMedgwError } from '../../drivers/errors.ts';
import type { Clock, Component, Journal, OutboxRecord, Registry } from '../contracts.ts';

/** The part of the measurements client the forwarder uses (cloud-bridge MesClient). */
export interface ReadingSender {
  send(patientId: string, reading: Omit<BridgeReading, 'patient'>, attempt?: number): Promise<SendOutcome>;
  findDelivered(patientId: string, reading: Omit<BridgeReading, 'patient'>): Promise<string | undefined>;
}

/** The part of the token store the forwarder reads and marks (cloud-bridge TokenStore). */
export interface LinkSource {
  get(patientId: string): PatientLink | undefined;
  update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): PatientLink;
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
  readonly batchSize?: number;
  /** Readings sent at the same time. */
  readonly concurrency?: number;
  /** How long readings held for consent are kept before their values are purged. */
  readonly heldGraceMs?: number;
}

/** Hold reasons the forwarder owns (and may release or purge); the pipeline's holds are not touched. */
const CONSENT_HOLDS: ReadonlySet<string> = new Set<ErrorCode>([
  'MEDGW_ERR_MES_CONSENT',
  'MEDGW_ERR_CONSENT_LOCAL',
  'MEDGW_ERR_REAUTH_REQUIRED',
  'MEDGW_ERR_NOT_LINKED',
  'MEDGW_ERR_MES_IDPE_MISMATCH',
  'MEDGW_ERR_MES_UNAUTHORIZED',
]);

/** Refusals that concern the patient rather than the reading. */
const PATIENT_HOLDS: ReadonlySet<string> = new Set<ErrorCode>([
  'MEDGW_ERR_MES_CONSENT',
  'MEDGW_ERR_MES_IDPE_MISMATCH',
  'MEDGW_ERR_REAUTH_REQUIRED',
  'MEDGW_ERR_NOT_LINKED',
]);

const silent: Log = { info() {}, warn() {}, error() {} };

export class Forwarder extends EventEmitter implements Component {
  readonly name = 'forwarder';
  readonly #o: Required<Omit<ForwarderOptions, 'registry' | 'log'>> &
    Pick<ForwarderOptions, 'registry'> & { log: Log };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #recovered = false;
  #stopped = true;
  #again = false;
  readonly #stats: ForwarderStats = { delivered: 0, deadLetter: {}, held: {}, retry: {}, lastDeliveryAt: {} };

  constructor(options: ForwarderOptions) {
    super();
    this.#o = {
      pollIntervalMs: 1000,
      batchSize: 20,
      concurrency: 4,
      heldGraceMs: 7 * 24 * 3600_000,
      ...options,
      log: options.log ?? silent,
    };
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.tick();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Asks for a pass soon (the pipeline calls it after committing readings). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#loop(), 0);
    this.#timer.unref();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#loop(), this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  async #loop(): Promise<void> {
    try {
      await this.tick();
    } catch (e) {
      this.#o.log.error(
        { code: isMedgwError(e) ? e.code : undefined, err: String(e) },
        'forwarder pass failed',
      );
    }
    this.#schedule();
  }

  /** One pass: settle crash leftovers, purge expired holds, release holds the gate now passes, send what is due. */
  tick(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = (async () => {
      do {
        this.#again = false;
        if (!this.#recovered) this.#recovered = await this.#recover();
        this.#purgeExpiredHolds();
        this.#releaseHolds();
        const due = this.#o.journal.due(this.#o.clock.now(), this.#o.batchSize);
        await this.#pool(due, (r) => this.#forward(r));
        if (due.length === this.#o.batchSize) this.#again = true;
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pool(records: OutboxRecord[], work: (r: OutboxRecord) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < records.length) {
        const r = records[next++];
        if (r) await work(r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, records.length) }, worker));
  }

  #reading(r: OutboxRecord): Omit<BridgeReading, 'patient'> | undefined {
    if (!r.observation) return undefined;
    const identity = this.#o.registry?.getDevice(r.deviceId)?.identity as BridgeDeviceIdentity | undefined;
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

  async #forward(r: OutboxRecord): Promise<void> {
    const { journal, clock } = this.#o;
    if (!KIND_PROFILES[r.kind]) {
      journal.transition(r.id, 'pending', 'dead-letter', {
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
      return;
    }
    const refused = this.#gate(r.patientId, r);
    if (refused) {
      journal.transition(r.id, 'pending', 'held', { reason: refused });
      this.#count('held', refused.code);
      return;
    }
    const patientId = r.patientId as string;
    const reading = this.#reading(r);
    if (!reading) {
      journal.transition(r.id, 'pending', 'dead-letter', {
        reason: { code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE', message: 'the reading has no values left to send' },
      });
      return;
    }
    const flying = journal.transition(r.id, 'pending', 'in-flight');
    let outcome: SendOutcome;
    try {
      // The last attempt got no answer: it may have arrived, so look before sending again.
      const known =
        r.reason?.code === 'MEDGW_ERR_MES_NO_ANSWER'
          ? await this.#o.sender.findDelivered(patientId, reading)
          : undefined;
      outcome = known
        ? { status: 'delivered', remoteId: known, httpStatus: 200 }
        : await this.#o.sender.send(patientId, reading, flying.attempts);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (isMedgwError(e) && PATIENT_HOLDS.has(e.code)) {
        // The search itself was refused for the patient (consent, link): hold, as a POST would.
        outcome = { status: 'held', code: e.code, message };
      } else {
        // A failed search keeps the uncertainty: the next attempt searches again.
        const uncertain = r.reason?.code === 'MEDGW_ERR_MES_NO_ANSWER';
        outcome = {
          status: 'retry',
          code: uncertain ? 'MEDGW_ERR_MES_NO_ANSWER' : isMedgwError(e) ? e.code : 'MEDGW_ERR_MES_PROTOCOL',
          message,
          retryAt: clock.now() + 60_000,
        };
      }
    }
    this.#settle(flying, reading, patientId, outcome);
  }

  #settle(
    r: OutboxRecord,
    reading: Omit<BridgeReading, 'patient'>,
    patientId: string,
    outcome: SendOutcome,
  ): void {
    const { journal, log } = this.#o;
    const base = { readingId: r.id, deviceId: r.deviceId, patientId, kind: r.kind };
    const measuredAt = reading.observation.time.utc ?? null;
    switch (outcome.status) {
      case 'delivered': {
        journal.transition(r.id, 'in-flight', 'delivered', { remoteId: outcome.remoteId });
        this.#count('delivered');
        journal.audit({
          ...base,
          event: 'mes.delivered',
          detail: {
            remoteId: outcome.remoteId,
            httpStatus: outcome.httpStatus,
            measuredAt,
            receivedAt: r.createdAt,
            attempts: r.attempts,
            status: 'delivered',
          },
        });
        log.info({ readingId: r.id, kind: r.kind, remoteId: outcome.remoteId }, 'reading delivered');
        this.#emit({ type: 'delivered', readingId: r.id, patientId, remoteId: outcome.remoteId });
        return;
      }
      case 'dead-letter': {
        journal.transition(r.id, 'in-flight', 'dead-letter', {
          reason: { code: outcome.code, message: outcome.message },
        });
        this.#count('deadLetter', outcome.code);
        journal.audit({
          ...base,
          event: 'mes.rejected',
          detail: {
            code: outcome.code,
            httpStatus: outcome.httpStatus ?? null,
            national: outcome.nationalMessage?.slice(0, 300) ?? null,
            measuredAt,
            status: 'dead-letter',
          },
        });
        log.warn(
          { readingId: r.id, kind: r.kind, code: outcome.code, httpStatus: outcome.httpStatus },
          'reading rejected',
        );
        this.#emit({ type: 'dead-letter', readingId: r.id, patientId, code: outcome.code });
        return;
      }
      case 'held': {
        journal.transition(r.id, 'in-flight', 'held', {
          reason: { code: outcome.code, message: outcome.message },
        });
        this.#count('held', outcome.code);
        this.#holdPatient(patientId, outcome.code, outcome.message, outcome.httpStatus);
        return;
      }
      case 'retry': {
        journal.transition(r.id, 'in-flight', 'pending', {
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
  #holdPatient(patientId: string, code: ErrorCode, message: string, httpStatus?: number): void {
    const { journal, links, log } = this.#o;
    if (code === 'MEDGW_ERR_MES_CONSENT' && links.get(patientId)?.status === 'linked') {
      links.update(patientId, { status: 'consent-withdrawn' });
    }
    let held = 1;
    for (const other of journal.list({ state: 'pending', patientId })) {
      journal.transition(other.id, 'pending', 'held', { reason: { code, message } });
      held++;
    }
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
    this.#emit({ type, patientId, held });
  }

  /** Holds of ours whose gate now passes (patient linked again, kind chosen again) go back to pending. */
  #releaseHolds(): void {
    const { journal } = this.#o;
    for (const r of journal.list({ state: 'held' })) {
      if (!r.reason || !CONSENT_HOLDS.has(r.reason.code) || !r.observation) continue;
      if (this.#gate(r.patientId, r)) continue;
      const link = r.patientId ? this.#o.links.get(r.patientId) : undefined;
      // A national refusal is lifted only by a new link made after the hold.
      if (r.reason.code !== 'MEDGW_ERR_CONSENT_LOCAL' && r.reason.code !== 'MEDGW_ERR_NOT_LINKED') {
        if (!link || link.linkedAt <= r.updatedAt) continue;
      }
      journal.transition(r.id, 'held', 'pending');
    }
  }

  #purgeExpiredHolds(): void {
    const { journal, clock, heldGraceMs } = this.#o;
    const now = clock.now();
    const purged = new Map<string, number>();
    for (const r of journal.list({ state: 'held' })) {
      if (!r.reason || !CONSENT_HOLDS.has(r.reason.code)) continue;
      if (now - r.updatedAt < heldGraceMs) continue;
      journal.transition(r.id, 'held', 'dead-letter', {
        purge: true,
        reason: {
          code: 'MEDGW_ERR_HELD_EXPIRED',
          message: `held since ${new Date(r.updatedAt).toISOString()} (${r.reason.code})`,
        },
      });
      journal.audit({
        event: 'mes.held-purged',
        readingId: r.id,
        deviceId: r.deviceId,
        ...(r.patientId ? { patientId: r.patientId } : {}),
        kind: r.kind,
        detail: { heldCode: r.reason.code, heldSince: r.updatedAt, status: 'purged' },
      });
      const key = r.patientId ?? '';
      purged.set(key, (purged.get(key) ?? 0) + 1);
    }
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
        journal.transition(r.id, 'in-flight', 'pending');
        continue;
      }
      let remoteId: string | undefined;
      try {
        remoteId = await this.#o.sender.findDelivered(r.patientId, reading);
      } catch (e) {
        // Cannot tell now: the regular pass searches again before any new POST (MES_NO_ANSWER).
        const message = e instanceof Error ? e.message : String(e);
        journal.transition(r.id, 'in-flight', 'pending', {
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
        this.#settle(r, reading, r.patientId, { status: 'delivered', remoteId, httpStatus: 200 });
      } else {
        journal.transition(r.id, 'in-flight', 'pending');
        journal.audit({
          event: 'mes.resend-after-crash',
          readingId: r.id,
          deviceId: r.deviceId,
          patientId: r.patientId,
          kind: r.kind,
          detail: { searched: true },
        });
      }
    }
    return true;
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
