/**
 * Device time on a BLE connection. The gateway reads the device's Current Time beside its own clock
 * (the coincident timestamp of the HL7 PHD IG, Non11073PHDDevices), sets the device clock where CTS
 * allows a write (CTS v1.1, Current Time 0x2A2B Write optional), then reads it again. Readings taken
 * with the old clock are corrected with the first pair; readings the device takes after the write
 * carry its newly set clock and are `synced`.
 */
import { encodeCurrentTime } from '../../drivers/codecs/current-time.ts';
import { dateTimeAt, dayOfWeekOf } from '../../drivers/datetime.ts';
import { zoneOffsetMinutes } from '../../drivers/normalize/time.ts';
import type { CoincidentTime, DeviceDateTime, Measurement } from '../../drivers/types.ts';

export { zoneOffsetMinutes };

/** The Current Time value (10 bytes) that sets a device clock to the gateway's local time now. */
export function currentTimeFor(epochMs: number, timeZone: string): Uint8Array {
  const dt = dateTimeAt(epochMs, zoneOffsetMinutes(timeZone, epochMs));
  const fractions256 = Math.floor(((((epochMs % 1000) + 1000) % 1000) * 256) / 1000);
  return encodeCurrentTime(dt, dayOfWeekOf(dt), fractions256, { externalReferenceTimeUpdate: true });
}

/** The device clocks read on one connection. */
export interface SessionTimes {
  /** Read before any write: the clock the stored readings were taken with. */
  readonly before?: CoincidentTime;
  /** Read after the gateway set the clock (`deviceClockSet`). */
  readonly after?: CoincidentTime;
}

const naive = (dt: DeviceDateTime) =>
  Date.UTC(dt.year, dt.month - 1, dt.day, dt.hours, dt.minutes, dt.seconds);

/**
 * The coincident timestamp that applies to a reading: the one read after the clock was set when the
 * reading's device time falls between that read and now on the new clock, else the one read before
 * (none when the old clock was never read).
 */
export function coincidentFor(
  m: Measurement,
  times: SessionTimes,
  nowMs: number,
): CoincidentTime | undefined {
  const { before, after } = times;
  if (!after || !m.deviceTime) return before ?? after;
  const t = naive(m.deviceTime);
  const setAt = naive(after.device);
  const slackMs = 2_000;
  if (t >= setAt - slackMs && t <= setAt + (nowMs - after.gatewayMs) + 60_000) return after;
  // Taken with the old clock: only a reading of that clock corrects it. A device whose clock can only
  // be written (A&D Date Time 0x2A08) gives none: its stored readings stay untrusted.
  return before;
}
