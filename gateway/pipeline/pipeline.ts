/**
 * The pipeline: what every transport hands its decoded readings to (ReadingSink). For each final
 * measurement: normalize (drivers) → correct time with the coincident timestamp → plausibility →
 * attribute to a patient → deterministic id → one journal append with the device cursor. It resolves
 * only once the journal has committed, so a transport acknowledges (MQTT PUBACK, RACP cursor) only
 * what is durable. Re-sent records collapse on their deterministic id; every outcome is counted and
 * audited by code, never with a measured value.
 */
import type { Logger } from 'pino';
import { isCgmSensorPoint } from '../../drivers/normalize/cgm-summary.ts';
import { normalize as driversNormalize, type NormalizeOptions } from '../../drivers/normalize/index.ts';
import { readingId as driversReadingId, type ReadingIdInput } from '../../drivers/reading-id.ts';
import type { Measurement, Observation, Quarantine } from '../../drivers/types.ts';
import { type ErrorCode, isErrorCode, isMedgwError } from '../../kernel/errors.ts';
import { systemTimeZone } from '../config/schema.ts';
import type {
  AppendResult,
  Clock,
  Component,
  DeviceRecord,
  Journal,
  NewReading,
  ReadingSink,
  Registry,
  Submission,
  SubmitResult,
} from '../contracts.ts';
import { GroupCommit } from '../journal/group-commit.ts';
import { RejectionAudit } from '../journal/rejection-audit.ts';
import { shortId } from '../log.ts';
import { attribute } from './attribution.ts';
import { bump, newCounters, type PipelineCounters } from './counters.ts';

/** What the pipeline needs of a group commit: queue an append, resolve once it is committed. */
export type Committer = Pick<GroupCommit, 'append' | 'counters'>;

export interface PipelineContext {
  readonly journal: Journal;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly log: Logger;
  /** Defaults to drivers/normalize; replaceable so a test can count or fail calls. */
  readonly normalize?: (m: Measurement, options: NormalizeOptions) => Observation[];
  readonly readingId?: (input: ReadingIdInput) => string;
  /** Largest group of appends committed in one transaction (default 256). */
  readonly maxBatch?: number;
  /** The gateway's shared group commit over the same journal (flushed when the journal stops). */
  readonly commits?: Committer;
  /**
   * IANA time zone of device clocks (config `timezone`): a correction reads each reading with the zone's
   * rules at its own date (drivers/normalize/time.ts). Default: the system time zone.
   */
  readonly timeZone?: string;
  /** Refusals of one device are audited as one entry per window of this length (default 10 s). */
  readonly rejectionWindowMs?: number;
}

/**
 * A result the transport must not acknowledge: nothing was stored, the device should send it again
 * (journal full, gateway stopping, journal closed or its thread lost).
 */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MEDGW_ERR_JOURNAL_FULL',
  'MEDGW_ERR_JOURNAL_OPEN',
  'MEDGW_ERR_PIPELINE_STOPPED',
]);

/** The reason of a CGM sensor value kept local (docs/clinical-mapping.md, Continuous glucose). */
const LOCAL_REASON = {
  code: 'MEDGW_ERR_CGM_POINT_LOCAL',
  message: 'a continuous glucose sensor value, kept on the gateway for the summaries of its period',
} as const;

/** Order of precedence when several reasons apply: what the device or its clock says first, then who. */
function firstQuarantine(...qs: (Quarantine | undefined)[]): Quarantine | undefined {
  return qs.find((q) => q !== undefined);
}

export class Pipeline implements ReadingSink, Component {
  readonly name = 'pipeline';
  readonly counters: PipelineCounters = newCounters();
  private stopped = false;
  private inflight = 0;
  private drained: (() => void) | undefined;
  private readonly log: Logger;
  private readonly commits: Committer;
  private readonly normalize: NonNullable<PipelineContext['normalize']>;
  private readonly readingId: NonNullable<PipelineContext['readingId']>;
  /** Refused inputs, audited asynchronously: one entry per device and window (never one per refusal). */
  readonly rejections: RejectionAudit;

  constructor(private readonly ctx: PipelineContext) {
    this.log = ctx.log.child({ component: 'pipeline' });
    this.rejections = new RejectionAudit({
      journal: ctx.journal,
      clock: ctx.clock,
      log: this.log,
      ...(ctx.rejectionWindowMs !== undefined ? { windowMs: ctx.rejectionWindowMs } : {}),
    });
    this.commits = ctx.commits ?? new GroupCommit(ctx.journal, ctx.maxBatch ?? 256);
    this.normalize = ctx.normalize ?? driversNormalize;
    this.readingId = ctx.readingId ?? driversReadingId;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  /** Refuses new submissions, then waits until those already accepted are committed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const previous = this.drained;
        this.drained = () => {
          previous?.();
          resolve();
        };
      });
    }
    await this.rejections.flush();
  }

  /** Batches committed and appends they carried. */
  commitCounters(): { batches: number; items: number } {
    return this.commits.counters();
  }

  async submit(submission: Submission): Promise<SubmitResult> {
    if (this.stopped) return this.reject(submission, 'MEDGW_ERR_PIPELINE_STOPPED', 'the gateway is stopping');
    this.inflight += 1;
    try {
      return await this.process(submission);
    } finally {
      this.inflight -= 1;
      if (this.inflight === 0 && this.drained) {
        this.drained();
        this.drained = undefined;
      }
    }
  }

  private async process(submission: Submission): Promise<SubmitResult> {
    const device = this.ctx.registry.getDevice(submission.deviceId);
    if (!device) {
      return this.reject(
        submission,
        'MEDGW_ERR_REGISTRY_UNKNOWN',
        `device ${submission.deviceId} is not in the registry; provision it with \`medgw devices add\``,
      );
    }
    const { readings, refused } = this.prepare(device, submission);
    const cursor =
      submission.cursor !== undefined ? { deviceId: device.id, value: submission.cursor } : undefined;
    const first = refused[0];
    // Every measurement refused and no cursor to carry: the submission as a whole is refused.
    if (first && readings.length === 0 && !cursor) {
      for (const r of refused.slice(1)) this.recordRefusal(submission, r.code);
      return this.reject(submission, first.code, first.message);
    }
    if (readings.length === 0 && !cursor) return { status: 'accepted', ids: [] };
    let result: AppendResult;
    try {
      result = await this.commits.append(readings, cursor);
    } catch (e) {
      if (isMedgwError(e)) return this.reject(submission, e.code, e.message);
      throw e;
    }
    // Refused measurements are final (they would fail the same way again): counted and audited, while
    // the others are stored and the cursor moves past them, so one bad record never blocks a sync.
    for (const r of refused) this.recordRefusal(submission, r.code);
    const outcome = this.account(device, readings, result);
    if (first && outcome.code === undefined) return { ...outcome, code: first.code, message: first.message };
    return outcome;
  }

  private recordRefusal(submission: Submission, code: ErrorCode): void {
    bump(this.counters.rejected, code);
    if (this.auditRejection(submission.deviceId, submission.transport, code, 1))
      this.log.warn({ device: shortId(submission.deviceId), code }, 'measurement refused');
  }

  private prepare(
    device: DeviceRecord,
    submission: Submission,
  ): { readings: NewReading[]; refused: { code: ErrorCode; message: string }[] } {
    const nowMs = this.ctx.clock.now();
    // Received now: the reception instant is kept beside the time the reading was taken.
    const options: NormalizeOptions = {
      nowMs,
      receivedMs: nowMs,
      timeZone: this.ctx.timeZone ?? systemTimeZone(),
      ...(submission.coincident ? { coincident: submission.coincident } : {}),
    };
    const out: NewReading[] = [];
    const refused: { code: ErrorCode; message: string }[] = [];
    const seen = new Set<string>();
    for (const sent of submission.measurements) {
      if (!sent.final) {
        this.counters.intermediate += 1;
        continue;
      }
      // Neither a record number nor a clock: the reception instant places the reading (drivers/reading-id.ts).
      const m: Measurement =
        sent.sequence === undefined && sent.deviceTime === undefined ? { ...sent, sequence: nowMs } : sent;
      const who = attribute(device, m.userIndex);
      let observations: Observation[];
      try {
        observations = this.normalize(m, options);
      } catch (e) {
        if (isMedgwError(e)) {
          refused.push({ code: e.code, message: e.message });
          continue;
        }
        // A fault in normalization is final for this input: refused loudly rather than retried forever.
        this.log.error({ device: shortId(device.id), err: e }, 'normalization failed');
        refused.push({
          code: 'MEDGW_ERR_PIPELINE_FAILED',
          message: `internal fault while normalizing: ${e instanceof Error ? e.message : String(e)}`,
        });
        continue;
      }
      for (const normalized of observations) {
        // A CGM's sensor value is kept local for the summaries, neither sent nor quarantined: whoever
        // the device belongs to now, the summaries go to its patient when they are made.
        const local = isCgmSensorPoint(m, normalized.quarantine);
        const quarantine = local
          ? undefined
          : firstQuarantine(normalized.quarantine, 'quarantine' in who ? who.quarantine : undefined);
        const { quarantine: _dropped, ...rest } = normalized;
        const observation: Observation = { ...rest, ...(quarantine ? { quarantine } : {}) };
        const id = this.readingId({
          ...(device.identity?.systemId ? { systemId: device.identity.systemId } : {}),
          deviceId: device.id,
          kind: observation.kind,
          measurement: m,
        });
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({
          id,
          deviceId: device.id,
          ...(who.patientId !== undefined ? { patientId: who.patientId } : {}),
          observation,
          ...(local
            ? { state: 'local' as const, reason: LOCAL_REASON }
            : {
                state: quarantine ? ('quarantined' as const) : ('pending' as const),
                ...(quarantine ? { reason: { code: quarantine.code, message: quarantine.reason } } : {}),
              }),
        });
      }
    }
    return { readings: out, refused };
  }

  /** Counts what was committed; the journal itself audited each stored reading and the duplicates. */
  private account(device: DeviceRecord, readings: NewReading[], result: AppendResult): SubmitResult {
    const accepted = new Set(result.accepted);
    let first: { code: ErrorCode; message: string } | undefined;
    for (const r of readings) {
      if (!accepted.has(r.id)) continue;
      if (r.state === 'quarantined' && r.reason) {
        bump(this.counters.quarantined, r.reason.code);
        // a quarantine reason is a catalogue code (drivers Quarantine.code), stored as text
        if (isErrorCode(r.reason.code)) first ??= { code: r.reason.code, message: r.reason.message };
      } else if (r.state === 'local') {
        this.counters.local += 1;
      } else {
        this.counters.accepted += 1;
      }
    }
    this.counters.duplicate += result.duplicates.length;
    this.log.debug(
      { device: shortId(device.id), accepted: result.accepted.length, duplicates: result.duplicates.length },
      'submission committed',
    );
    const ids = readings.map((r) => r.id);
    if (result.accepted.length === 0 && result.duplicates.length > 0) return { status: 'duplicate', ids };
    return { status: 'accepted', ids, ...(first ? { code: first.code, message: first.message } : {}) };
  }

  /** An input its transport could not decode (malformed payload or frame): counted and audited by code. */
  recordRejection(rejection: {
    deviceId: string;
    transport: 'ble' | 'mqtt';
    code: ErrorCode;
    message: string;
  }): void {
    bump(this.counters.rejected, rejection.code);
    if (this.auditRejection(rejection.deviceId, rejection.transport, rejection.code, 1))
      this.log.warn({ device: shortId(rejection.deviceId), code: rejection.code }, 'input rejected');
  }

  private reject(submission: Submission, code: ErrorCode, message: string): SubmitResult {
    bump(this.counters.rejected, code);
    // Retryable refusals stored nothing and the device sends again: no audit entry per attempt.
    const first =
      RETRYABLE_CODES.has(code) ||
      this.auditRejection(submission.deviceId, submission.transport, code, submission.measurements.length);
    if (first) this.log.warn({ device: shortId(submission.deviceId), code }, 'submission rejected');
    return { status: 'rejected', ids: [], code, message };
  }

  /**
   * Counted into this device's audit summary of the window (written asynchronously); true for its
   * first refusal of the window, the one worth a log line.
   */
  private auditRejection(deviceId: string, transport: string, code: ErrorCode, count: number): boolean {
    return this.rejections.record({ deviceId, transport, code, count });
  }
}
