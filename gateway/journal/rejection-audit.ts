/**
 * Refused inputs (a payload that does not decode, a reading refused for good, a message over the
 * device's rate limit) are audited asynchronously and aggregated: one `reading.rejected` entry per
 * device per window, with the count, the codes and the first and last time, written off the
 * caller's path (on the journal thread when there is one). A device sending garbage as fast as it
 * can costs one map update per message and one audit row per window, never a journal call per
 * message. The rows are counted against journal.maxAuditEntries (refused beyond it: the counters
 * still hold the figures, and one coded line says so).
 */
import { type ErrorCode, MedgwError } from '../../kernel/errors.ts';
import type { AuditEntry, Clock, Journal } from '../contracts.ts';
import type { Logger } from '../log.ts';
import type { AuditInput } from './thread-protocol.ts';

/** How long refusals of one device are gathered into one audit entry (default). */
export const REJECTION_WINDOW_MS = 10_000;

/** The journal's ways of writing several audit entries at once (threaded, then synchronous). */
interface AuditWriter {
  auditBatchAsync?(entries: readonly AuditInput[]): Promise<(AuditEntry | MedgwError)[]>;
  auditBatch?(entries: readonly AuditInput[]): (AuditEntry | MedgwError)[];
}

export interface RejectionAuditOptions {
  readonly journal: Journal;
  readonly clock: Clock;
  readonly log: Logger;
  readonly windowMs?: number;
}

interface Gathered {
  readonly transport: string;
  count: number;
  readonly codes: Map<string, number>;
  readonly first: number;
  last: number;
}

export interface RejectionAuditCounters {
  /** Refusals recorded since start. */
  recorded: number;
  /** Audit entries written (each one device and one window). */
  written: number;
  /** Summaries the journal refused (audit log full, journal closed): their counts stay in `recorded`. */
  refused: number;
}

export class RejectionAudit {
  readonly counters: RejectionAuditCounters = { recorded: 0, written: 0, refused: 0 };
  private pending = new Map<string, Gathered>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastAlarm = Number.NEGATIVE_INFINITY;
  private readonly windowMs: number;

  constructor(private readonly options: RejectionAuditOptions) {
    this.windowMs = options.windowMs ?? REJECTION_WINDOW_MS;
  }

  /**
   * Counts one refused input (or `count` of them), written with the others of its window. True for
   * the first of this device in the window: the caller logs that one, not every refusal of a flood.
   */
  record(r: { deviceId: string; transport: string; code: ErrorCode; count?: number }): boolean {
    const n = r.count ?? 1;
    this.counters.recorded += n;
    const now = this.options.clock.now();
    let g = this.pending.get(r.deviceId);
    const isFirst = g === undefined;
    if (!g) {
      g = { transport: r.transport, count: 0, codes: new Map(), first: now, last: now };
      this.pending.set(r.deviceId, g);
    }
    g.count += n;
    g.last = now;
    g.codes.set(r.code, (g.codes.get(r.code) ?? 0) + n);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.windowMs);
      this.timer.unref();
    }
    return isFirst;
  }

  /** Writes what was gathered so far; resolves once it is committed (or refused and counted). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const gathered = this.pending;
    this.pending = new Map();
    if (gathered.size > 0) {
      const entries = [...gathered].map(([deviceId, g]) => summary(deviceId, g));
      this.writing = this.writing.then(() => this.write(entries));
    }
    return this.writing;
  }

  private async write(entries: AuditInput[]): Promise<void> {
    const journal = this.options.journal as Journal & AuditWriter;
    let results: (AuditEntry | MedgwError)[];
    try {
      if (journal.auditBatchAsync) results = await journal.auditBatchAsync(entries);
      else if (journal.auditBatch) results = journal.auditBatch(entries);
      else results = entries.map((e) => journal.audit(e));
    } catch (e) {
      const refusal =
        e instanceof MedgwError
          ? e
          : new MedgwError('MEDGW_ERR_INTERNAL', String((e as Error)?.message ?? e));
      results = entries.map(() => refusal);
    }
    const refused = results.filter((r): r is MedgwError => r instanceof MedgwError);
    this.counters.written += results.length - refused.length;
    this.counters.refused += refused.length;
    const first = refused[0];
    if (first) {
      const now = this.options.clock.now();
      if (now - this.lastAlarm >= 60_000) {
        this.lastAlarm = now;
        this.options.log.error(
          { code: first.code, limit: first.details?.limit, summaries: refused.length },
          'summaries of refused inputs not written to the audit log (the counters keep them)',
        );
      }
    }
  }
}

/** One audit entry: the device, how many refusals, by code (`CODE=n,…`, most frequent first), when. */
function summary(deviceId: string, g: Gathered): AuditInput {
  const codes = [...g.codes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    event: 'reading.rejected',
    deviceId,
    detail: {
      transport: g.transport,
      count: g.count,
      code: codes[0]?.[0] ?? null,
      codes: codes.map(([c, n]) => `${c}=${n}`).join(','),
      first: g.first,
      last: g.last,
    },
  };
}
