/**
 * The time of a reading (pure): the device's local time as sent, its UTC instant when it can be
 * established, and a quality flag. No clock: "now" comes in through the options.
 */
import type { CoincidentTime, Measurement, ObservationTime, Quarantine } from '../types.ts';
import { deviceTimeText } from './time-text.ts';

export interface TimeOptions {
  /** The device's clock read beside the gateway's during the connection that delivered the reading. */
  readonly coincident?: CoincidentTime;
  /**
   * The device's time zone as the gateway knows it (configuration), in minutes east of UTC. Used only to
   * judge whether a zone-less device time lies in the future; it never turns a device time into UTC.
   */
  readonly deviceUtcOffsetMinutes?: number;
  /** The caller's "now" (ms since the epoch), to refuse readings from the future; defaults to the coincident gateway time. */
  readonly nowMs?: number;
  /** How far in the future a reading may lie before it is impossible (clock drift margin). Default 5 minutes. */
  readonly futureToleranceMs?: number;
}

/** Device times before this instant are impossible: unset clocks start at 1970 or 2000. */
export const EARLIEST_DEVICE_TIME_MS = Date.UTC(2001, 0, 1);
export const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60_000;
/** The widest zone offset on Earth (UTC+14): a zone-less time cannot be judged closer than this. */
const MAX_ZONE_MS = 14 * 3_600_000;

/** A device flag name squashed for comparison: lower case, letters only (`Time fault` → `timefault`). */
export const squash = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');

export interface TimeResult {
  readonly time: ObservationTime;
  readonly quarantine?: Quarantine;
}

/** GLS Sensor Status "time fault" (bit 11) and PLX "device clock is not set": no correction can be trusted. */
const CLOCK_FLAGS = new Set(['timefault', 'deviceclocknotset']);
const clockDistrusted = (m: Measurement) => m.flags?.some((f) => CLOCK_FLAGS.has(squash(f))) ?? false;

/**
 * Characteristics whose records always carry a time (GLS Glucose Measurement: Base Time is mandatory):
 * a measurement from them without a device time had an unknown or impossible date.
 */
const TIME_MANDATORY = new Set(['2A18']);

const impossible = (reason: string): Quarantine => ({ code: 'MEDGW_ERR_TIME_IMPOSSIBLE', reason });

/**
 * The reading's time: the device's local time as sent (ISO-8601 without zone), and its UTC instant
 * when it can be established:
 * - with a trustworthy coincident timestamp: device time + (gateway − device) offset, `corrected`, or
 *   `synced` when the gateway set the device clock just before;
 * - with a zone the device stated itself (MQTT ISO-8601): that instant, `untrusted` (no clock check);
 * - otherwise no UTC instant, `untrusted`.
 * Impossible times (unknown date, before 2001, in the future) are quarantined, never rewritten.
 */
export function resolveTime(m: Measurement, options: TimeOptions = {}): TimeResult {
  const dt = m.deviceTime;
  if (!dt && TIME_MANDATORY.has(m.source)) {
    return {
      time: { quality: 'untrusted' },
      quarantine: impossible('the device time is unknown (the base time has an unknown or impossible date)'),
    };
  }
  if (!dt) return { time: { quality: 'untrusted' } };
  if (dt.year === 0 || dt.month === 0 || dt.day === 0) {
    return {
      time: { quality: 'untrusted' },
      quarantine: impossible('the device time has an unknown date (year, month or day is 0)'),
    };
  }
  const device = deviceTimeText(dt);
  const naive = Date.UTC(dt.year, dt.month - 1, dt.day, dt.hours, dt.minutes, dt.seconds);
  const now = options.nowMs ?? options.coincident?.gatewayMs;
  const tolerance = options.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS;

  let utcMs: number | undefined;
  let quality: ObservationTime['quality'] = 'untrusted';
  const c = options.coincident;
  const coincidentKnown = c && c.device.year !== 0 && c.device.month !== 0 && c.device.day !== 0;
  if (m.deviceUtcOffsetMinutes !== undefined) {
    utcMs = naive - m.deviceUtcOffsetMinutes * 60_000;
  } else if (c && coincidentKnown && !clockDistrusted(m)) {
    const d = c.device;
    const offset = c.gatewayMs - Date.UTC(d.year, d.month - 1, d.day, d.hours, d.minutes, d.seconds);
    utcMs = naive + offset;
    quality = c.deviceClockSet ? 'synced' : 'corrected';
  }

  // A zone-less time without correction is compared as local time: at best UTC+14 ahead of UTC.
  const earliestEstimate =
    utcMs ??
    (options.deviceUtcOffsetMinutes !== undefined
      ? naive - options.deviceUtcOffsetMinutes * 60_000
      : naive - MAX_ZONE_MS);
  let quarantine: Quarantine | undefined;
  if ((utcMs ?? naive) < EARLIEST_DEVICE_TIME_MS) {
    quarantine = impossible(`the device time ${device} is before 2001: the device clock is not set`);
  } else if (now !== undefined && earliestEstimate > now + tolerance) {
    quarantine = impossible(`the device time ${device} is in the future`);
  }
  if (quarantine) return { time: { device, quality: 'untrusted' }, quarantine };
  if (utcMs === undefined) return { time: { device, quality } };
  return { time: { device, utc: new Date(utcMs).toISOString(), quality } };
}
