/**
 * The time of a reading (pure): the device's local time as sent, its UTC instant when it can be
 * established, and a quality flag. No clock: "now" comes in through the options.
 */
import type { CoincidentTime, DeviceDateTime, Measurement, ObservationTime, Quarantine } from '../types.ts';
import { deviceTimeText } from './time-text.ts';

export interface TimeOptions {
  /** The device's clock read beside the gateway's during the connection that delivered the reading. */
  readonly coincident?: CoincidentTime;
  /**
   * The IANA time zone of the device clocks (config `timezone`). With it, a correction separates the
   * clock's drift from the civil time: the zone's rules at the reading's own date place it (an August
   * reading corrected in November keeps its summer time). Without it, the offset measured at the
   * coincident timestamp applies as it is.
   */
  readonly timeZone?: string;
  /**
   * The device's time zone as the gateway knows it, in minutes east of UTC. Used only to judge whether a
   * zone-less device time lies in the future (`timeZone` does the same from the zone's rules); it never
   * turns a device time into UTC.
   */
  readonly deviceUtcOffsetMinutes?: number;
  /** The caller's "now" (ms since the epoch), to refuse readings from the future; defaults to the coincident gateway time. */
  readonly nowMs?: number;
  /** How far in the future a reading may lie before it is impossible (clock drift margin). Default 5 minutes. */
  readonly futureToleranceMs?: number;
  /**
   * When the gateway received the reading (ms since the epoch): kept in the observation time, and the
   * time of a reading whose device sent none (quality `received`).
   */
  readonly receivedMs?: number;
}

/** Device times before this instant are impossible: unset clocks start at 1970 or 2000. */
export const EARLIEST_DEVICE_TIME_MS = Date.UTC(2001, 0, 1);
export const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60_000;
/** The widest zone offset on Earth (UTC+14): a zone-less time cannot be judged closer than this. */
const MAX_ZONE_MS = 14 * 3_600_000;

/** A device flag name squashed for comparison: lower case, letters only (`Time fault` → `timefault`). */
const SQUASHED = new Map<string, string>();
export function squash(s: string): string {
  let out = SQUASHED.get(s);
  if (out === undefined) {
    out = s.toLowerCase().replace(/[^a-z]/g, '');
    // Names come from the codecs' tables and sample types: a handful, remembered once (bounded all the same).
    if (SQUASHED.size < 1024) SQUASHED.set(s, out);
  }
  return out;
}

export interface TimeResult {
  readonly time: ObservationTime;
  readonly quarantine?: Quarantine;
}

/**
 * GLS Sensor Status "time fault" (bit 11), PLX "device clock is not set" and CGM "time synchronization
 * required" (Cal/Temp bit 0): no correction can be trusted. These are the `time` rows of status.ts; the
 * status-decisions test fails for a `time` row missing here.
 */
const CLOCK_FLAGS = new Set(['timefault', 'deviceclocknotset', 'cgmtimesyncrequired']);
const clockDistrusted = (m: Measurement) => m.flags?.some((f) => CLOCK_FLAGS.has(squash(f))) ?? false;

/**
 * Characteristics whose records always carry a time (GLS Glucose Measurement: Base Time is mandatory):
 * a measurement from them without a device time had an unknown or impossible date.
 */
const TIME_MANDATORY = new Set(['2A18']);

const impossible = (reason: string): Quarantine => ({ code: 'MEDGW_ERR_TIME_IMPOSSIBLE', reason });

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A device date-time read as if it were UTC (a zone-free wall-clock position), fraction included. */
function wallMs(dt: DeviceDateTime): number {
  const ms = dt.fraction ? Number(dt.fraction.slice(0, 3).padEnd(3, '0')) : 0;
  return Date.UTC(dt.year, dt.month - 1, dt.day, dt.hours, dt.minutes, dt.seconds, ms);
}

const FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * Offset of an IANA zone from UTC at an instant, in minutes, read from the ICU time zone data Node
 * ships (IANA tz database; ECMA-402 `Intl.DateTimeFormat` time zone names). One read costs tens of µs.
 */
export function icuOffsetMinutes(timeZone: string, epochMs: number): number {
  let f = FORMATS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    FORMATS.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wall - Math.floor(epochMs / 1000) * 1000) / MINUTE_MS);
}

/** A zone's offsets over one UTC year: `offsets[i]` applies from `starts[i]` (ms) to the next start. */
interface ZoneYear {
  readonly starts: readonly number[];
  readonly offsets: readonly number[];
}

const ZONE_YEARS = new Map<string, ZoneYear>();
const WEEK_MS = 7 * DAY_MS;

/**
 * The offsets of a zone over a year, from ICU: read once a week, each change found to the minute by
 * bisection (the tz database changes offsets at whole minutes, and never twice within a week).
 */
function zoneYear(timeZone: string, year: number): ZoneYear {
  const key = `${timeZone}|${year}`;
  const cached = ZONE_YEARS.get(key);
  if (cached) return cached;
  const from = new Date(0).setUTCFullYear(year, 0, 1);
  const to = new Date(0).setUTCFullYear(year + 1, 0, 1);
  const starts = [from];
  const offsets = [icuOffsetMinutes(timeZone, from)];
  for (let lo = from; lo < to; lo += WEEK_MS) {
    const end = Math.min(lo + WEEK_MS, to);
    const before = offsets[offsets.length - 1]!;
    const after = icuOffsetMinutes(timeZone, end);
    if (after === before) continue;
    let a = lo;
    let b = end;
    while (b - a > MINUTE_MS) {
      const mid = a + Math.floor((b - a) / 2 / MINUTE_MS) * MINUTE_MS;
      if (icuOffsetMinutes(timeZone, mid) === before) a = mid;
      else b = mid;
    }
    if (b < to) {
      starts.push(b);
      offsets.push(after);
    }
  }
  const zy = { starts, offsets };
  ZONE_YEARS.set(key, zy);
  return zy;
}

/**
 * Offset of an IANA zone from UTC at an instant, in minutes (Europe/Paris: 60 in winter, 120 in
 * summer): the ICU offset, from a per-year table of the zone's changes built on first use.
 */
export function zoneOffsetMinutes(timeZone: string, epochMs: number): number {
  const { starts, offsets } = zoneYear(timeZone, new Date(epochMs).getUTCFullYear());
  let i = starts.length - 1;
  while (i > 0 && starts[i]! > epochMs) i--;
  return offsets[i]!;
}

/**
 * The UTC instants a civil wall-clock time of the zone names (wall time in ms read as UTC), earliest
 * first: one; two in the hour repeated when summer time ends; none in the hour skipped when it starts.
 * The zone's offsets a day before and after cover the one change a day can hold.
 */
export function wallToUtc(timeZone: string, wall: number): number[] {
  const out: number[] = [];
  for (const offset of zoneOffsetsAround(timeZone, wall)) {
    const utc = wall - offset * MINUTE_MS;
    if (zoneOffsetMinutes(timeZone, utc) === offset && !out.includes(utc)) out.push(utc);
  }
  return out.sort((a, b) => a - b);
}

/** The zone's offsets (minutes) a day either side of a wall-clock time: equal unless a change lies between. */
function zoneOffsetsAround(timeZone: string, wall: number): number[] {
  const before = zoneOffsetMinutes(timeZone, wall - DAY_MS);
  const after = zoneOffsetMinutes(timeZone, wall + DAY_MS);
  return before === after ? [before] : [before, after];
}

/**
 * A reading's UTC instant from a trustworthy coincident timestamp (HL7 PHD IG, Coincident Time Stamp:
 * the gateway places the device's times on its own time line).
 *
 * The device clock is read as civil time plus a drift: drift = device − (gateway + zone offset at the
 * coincident instant). The reading's civil time is its device time minus that drift, placed with the
 * zone's rules at its own date. That holds when the device clock keeps summer time (its stored times
 * are civil times of their date: GLS user-facing time follows the user's clock changes through Time
 * Offset). A clock that ignores summer time instead keeps the coincident offset for every reading. The
 * two agree when the reading and the coincident timestamp share one offset; where they differ, the
 * device's Local Time Information (a stated DST offset, CTS v1.1 §3.2) says it keeps summer time, and
 * without it the quality is `dst-unknown`. A civil time repeated or skipped at a change is `dst-unknown` too.
 */
function corrected(
  reading: number,
  c: CoincidentTime,
  timeZone: string | undefined,
): { utcMs: number; dstUnknown: boolean } {
  const measuredOffset = c.gatewayMs - wallMs(c.device);
  // The clock as it runs: the offset measured now, whatever the reading's date.
  const running = reading + measuredOffset;
  if (timeZone === undefined) return { utcMs: running, dstUnknown: false };
  const drift = -measuredOffset - zoneOffsetMinutes(timeZone, c.gatewayMs) * MINUTE_MS;
  const civil = wallToUtc(timeZone, reading - drift);
  const keepsSummerTime = c.dstOffsetMinutes !== undefined;
  const [only] = civil;
  if (civil.length === 1 && only !== undefined) {
    return { utcMs: only, dstUnknown: !keepsSummerTime && only !== running };
  }
  // Repeated: the clock as it runs picks one if it can, else the first; skipped: only a clock that
  // ignores summer time shows it.
  return { utcMs: civil.includes(running) ? running : (civil[0] ?? running), dstUnknown: true };
}

/** The device time text as sent: `YYYY-MM-DDThh:mm:ss`, then the fraction of a second as written. */
function deviceText(dt: DeviceDateTime): string {
  return dt.fraction ? `${deviceTimeText(dt)}.${dt.fraction}` : deviceTimeText(dt);
}

/**
 * The reading's time: when it was taken (the device's local time as sent, ISO-8601 without zone, and
 * its UTC instant when it can be established) and when the gateway received it (`receivedMs`):
 * - with a trustworthy coincident timestamp: the device time corrected for the clock's drift with the
 *   zone's rules at the reading's date (see `corrected`), `corrected`, `synced` when the gateway set the
 *   device clock just before, or `dst-unknown`;
 * - with a zone the device stated itself (MQTT ISO-8601): that instant and that offset, `untrusted`
 *   (no clock check);
 * - no device time at all: the reception instant, `received` (GLS, whose time is mandatory: quarantined);
 * - otherwise no UTC instant, `untrusted`.
 * Impossible times (unknown date, before 2001, in the future) are quarantined, never rewritten.
 */
export function resolveTime(m: Measurement, options: TimeOptions = {}): TimeResult {
  const received =
    options.receivedMs !== undefined ? { received: new Date(options.receivedMs).toISOString() } : {};
  const dt = m.deviceTime;
  if (!dt && TIME_MANDATORY.has(m.source)) {
    return {
      time: { ...received, quality: 'untrusted' },
      quarantine: impossible('the device time is unknown (the base time has an unknown or impossible date)'),
    };
  }
  if (!dt) {
    return received.received
      ? { time: { utc: received.received, ...received, quality: 'received' } }
      : { time: { quality: 'untrusted' } };
  }
  const stated = m.deviceUtcOffsetMinutes !== undefined ? { utcOffsetMinutes: m.deviceUtcOffsetMinutes } : {};
  if (dt.year === 0 || dt.month === 0 || dt.day === 0) {
    return {
      time: { ...stated, ...received, quality: 'untrusted' },
      quarantine: impossible('the device time has an unknown date (year, month or day is 0)'),
    };
  }
  const device = deviceText(dt);
  const naive = wallMs(dt);
  const now = options.nowMs ?? options.coincident?.gatewayMs;
  const tolerance = options.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS;

  let utcMs: number | undefined;
  let quality: ObservationTime['quality'] = 'untrusted';
  const c = options.coincident;
  const coincidentKnown = c && c.device.year !== 0 && c.device.month !== 0 && c.device.day !== 0;
  if (m.deviceUtcOffsetMinutes !== undefined) {
    utcMs = naive - m.deviceUtcOffsetMinutes * MINUTE_MS;
  } else if (c && coincidentKnown && !clockDistrusted(m)) {
    const r = corrected(naive, c, options.timeZone);
    utcMs = r.utcMs;
    quality = r.dstUnknown ? 'dst-unknown' : c.deviceClockSet ? 'synced' : 'corrected';
  } else if (!c && options.timeZone !== undefined && !clockDistrusted(m)) {
    // No clock to read (a device without Current Time): the HL7 PHD IG lets the gateway assume the device
    // and the gateway share a time zone (PhdBaseObservation, Timestamp). The time is placed with the zone's
    // rules at its date and stays `untrusted`: nothing checked the clock (docs/clinical-mapping.md, Time).
    utcMs = wallToUtc(options.timeZone, naive)[0];
  }

  // A zone-less time without correction is compared as local time: at best UTC+14 ahead of UTC.
  const earliestEstimate =
    utcMs ??
    (options.deviceUtcOffsetMinutes !== undefined
      ? naive - options.deviceUtcOffsetMinutes * MINUTE_MS
      : options.timeZone !== undefined
        ? naive - Math.max(...zoneOffsetsAround(options.timeZone, naive)) * MINUTE_MS
        : naive - MAX_ZONE_MS);
  let quarantine: Quarantine | undefined;
  if ((utcMs ?? naive) < EARLIEST_DEVICE_TIME_MS) {
    quarantine = impossible(`the device time ${device} is before 2001: the device clock is not set`);
  } else if (now !== undefined && earliestEstimate > now + tolerance) {
    quarantine = impossible(`the device time ${device} is in the future`);
  }
  if (quarantine) return { time: { device, ...stated, ...received, quality: 'untrusted' }, quarantine };
  if (utcMs === undefined) return { time: { device, ...received, quality } };
  return { time: { device, utc: new Date(utcMs).toISOString(), ...stated, ...received, quality } };
}
