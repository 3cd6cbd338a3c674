/**
 * Continuous glucose summaries from the journal: each closed period of each CGM becomes its two records
 * (MED-969 mean glucose, MED-972 GMI; drivers/normalize/cgm-summary.ts), appended to the outbox as
 * ready-to-send readings for the device's patient. The forwarder sends them like any reading.
 *
 * - The points are the device's interstitial sensor values the pipeline kept local (quarantined as
 *   MEDGW_ERR_GLUCOSE_INTERSTITIAL: a spot value MES does not take), read back from the journal.
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
 */

import {
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
import type { GatewayContext } from '../context.ts';
import type { Component, Journal, NewReading, Registry } from '../contracts.ts';
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
}

export interface PassResult {
  /** Summary records appended (new ones; duplicates of earlier passes not counted). */
  readonly appended: number;
  /** Closed periods with too little data. */
  readonly insufficient: number;
}

/** The UTC instant of a civil midnight of the zone, given as a day number since 1970-01-01. */
function midnightOf(timeZone: string, dayNumber: number): number {
  const wall = dayNumber * DAY_MS;
  // Midnight may not exist (a zone that springs forward at 00:00): the day then starts an hour later.
  return wallToUtc(timeZone, wall)[0] ?? wallToUtc(timeZone, wall + 3_600_000)[0] ?? wall;
}

/** The civil day number (since 1970-01-01) of an instant in the zone. */
function dayNumberOf(timeZone: string, utcMs: number): number {
  return Math.floor((utcMs + zoneOffsetMinutes(timeZone, utcMs) * 60_000) / DAY_MS);
}

/** The end (exclusive, UTC ms) of the period holding `utcMs`: the next midnight whose day number is a multiple of `days`. */
export function periodEndOf(timeZone: string, days: number, utcMs: number): number {
  const day = dayNumberOf(timeZone, utcMs);
  return midnightOf(timeZone, (Math.floor(day / days) + 1) * days);
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

  /** One pass over every device with a patient: summarizes each closed period that has points. */
  pass(now: number): PassResult {
    let appended = 0;
    let insufficient = 0;
    for (const device of this.#registry.listDevices()) {
      if (!device.patientId) continue;
      const points: CgmPoint[] = [];
      for (const record of this.#journal.list({ deviceId: device.id, state: 'quarantined' })) {
        if (record.reason?.code !== 'MEDGW_ERR_GLUCOSE_INTERSTITIAL') continue;
        const point = pointOf(record.observation);
        if (point) points.push(point);
      }
      if (points.length === 0) continue;
      const { days, intervalMinutes, timezone, closeAfterHours } = this.#options;
      let newest = Number.NEGATIVE_INFINITY;
      const periods = new Set<number>();
      for (const p of points) {
        if (p.utcMs > newest) newest = p.utcMs;
        periods.add(periodEndOf(timezone, days, p.utcMs));
      }
      for (const end of [...periods].sort((a, b) => a - b)) {
        // Closed: the device was read past its end, or it ended long enough ago.
        if (!(newest >= end || end <= now - closeAfterHours * 3_600_000)) continue;
        const summary = summarizeCgm(points, { endMs: end, days, intervalMinutes });
        if (!isCgmSummary(summary)) {
          insufficient += 1;
          this.#reportInsufficient(device.id, device.patientId, end, summary);
          continue;
        }
        const key = device.identity?.systemId ?? device.id;
        const readings: NewReading[] = cgmSummaryObservations(summary).map((observation) => ({
          id: cgmSummaryId(key, observation.kind as 'cgm-mean-glucose', summary.days, summary.endMs),
          deviceId: device.id,
          patientId: device.patientId as string,
          observation,
          state: 'pending',
        }));
        const result = this.#journal.append(readings);
        appended += result.accepted.length;
        if (result.accepted.length > 0) {
          this.#log?.info(
            // No device id: a BLE device id is its Bluetooth address (an identity, never logged).
            { component: 'cgm', days, end: new Date(end).toISOString(), readings: result.accepted.length },
            'continuous glucose summary ready to send',
          );
        }
      }
    }
    return { appended, insufficient };
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
        { component: 'cgm', code: (e as { code?: string }).code },
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
