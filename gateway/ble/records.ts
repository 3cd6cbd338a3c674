/**
 * Records of one connection, from frames to commits: each notification or indication of a measurement
 * characteristic is decoded without normalization (the pipeline normalizes once), intermediate values
 * are counted, the definition's record filters drop what the device marks as "no reading" (with a code),
 * an assembler completes records spread over several characteristics (glucose context), and final
 * records are committed in arrival order, in batches, with the RACP cursor that covers them — so the
 * cursor only advances with committed records.
 */
import { decodeRecords, quirksOf } from '../../drivers/definitions/decode.ts';
import type { DriverDefinition } from '../../drivers/definitions/index.ts';
import { applyMeasurementQuirks } from '../../drivers/definitions/quirks.ts';
import type {
  DeviceProfile,
  ProfileSession,
  RecordAssembler,
  RecordFilter,
} from '../../drivers/profiles/index.ts';
import type { CoincidentTime, Measurement } from '../../drivers/types.ts';
import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { Clock, ReadingSink } from '../contracts.ts';
import type { Logger } from '../log.ts';
import { coincidentFor, type SessionTimes } from './time.ts';

export interface SessionCounters {
  /** Final readings handed to the pipeline and committed (new or collapsed duplicates). */
  committed: number;
  /** Intermediate values (cuff pressure while inflating, unstable weights): shown, never forwarded. */
  intermediate: number;
  /** Frames that could not be decoded (counted and audited by the pipeline with their code). */
  rejected: number;
  /**
   * Final records a device rule left out (a profile's or the definition's `filterRecord`: weight 0xFFFF
   * "Measurement Unsuccessful"…), counted and logged with their code, never forwarded.
   */
  dropped: number;
}

export interface RecordsOptions {
  readonly deviceId: string;
  readonly definition: DriverDefinition;
  readonly sink: ReadingSink;
  readonly clock: Clock;
  readonly log: Logger;
  /** The device clocks read on this connection (set by the clock step). */
  readonly times: () => SessionTimes;
  /** The pipeline refused readings: nothing more is taken from the device on this link. */
  readonly onRefusal: (e: MedgwError) => void;
}

/** A commit goes once this many readings wait, or after GATHER_MS without reaching it. */
const BATCH = 64;
const GATHER_MS = 10;

export class Records {
  readonly counters: SessionCounters = { committed: 0, intermediate: 0, rejected: 0, dropped: 0 };
  /** Highest RACP sequence number committed (the cursor); undefined until the first on a pairing session. */
  cursor: number | undefined;
  /** Whether commits carry the RACP cursor (stored records collected through the RACP). */
  carriesCursor = false;
  private readonly profile: DeviceProfile | undefined;
  private readonly measuring: ReadonlySet<string>;
  private readonly filters: readonly RecordFilter[];
  private readonly assembler: RecordAssembler | undefined;
  private readonly quirks: ReadonlySet<string>;
  /** Final readings received and not yet handed to the pipeline, in arrival order. */
  private ready: Measurement[] = [];
  private commits: Promise<void> = Promise.resolve();
  private commitQueued = false;
  private gather: NodeJS.Timeout | undefined;
  private failure: MedgwError | undefined;

  constructor(private readonly o: RecordsOptions) {
    const d = o.definition;
    this.profile = d.profiles[0];
    this.quirks = quirksOf(d);
    this.assembler = this.profile?.assembler?.();
    // Records come from the notified or indicated characteristics of the measurement profile and of the
    // blocks listed beside it (Body Composition 0x2A9C beside the weight), never from a companion (UDS,
    // CTS), a control point (RACP answers) or an assembler's companions.
    const recording = d.profiles.filter((p, i) => i === 0 || p.collect !== 'companion');
    const controlPoints = new Set(recording.flatMap((p) => p.write.map((c) => c.uuid)));
    const companions = new Set(this.assembler?.companions ?? []);
    this.measuring = new Set(
      recording
        .flatMap((p) => [...p.notify, ...p.indicate])
        .map((c) => c.uuid)
        .filter((u) => !controlPoints.has(u) && !companions.has(u)),
    );
    this.filters = [
      ...d.profiles.flatMap((p) => (p.filterRecord ? [p.filterRecord] : [])),
      ...(d.hooks?.filterRecord ? [d.hooks.filterRecord] : []),
    ];
  }

  /** Frames of records (measurements and their companions) received on this connection. */
  received = 0;
  /** What the measurement profile learned before collecting (CGM: E2E-CRC, session start). */
  session: ProfileSession | undefined;

  /** Why the pipeline refused readings on this link, if it did (journal full, gateway stopping). */
  get refusal(): MedgwError | undefined {
    return this.failure;
  }

  /** A notification or indication no request waited for. */
  frame(uuid: string, data: Buffer): void {
    try {
      if (this.assembler?.companions.includes(uuid)) {
        this.received += 1;
        const { ready, refused } = this.assembler.companion(uuid, data, this.quirks);
        this.accept(ready);
        if (refused) throw refused;
        return;
      }
      if (!this.measuring.has(uuid)) return;
      this.received += 1;
      this.take(this.decode(uuid, data));
    } catch (e) {
      this.reject(uuid, e);
    }
  }

  /**
   * Records a collector decoded itself (a vendor protocol whose answers carry no record number: the
   * collector numbers them with the index it asked for), filtered and committed like decoded frames.
   */
  take(ms: readonly Measurement[]): void {
    for (const m of ms) {
      if (!m.final) {
        this.counters.intermediate += 1;
        continue;
      }
      const drop = this.dropReason(m);
      if (drop) {
        this.counters.dropped += 1;
        this.o.log.info({ code: drop.code }, drop.message);
        continue;
      }
      this.accept(this.assembler ? this.assembler.record(m) : [m]);
    }
  }

  /** A frame a collector could not use: counted and reported to the pipeline with its code. */
  refuse(uuid: string, e: unknown): void {
    this.reject(uuid, e);
  }

  /** The transfer ended (RACP response): records waiting for a companion stand on their own. */
  endTransfer(): void {
    if (this.assembler) this.accept(this.assembler.end());
  }

  /** The link is down: incomplete records are dropped (the cursor does not cover them); the rest commit. */
  linkEnded(): void {
    this.assembler?.abandon();
    this.kick(true);
  }

  /** Waits until every reading received so far is committed; throws the pipeline's refusal. */
  async drain(): Promise<void> {
    for (;;) {
      this.kick(true);
      const pending = this.commits;
      await pending;
      if (pending === this.commits && this.ready.length === 0) break;
    }
    if (this.failure) throw this.failure;
  }

  private decode(uuid: string, data: Buffer): Measurement[] {
    const own = this.session?.decode;
    if (!own) return decodeRecords(this.o.definition, uuid, data);
    return own(uuid, data, this.quirks).map((m) => applyMeasurementQuirks(m, this.quirks));
  }

  private cursorOf(m: Measurement): number | undefined {
    return this.session?.cursorOf ? this.session.cursorOf(m) : m.sequence;
  }

  private dropReason(m: Measurement) {
    for (const f of this.filters) {
      const drop = f(m);
      if (drop) return drop;
    }
    return undefined;
  }

  private accept(ms: readonly Measurement[]): void {
    if (ms.length === 0) return;
    this.ready.push(...ms);
    this.kick();
  }

  private reject(uuid: string, e: unknown): void {
    const code = isMedgwError(e) ? e.code : 'MEDGW_ERR_BLE_ATT';
    const message = `0x${uuid}: ${(e as Error).message}`;
    this.counters.rejected += 1;
    this.o.log.warn({ code, characteristic: uuid }, 'frame rejected');
    this.o.sink.recordRejection?.({ deviceId: this.o.deviceId, transport: 'ble', code, message });
  }

  /** Queues one commit of everything ready (commits run one after another, in arrival order). */
  private kick(now = false): void {
    if (this.ready.length === 0 || this.failure) return;
    if (!now && this.ready.length < BATCH) {
      // Readings arriving close together share one commit (one fsync) instead of one each.
      this.gather ??= setTimeout(() => {
        this.gather = undefined;
        this.kick(true);
      }, GATHER_MS);
      return;
    }
    clearTimeout(this.gather);
    this.gather = undefined;
    if (this.commitQueued) return;
    this.commitQueued = true;
    this.commits = this.commits.then(async () => {
      this.commitQueued = false;
      const batch = this.ready.splice(0);
      if (batch.length > 0 && !this.failure) await this.commit(batch);
    });
  }

  private async commit(batch: Measurement[]): Promise<void> {
    const nowMs = this.o.clock.now();
    const times = this.o.times();
    // Consecutive readings that share a coincident timestamp go in one submission.
    const groups: Array<{ coincident: CoincidentTime | undefined; items: Measurement[] }> = [];
    for (const m of batch) {
      const coincident = coincidentFor(m, times, nowMs);
      const last = groups.at(-1);
      if (last && last.coincident === coincident) last.items.push(m);
      else groups.push({ coincident, items: [m] });
    }
    for (const g of groups) {
      let cursor: number | undefined;
      if (this.carriesCursor) {
        const seqs = g.items.map((m) => this.cursorOf(m)).filter((s): s is number => s !== undefined);
        if (seqs.length > 0) cursor = Math.max(this.cursor ?? Number.NEGATIVE_INFINITY, ...seqs);
      }
      try {
        const result = await this.o.sink.submit({
          deviceId: this.o.deviceId,
          transport: 'ble',
          measurements: g.items,
          ...(g.coincident ? { coincident: g.coincident } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        if (result.status === 'rejected') {
          this.refused(
            new MedgwError(
              result.code ?? 'MEDGW_ERR_BLE_ATT',
              result.message ?? 'the pipeline refused the readings',
            ),
            g.items.length,
          );
          return;
        }
      } catch (e) {
        this.refused(
          isMedgwError(e)
            ? e
            : new MedgwError('MEDGW_ERR_BLE_ATT', `committing readings failed: ${(e as Error).message}`),
          g.items.length,
        );
        return;
      }
      if (cursor !== undefined) this.cursor = cursor;
      this.counters.committed += g.items.length;
    }
  }

  /**
   * The pipeline refused readings (journal full, gateway stopping): nothing more is taken from the
   * device on this link — it is released, so readings not yet sent stay on the device, and records
   * after the cursor are fetched again at the next connection.
   */
  private refused(e: MedgwError, count: number): void {
    this.failure = e;
    this.o.log.error(
      { code: e.code, readings: count },
      'readings refused by the pipeline; releasing the link',
    );
    this.o.onRefusal(e);
  }
}
