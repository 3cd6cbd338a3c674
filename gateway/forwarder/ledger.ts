/**
 * What every part of the forwarder writes through: journal moves (queued in the group commit, so
 * concurrent moves share one transaction), the counters operators read and the events the pages get.
 */
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import { type ErrorCode, isMedgwError } from '../../kernel/errors.ts';
import type { Journal, OutboxRecord, OutboxState } from '../contracts.ts';
import type { ForwarderEvent, ForwarderStats, ResolvedOptions } from './types.ts';

export type Counted = 'delivered' | 'deadLetter' | 'held' | 'retry';

export class Ledger {
  readonly #stats: ForwarderStats = { delivered: 0, deadLetter: {}, held: {}, retry: {}, lastDeliveryAt: {} };

  constructor(
    private readonly o: ResolvedOptions,
    private readonly tell: (e: ForwarderEvent) => void,
  ) {}

  /** A journal move through the group commit (shares its transaction with concurrent moves). */
  move(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch?: Parameters<Journal['transition']>[3],
  ): Promise<OutboxRecord> {
    return this.o.commits.transition(id, from, to, patch);
  }

  /** The reading as the measurements client sends it, or undefined when its values are gone. */
  reading(r: OutboxRecord): Omit<BridgeReading, 'patient'> | undefined {
    if (!r.observation) return undefined;
    const identity = this.o.registry?.getDevice(r.deviceId)?.identity;
    return {
      id: r.id,
      observation: r.observation,
      device: { id: r.deviceId, ...(identity ? { identity } : {}) },
    };
  }

  count(outcome: Counted, code?: ErrorCode): void {
    if (outcome === 'delivered') {
      this.#stats.delivered++;
      return;
    }
    const map = this.#stats[outcome];
    const key = code ?? 'unknown';
    map[key] = (map[key] ?? 0) + 1;
  }

  emit(e: ForwarderEvent): void {
    if (e.type === 'delivered') this.#stats.lastDeliveryAt[e.patientId] = this.o.clock.now();
    this.tell(e);
  }

  stats(): ForwarderStats {
    return structuredClone(this.#stats);
  }
}

/** Waits for every move; a move refused on its own (the reading moved meanwhile) is not an error here. */
export async function settleAll(moves: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(moves);
  for (const r of results) {
    if (r.status === 'rejected' && !(isMedgwError(r.reason) && r.reason.code === 'MEDGW_ERR_JOURNAL_STATE')) {
      throw r.reason;
    }
  }
}
