/**
 * Crash recovery: a reading that may have reached the national side without its answer being recorded
 * is searched for before it is sent again. Two ways lead there: a crash of this gateway over its own
 * journal (readings left `in-flight`, settled once at start-up), and, over a journal shared by several
 * instances (Journal.claim, PostgreSQL), a claim whose previous claimant's lease ran out (`uncertain`).
 * Leases also bound this instance's own sends: no POST starts that could end after the lease.
 */
import { isMedgwError } from '../../kernel/errors.ts';
import type { OutboxRecord } from '../contracts.ts';
import type { Holds } from './holds.ts';
import type { Ledger } from './ledger.ts';
import type { ResolvedOptions } from './types.ts';

export class Recovery {
  /** Claimed readings whose previous claimant's lease ran out: searched for before any send. */
  readonly #uncertain = new Set<string>();
  /** When this instance's lease on a claimed reading ends (shared journal only). */
  readonly #leaseEnds = new Map<string, number>();
  #settled = false;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly ledger: Ledger,
    private readonly holds: Holds,
  ) {}

  /** Whether the crash leftovers are settled (senders wait for it). */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Settles crash leftovers once. Over a shared journal, in-flight readings may be other instances'
   * live claims: their leases decide (claim() returns the expired ones as uncertain).
   */
  async settleLeftovers(): Promise<void> {
    if (this.#settled) return;
    if (!this.o.journal.claim) await this.#recover();
    this.#settled = true;
  }

  /** A reading claimed under this instance's lease, until `leaseEnd`; `uncertain`: search before sending. */
  claimed(id: string, uncertain: boolean, leaseEnd: number): void {
    if (uncertain) this.#uncertain.add(id);
    this.#leaseEnds.set(id, leaseEnd);
  }

  /** The reading is settled (or given up) by this instance: its claim state is forgotten. */
  forget(id: string): void {
    this.#uncertain.delete(id);
    this.#leaseEnds.delete(id);
  }

  /**
   * Whether the reading may already be on the national side: its last attempt got no answer, or its
   * claimant died with it (lease ran out). Such a reading is searched for before any new POST.
   */
  searchFirst(r: OutboxRecord): boolean {
    return r.reason?.code === 'MEDGW_ERR_MES_NO_ANSWER' || this.#uncertain.has(r.id);
  }

  /** Whether less of this instance's lease on a claimed reading is left than a send may take. */
  leaseTooShort(id: string): boolean {
    const end = this.#leaseEnds.get(id);
    if (end === undefined) return false;
    const window = Math.min(this.o.sendWindowMs, this.o.leaseMs / 2);
    return this.o.clock.now() + window > end;
  }

  /** Readings left in flight by a crash: delivered if the national side has them, else sent again. */
  async #recover(): Promise<void> {
    const { journal, log } = this.o;
    const { ledger } = this;
    for (const r of journal.list({ state: 'in-flight' })) {
      const reading = ledger.reading(r);
      if (!reading || !r.patientId) {
        await ledger.move(r.id, 'in-flight', 'pending');
        continue;
      }
      let remoteId: string | undefined;
      try {
        remoteId = await this.o.sender.findDelivered(r.patientId, reading);
      } catch (e) {
        // Cannot tell now: the regular pass searches again before any new POST (MES_NO_ANSWER).
        const message = e instanceof Error ? e.message : String(e);
        await ledger.move(r.id, 'in-flight', 'pending', {
          reason: {
            code: 'MEDGW_ERR_MES_NO_ANSWER',
            message: `sent before a restart, not settled yet: ${message}`,
          },
          nextAttemptAt: this.o.clock.now() + 30_000,
        });
        log.warn(
          { readingId: r.id, code: isMedgwError(e) ? e.code : undefined },
          'in-flight reading not settled yet',
        );
        continue;
      }
      if (remoteId) {
        await this.holds.settle(r, reading, r.patientId, { status: 'delivered', remoteId, httpStatus: 200 });
      } else {
        await ledger.move(r.id, 'in-flight', 'pending', {
          audit: { event: 'mes.resend-after-crash', detail: { searched: true } },
        });
      }
    }
  }
}
