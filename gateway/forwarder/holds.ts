/**
 * Holds and purge: records the outcome of each send as the catalogue's `outcome` for its code says
 * (kernel/errors.ts): delivered (the journal drops the values, the audit entry stays), dead letter,
 * held for the reading alone (hold-reading) or for the patient (hold-patient: every pending reading
 * of theirs waits, the link is marked, the pages are told), or retried later. Holds whose gate passes
 * again go back to pending; holds older than the grace period lose their values and keep an audit entry.
 */
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import type { SendOutcome } from '../../cloud-bridge/mes-client.ts';
import { type Catalogue, type ErrorCode, nationalOutcomeOf } from '../../kernel/errors.ts';
import type { OutboxRecord, OutboxState } from '../contracts.ts';
import type { ConsentGate, Refusal } from './consent-gate.ts';
import { type Ledger, settleAll } from './ledger.ts';
import type { ResolvedOptions } from './types.ts';

export type Hold = 'hold-reading' | 'hold-patient';

/**
 * The hold a code means, from the catalogue (`outcome`): hold-reading and hold-patient are the holds
 * the forwarder owns (it releases or purges them); the pipeline's holds are not touched.
 */
export function holdOf(code: string, catalogue: Catalogue): Hold | undefined {
  const outcome = nationalOutcomeOf(code, catalogue);
  return outcome === 'hold-reading' || outcome === 'hold-patient' ? outcome : undefined;
}

/** The event the pages get when a patient's readings are held for `code`. */
function patientHeldEvent(code: ErrorCode): 'consent-withdrawn' | 'idpe-mismatch' | 'reauth-required' {
  if (code === 'MEDGW_ERR_MES_CONSENT') return 'consent-withdrawn';
  if (code === 'MEDGW_ERR_MES_IDPE_MISMATCH') return 'idpe-mismatch';
  return 'reauth-required';
}

export class Holds {
  constructor(
    private readonly o: ResolvedOptions,
    private readonly ledger: Ledger,
    private readonly gate: ConsentGate,
  ) {}

  holdOf(code: string): Hold | undefined {
    return holdOf(code, this.o.catalogue);
  }

  /** Holds one reading the gate refused (no send). */
  async hold(id: string, from: OutboxState, refused: Refusal): Promise<void> {
    await this.ledger.move(id, from, 'held', { reason: refused });
    this.ledger.count('held', refused.code);
  }

  /** A reading whose kind is never sent to Mon espace santé: dead letter, counted, the pages told. */
  async neverSendable(r: OutboxRecord, from: OutboxState): Promise<void> {
    await this.ledger.move(r.id, from, 'dead-letter', {
      reason: {
        code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
        message: `${r.kind} readings are never sent to Mon espace santé`,
      },
    });
    this.ledger.count('deadLetter', 'MEDGW_ERR_BUNDLE_NOT_SENDABLE');
    this.ledger.emit({
      type: 'dead-letter',
      readingId: r.id,
      patientId: r.patientId,
      code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE',
    });
  }

  /** A reading whose values are gone (purged meanwhile): dead letter, nothing to send. */
  async noValuesLeft(id: string, from: OutboxState): Promise<void> {
    await this.ledger.move(id, from, 'dead-letter', {
      reason: { code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE', message: 'the reading has no values left to send' },
    });
  }

  /**
   * Records the outcome of a send: the state change and its audit entry are one journal transaction
   * (queued in the group commit); counters, log line and event follow the commit.
   */
  async settle(
    r: OutboxRecord,
    reading: Omit<BridgeReading, 'patient'>,
    patientId: string,
    outcome: SendOutcome,
  ): Promise<void> {
    switch (outcome.status) {
      case 'delivered':
        return this.#delivered(r, reading, patientId, outcome);
      case 'dead-letter':
        return this.#rejected(r, reading, patientId, outcome);
      case 'held':
        return this.#held(r, patientId, outcome);
      case 'retry':
        return this.#retry(r, outcome);
    }
  }

  /** Acknowledged: the journal drops the values; the audit entry says when and what, never the values. */
  async #delivered(
    r: OutboxRecord,
    reading: Omit<BridgeReading, 'patient'>,
    patientId: string,
    outcome: Extract<SendOutcome, { status: 'delivered' }>,
  ): Promise<void> {
    await this.ledger.move(r.id, 'in-flight', 'delivered', {
      remoteId: outcome.remoteId,
      audit: {
        event: 'mes.delivered',
        detail: {
          remoteId: outcome.remoteId,
          httpStatus: outcome.httpStatus,
          measuredAt: reading.observation.time.utc ?? null,
          // what measuredAt is (a reception time when the device gave none: docs/clinical-mapping.md, Time)
          timeQuality: reading.observation.time.quality,
          receivedAt: r.createdAt,
          attempts: r.attempts,
          status: 'delivered',
        },
      },
    });
    this.ledger.count('delivered');
    this.o.log.info({ readingId: r.id, kind: r.kind, remoteId: outcome.remoteId }, 'reading delivered');
    this.ledger.emit({ type: 'delivered', readingId: r.id, patientId, remoteId: outcome.remoteId });
  }

  /** Refused for good by the national side: dead letter with its code and (shortened) message. */
  async #rejected(
    r: OutboxRecord,
    reading: Omit<BridgeReading, 'patient'>,
    patientId: string,
    outcome: Extract<SendOutcome, { status: 'dead-letter' }>,
  ): Promise<void> {
    await this.ledger.move(r.id, 'in-flight', 'dead-letter', {
      reason: { code: outcome.code, message: outcome.message },
      audit: {
        event: 'mes.rejected',
        detail: {
          code: outcome.code,
          httpStatus: outcome.httpStatus ?? null,
          national: outcome.nationalMessage?.slice(0, 300) ?? null,
          measuredAt: reading.observation.time.utc ?? null,
          status: 'dead-letter',
        },
      },
    });
    this.ledger.count('deadLetter', outcome.code);
    this.o.log.warn(
      { readingId: r.id, kind: r.kind, code: outcome.code, httpStatus: outcome.httpStatus },
      'reading rejected',
    );
    this.ledger.emit({ type: 'dead-letter', readingId: r.id, patientId, code: outcome.code });
  }

  /** Held: the catalogue says whether the answer concerns the patient (all their readings wait) or this reading. */
  async #held(
    r: OutboxRecord,
    patientId: string,
    outcome: Extract<SendOutcome, { status: 'held' }>,
  ): Promise<void> {
    await this.ledger.move(r.id, 'in-flight', 'held', {
      reason: { code: outcome.code, message: outcome.message },
    });
    this.ledger.count('held', outcome.code);
    if (this.holdOf(outcome.code) !== 'hold-reading') {
      await this.holdPatient(patientId, outcome.code, outcome.message, outcome.httpStatus);
    }
  }

  /** Back to pending until `retryAt` (the measurements client's backoff). */
  async #retry(r: OutboxRecord, outcome: Extract<SendOutcome, { status: 'retry' }>): Promise<void> {
    await this.ledger.move(r.id, 'in-flight', 'pending', {
      reason: { code: outcome.code, message: outcome.message },
      nextAttemptAt: outcome.retryAt,
    });
    this.ledger.count('retry', outcome.code);
    this.o.log.warn(
      { readingId: r.id, code: outcome.code, httpStatus: outcome.httpStatus, retryAt: outcome.retryAt },
      'reading will be retried',
    );
  }

  /** A patient-level refusal: mark the link, hold the patient's other pending readings, tell the pages. */
  async holdPatient(patientId: string, code: ErrorCode, message: string, httpStatus?: number): Promise<void> {
    const { journal, links, log } = this.o;
    if (code === 'MEDGW_ERR_MES_CONSENT' && links.get(patientId)?.status === 'linked') {
      await links.update(patientId, { status: 'consent-withdrawn' });
    }
    // one transaction for all of them; one taken by a sender meanwhile is refused alone (it gets its own answer)
    const moves = await Promise.allSettled(
      journal
        .list({ state: 'pending', patientId })
        .map((other) => this.ledger.move(other.id, 'pending', 'held', { reason: { code, message } })),
    );
    const held = 1 + moves.filter((m) => m.status === 'fulfilled').length;
    journal.audit({
      event: 'mes.patient-held',
      patientId,
      detail: { code, httpStatus: httpStatus ?? null, held },
    });
    log.warn({ code, held }, 'readings of a patient held');
    this.ledger.emit({ type: patientHeldEvent(code), patientId, held, code });
  }

  /** Holds of ours whose gate now passes (patient linked again, kind chosen again) go back to pending. */
  async release(): Promise<void> {
    const released: Promise<OutboxRecord>[] = [];
    for (const r of this.o.journal.list({ state: 'held' })) {
      if (!r.reason || !this.holdOf(r.reason.code) || !r.observation) continue;
      if (!this.gate.lifts(r)) continue;
      released.push(this.ledger.move(r.id, 'held', 'pending'));
    }
    await settleAll(released);
  }

  /** Holds of ours older than the grace period: values purged, dead letter, one audit entry each. */
  async purgeExpired(): Promise<void> {
    const { journal, clock, heldGraceMs } = this.o;
    const now = clock.now();
    const moves: { r: OutboxRecord; done: Promise<OutboxRecord> }[] = [];
    for (const r of journal.list({ state: 'held' })) {
      if (!r.reason || !this.holdOf(r.reason.code)) continue;
      if (now - r.updatedAt < heldGraceMs) continue;
      const done = this.ledger.move(r.id, 'held', 'dead-letter', {
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
      this.o.log.info({ count }, 'held readings purged after the grace period');
      this.ledger.emit({ type: 'held-purged', ...(patientId ? { patientId } : {}), count });
    }
  }
}
