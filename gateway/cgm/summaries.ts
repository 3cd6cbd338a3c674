/**
 * Continuous glucose summaries from the journal: each closed period of each CGM becomes its two records
 * (MED-969 mean glucose, MED-972 GMI; drivers/normalize/cgm-summary.ts), appended to the outbox as
 * ready-to-send readings for the device's patient. The forwarder sends them like any reading.
 *
 * - The points are the device's sensor values the pipeline kept local (journal state `local`, reason
 *   MEDGW_ERR_CGM_POINT_LOCAL), read back from the journal. A journal written before that state existed
 *   holds them quarantined as MEDGW_ERR_GLUCOSE_INTERSTITIAL (with the record's CGM Time Offset): those
 *   are read too, and purged the same way (discarded: values dropped, the row and its audit kept), so
 *   an upgrade loses no summary and needs no migration of rows.
 * - Periods are consecutive and do not overlap: `cgm.summaryDays` civil days in the gateway's zone
 *   (`timezone`), ending at a midnight whose day number since 1970-01-01 is a multiple of the days, so every
 *   instance and every restart cuts the same periods. A period is closed once the device has a point at or
 *   after its end (it was read past it), or `cgm.closeAfterHours` after its end: a summary is never made
 *   from a period the gateway has not finished collecting. Every closed period that still has points is
 *   summarized (a gateway that was off for a month catches up).
 * - Sent once: the summary ids are deterministic (device, indicator, days, end), so a second pass, a
 *   restart or another instance over the same journal appends duplicates the journal collapses.
 * - A period with too little data is not summarized (MEDGW_ERR_CGM_INSUFFICIENT_DATA); one audit entry
 *   says so per device and period.
 * - Purge: a point has served once both summaries of its period are acknowledged by MES (delivered), or
 *   once it was taken more than `cgm.keepDays` days ago (default `summaryDays` + 2) and its period is
 *   closed (summarized, or found insufficient, or its device has no patient to send it to). It is then
 *   deleted (Journal.purgeLocal), with one audit entry per device and rule for each pass, without values.
 *   A point whose time is not trusted belongs to no period: the age rule applies, from when it was stored.
 */

import {
  CGM_INDICATORS,
  type CgmIndicator,
  type CgmPeriodDays,
  type CgmPoint,
  type CgmSummaryRefusal,
  cgmSummaryId,
  cgmSummaryObservations,
  isCgmSummary,
  summarizeCgm,
} from '../../drivers/normalize/cgm-summary.ts';
import { wallToUtc, zoneOffsetMinutes } from '../../drivers/normalize/time.ts';
import type { Observation } from '../../drivers/types.ts';
import { isMedgwError } from '../../kernel/errors.ts';
import type { GatewayContext } from '../context.ts';
import type { Component, DeviceRecord, Journal, NewReading, OutboxRecord, Registry } from '../contracts.ts';
import type { ComponentFactory } from '../lifecycle.ts';
import type { Logger } from '../log.ts';

/** MDC_CONC_GLU_ISF: glucose in interstitial fluid (IEEE 11073-10101). */
const MDC_GLUCOSE_ISF = '160212';
const DAY_MS = 86_400_000;

export interface CgmSummaryOptions {
  readonly days: CgmPeriodDays;
  readonly intervalMinutes: number;
  readonly closeAfterHours: number;
  readonly timezone: string;
  /** Days a sensor value is kept at most (config `cgm.keepDays`; default `days` + 2). */
  readonly keepDays?: number;
}

export interface PassResult {
  /** Summary records appended (new ones; duplicates of earlier passes not counted). */
  readonly appended: number;
  /** Closed periods with too little data. */
  readonly insufficient: number;
  /** Sensor values deleted because they have served (or discarded, for those a journal quarantined). */
  readonly purged: number;
}

/** Why a sensor value was purged: its period's summaries acknowledged, or its age. */
type PurgeRule = 'acknowledged' | 'age';

/**
 * A CGM sensor value a journal written before the `local` state holds: quarantined as interstitial,
 * with the CGM Measurement's Time Offset (a glucometer's interstitial spot value has none).
 */
function isQuarantinedSensorPoint(r: OutboxRecord): boolean {
  return (
    r.state === 'quarantined' &&
    r.reason?.code === 'MEDGW_ERR_GLUCOSE_INTERSTITIAL' &&
    typeof r.observation?.context?.['timeOffset'] === 'number'
  );
}

/** Every kept sensor value of the journal, by device (local ones, then any a journal quarantined). */
function keptByDevice(journal: Journal, deviceId?: string): Map<string, OutboxRecord[]> {
  const out = new Map<string, OutboxRecord[]>();
  const filter = deviceId !== undefined ? { deviceId } : {};
  const kept = [
    ...journal.list({ ...filter, state: 'local' }),
    ...journal.list({ ...filter, state: 'quarantined' }).filter(isQuarantinedSensorPoint),
  ];
  for (const r of kept) {
    const list = out.get(r.deviceId);
    if (list) list.push(r);
    else out.set(r.deviceId, [r]);
  }
  return out;
}

/** What a provider sees of a device's kept sensor values (the device page). */
export interface KeptPoints {
  readonly count: number;
  /** When the oldest was taken (UTC ms; when it was stored, for one whose time is not trusted). */
  readonly oldestMs?: number;
  /** End of the period running now: its summary is made once the sensor is read past it. */
  readonly periodEndMs: number;
}

export function keptPoints(
  journal: Journal,
  deviceId: string,
  options: Pick<CgmSummaryOptions, 'days' | 'timezone'>,
  now: number,
  /** The device's local rows when the caller has read them already (the device page): not read twice. */
  local?: readonly OutboxRecord[],
): KeptPoints {
  const kept = local
    ? [...local, ...journal.list({ deviceId, state: 'quarantined' }).filter(isQuarantinedSensorPoint)]
    : (keptByDevice(journal, deviceId).get(deviceId) ?? []);
  let oldest: number | undefined;
  for (const r of kept) {
    const at = pointOf(r.observation)?.utcMs ?? r.createdAt;
    if (oldest === undefined || at < oldest) oldest = at;
  }
  return {
    count: kept.length,
    ...(oldest !== undefined ? { oldestMs: oldest } : {}),
    periodEndMs: periodEndOf(options.timezone, options.days, now),
  };
}

/** The UTC instant of a civil midnight of the zone, given as a day number since 1970-01-01. */
export function midnightOf(timeZone: string, dayNumber: number): number {
  const wall = dayNumber * DAY_MS;
  // Midnight may not exist (a zone that springs forward at 00:00): the day then starts an hour later.
  return wallToUtc(timeZone, wall)[0] ?? wallToUtc(timeZone, wall + 3_600_000)[0] ?? wall;
}

/** The civil day number (since 1970-01-01) of an instant in the zone. */
export function dayNumberOf(timeZone: string, utcMs: number): number {
  return Math.floor((utcMs + zoneOffsetMinutes(timeZone, utcMs) * 60_000) / DAY_MS);
}

/** The end (exclusive, UTC ms) of the period holding `utcMs`: the next midnight whose day number is a multiple of `days`. */
export function periodEndOf(timeZone: string, days: number, utcMs: number): number {
  const day = dayNumberOf(timeZone, utcMs);
  return midnightOf(timeZone, (Math.floor(day / days) + 1) * days);
}

/** The key of a device in the summary ids: its system id when it gave one. */
function deviceKey(device: DeviceRecord): string {
  return device.identity?.systemId ?? device.id;
}

/** The CGM sensor points of a journal record, if it is one. */
function pointOf(observation: Observation | null): CgmPoint | undefined {
  if (observation?.kind !== 'glucose' || observation.mdc !== MDC_GLUCOSE_ISF) return undefined;
  if (observation.value === undefined || !observation.time.utc) return undefined;
  return {
    utcMs: Date.parse(observation.time.utc),
    mgdl: observation.value,
    quality: observation.time.quality,
  };
}

export class CgmSummaries {
  readonly #journal: Journal;
  readonly #registry: Registry;
  readonly #options: CgmSummaryOptions;
  readonly #log: Logger | undefined;
  /** Periods already reported as insufficient (device|end), so each is audited once per process. */
  readonly #reported = new Set<string>();

  constructor(journal: Journal, registry: Registry, options: CgmSummaryOptions, log?: Logger) {
    this.#journal = journal;
    this.#registry = registry;
    this.#options = options;
    this.#log = log;
  }

  /**
   * One pass: for every device with kept sensor values, summarizes each closed period that has points
   * (when the device has a patient), then purges the values that have served.
   */
  pass(now: number): PassResult {
    let appended = 0;
    let insufficient = 0;
    let purged = 0;
    for (const [deviceId, kept] of keptByDevice(this.#journal)) {
      const device = this.#registry.getDevice(deviceId);
      const points: CgmPoint[] = [];
      const periodOf = new Map<OutboxRecord, number>();
      const { days, timezone, closeAfterHours } = this.#options;
      let newest = Number.NEGATIVE_INFINITY;
      for (const record of kept) {
        const point = pointOf(record.observation);
        if (!point) continue;
        points.push(point);
        periodOf.set(record, periodEndOf(timezone, days, point.utcMs));
        if (point.utcMs > newest) newest = point.utcMs;
      }
      // Closed: the device was read past its end, or it ended long enough ago.
      const closed = (end: number) => newest >= end || end <= now - closeAfterHours * 3_600_000;
      if (device?.patientId) {
        const periods = [...new Set(periodOf.values())].filter(closed).sort((a, b) => a - b);
        for (const end of periods) {
          // Made already (its values may have been purged since): it is not made again, nor judged again.
          if (this.#journal.get(cgmSummaryId(deviceKey(device), 'cgm-mean-glucose', days, end))) continue;
          const made = this.#summarize(device, device.patientId, points, end);
          if (made === undefined) insufficient += 1;
          else appended += made;
        }
      }
      purged += this.#purge(deviceId, device, kept, periodOf, closed, now);
    }
    return { appended, insufficient, purged };
  }

  /** Appends the two records of one closed period; undefined when the period has too little data. */
  #summarize(device: DeviceRecord, patientId: string, points: CgmPoint[], end: number): number | undefined {
    const { days, intervalMinutes } = this.#options;
    const summary = summarizeCgm(points, { endMs: end, days, intervalMinutes });
    if (!isCgmSummary(summary)) {
      this.#reportInsufficient(device.id, patientId, end, summary);
      return undefined;
    }
    const readings: NewReading[] = cgmSummaryObservations(summary).map((observation) => ({
      id: cgmSummaryId(deviceKey(device), observation.kind as CgmIndicator, summary.days, summary.endMs),
      deviceId: device.id,
      patientId,
      observation,
      state: 'pending',
    }));
    const result = this.#journal.append(readings);
    if (result.accepted.length > 0) {
      this.#log?.info(
        // No device id: a BLE device id is its Bluetooth address (an identity, never logged).
        { component: 'cgm', days, end: new Date(end).toISOString(), readings: result.accepted.length },
        'continuous glucose summary ready to send',
      );
    }
    return result.accepted.length;
  }

  /** Deletes the kept values of one device that have served; returns how many. */
  #purge(
    deviceId: string,
    device: DeviceRecord | undefined,
    kept: readonly OutboxRecord[],
    periodOf: ReadonlyMap<OutboxRecord, number>,
    closed: (end: number) => boolean,
    now: number,
  ): number {
    const { days } = this.#options;
    const keepDays = this.#options.keepDays ?? days + 2;
    const acknowledged = new Map<number, boolean>();
    const isAcknowledged = (end: number): boolean => {
      let known = acknowledged.get(end);
      if (known === undefined) {
        known =
          device !== undefined &&
          (Object.keys(CGM_INDICATORS) as CgmIndicator[]).every(
            (indicator) =>
              this.#journal.get(cgmSummaryId(deviceKey(device), indicator, days, end))?.state === 'delivered',
          );
        acknowledged.set(end, known);
      }
      return known;
    };
    const due: Record<PurgeRule, OutboxRecord[]> = { acknowledged: [], age: [] };
    for (const record of kept) {
      const end = periodOf.get(record);
      if (end !== undefined && !closed(end)) continue;
      if (end !== undefined && isAcknowledged(end)) due.acknowledged.push(record);
      else if ((pointOf(record.observation)?.utcMs ?? record.createdAt) < now - keepDays * DAY_MS)
        due.age.push(record);
    }
    let purged = 0;
    for (const rule of ['acknowledged', 'age'] as const) {
      const records = due[rule];
      if (records.length === 0) continue;
      const detail = { rule, days, keepDays };
      const local = records.filter((r) => r.state === 'local').map((r) => r.id);
      if (local.length > 0) {
        purged += this.#journal.purgeLocal(local, {
          event: 'cgm.points-purged',
          deviceId,
          ...(device?.patientId ? { patientId: device.patientId } : {}),
          detail,
        });
      }
      // Kept by a journal written before the local state: discarded (values dropped, row and audit kept).
      for (const r of records.filter((x) => x.state === 'quarantined')) {
        this.#journal.transition(r.id, 'quarantined', 'dead-letter', {
          purge: true,
          reason: { code: 'MEDGW_ERR_CGM_POINT_LOCAL', message: `sensor value purged (${rule})` },
          audit: { event: 'cgm.point-purged', detail },
        });
        purged += 1;
      }
      this.#log?.info(
        { component: 'cgm', rule, readings: records.length },
        'continuous glucose sensor values purged',
      );
    }
    return purged;
  }

  #reportInsufficient(deviceId: string, patientId: string, end: number, refusal: CgmSummaryRefusal): void {
    const key = `${deviceId}|${end}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#journal.audit({
      event: 'cgm.summary-insufficient',
      deviceId,
      patientId,
      kind: 'cgm-mean-glucose',
      detail: {
        code: refusal.code,
        end: new Date(end).toISOString(),
        days: this.#options.days,
        points: refusal.points,
      },
    });
  }
}

/** Runs a pass at start and every `everyMs`. */
export class CgmSummaryComponent implements Component {
  readonly name = 'cgm-summaries';
  readonly summaries: CgmSummaries;
  readonly #ctx: GatewayContext;
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
    const cfg = ctx.config.cgm;
    this.summaries = new CgmSummaries(
      ctx.journal,
      ctx.registry,
      {
        days: cfg.summaryDays,
        intervalMinutes: cfg.intervalMinutes,
        closeAfterHours: cfg.closeAfterHours,
        timezone: ctx.config.timezone,
        ...(cfg.keepDays !== undefined ? { keepDays: cfg.keepDays } : {}),
      },
      ctx.log,
    );
  }

  async start(): Promise<void> {
    this.#run();
    this.#timer = setInterval(() => this.#run(), this.#ctx.config.cgm.checkEveryMs);
    this.#timer.unref();
  }

  #run(): void {
    try {
      this.summaries.pass(this.#ctx.clock.now());
    } catch (e) {
      // A pass that fails (journal closing, full) is tried again at the next one: nothing was appended.
      this.#ctx.log.warn(
        { component: 'cgm', ...(isMedgwError(e) ? { code: e.code } : { err: String(e) }) },
        'continuous glucose summary pass failed',
      );
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Built by `medgw start` on every gateway: it only acts on devices whose journal holds CGM points. */
export const cgmSummaryComponent: ComponentFactory = {
  name: 'cgm-summaries',
  create: (ctx) => new CgmSummaryComponent(ctx),
};
