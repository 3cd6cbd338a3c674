/**
 * Deterministic reading ids: the outbox key and the FHIR Observation.identifier.
 *
 * id = SHA-256 over (device identity, kind, where-in-the-device, content):
 * - device identity: the Bluetooth system id (EUI-64, Device Information 0x2A23) when known, else the
 *   gateway's device id (MQTT client id);
 * - kind: the observation kind (a cuff reading yields a blood-pressure panel and a heart rate: two ids);
 * - where in the device: the device's record sequence number (GLS, PLX, MQTT `seq`) when it numbers
 *   its records, else the device time as sent;
 * - content: the values exactly as the device sent them (mantissa, exponent, unit, or the data-absent
 *   reason) and the household user index.
 *
 * So a glucometer that re-sends its whole memory after a reconnection, or an MQTT device that
 * re-publishes a message after a lost PUBACK, produces the same ids and the outbox keeps one copy.
 * Two real readings with identical values stay two: a device records them under different sequence
 * numbers, or at different times (a cuff takes minutes per reading and stamps the second). A device
 * with neither sequence numbers nor a clock cannot tell a re-sent reading from a new one; the gateway
 * then adds the reception instant as `sequence` itself.
 *
 * Pure: node:crypto hashing only, no I/O.
 */
import { createHash } from 'node:crypto';
import type { DeviceDateTime, Measurement, ObservationKind } from './types.ts';

export interface ReadingIdInput {
  /** Bluetooth system id (hex), when the device exposes one. */
  readonly systemId?: string;
  /** The gateway's device id; used when there is no system id. */
  readonly deviceId: string;
  readonly kind: ObservationKind;
  readonly measurement: Measurement;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function iso(dt: DeviceDateTime): string {
  return `${pad(dt.year, 4)}-${pad(dt.month)}-${pad(dt.day)}T${pad(dt.hours)}:${pad(dt.minutes)}:${pad(dt.seconds)}`;
}

/** The canonical text the id hashes; exported so tests and docs can show what makes two ids differ. */
export function readingIdMaterial(input: ReadingIdInput): string {
  const m = input.measurement;
  const who = input.systemId ? `sys:${input.systemId.toLowerCase()}` : `dev:${input.deviceId}`;
  const where =
    m.sequence !== undefined
      ? `seq:${m.sequence}`
      : m.deviceTime
        ? `time:${iso(m.deviceTime)}${m.deviceUtcOffsetMinutes !== undefined ? `@${m.deviceUtcOffsetMinutes}` : ''}`
        : 'unplaced';
  const content = [...m.components]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => {
      const v = c.value;
      return 'absent' in v
        ? `${c.name}=absent:${v.absent}`
        : `${c.name}=${v.mantissa}e${v.exponent}${c.unit}`;
    })
    .join(';');
  const user = m.userIndex !== undefined ? `user:${m.userIndex}` : 'user:-';
  return ['medgw-reading-v1', who, input.kind, m.source, where, user, content].join('|');
}

/** The id: "r1-" + 32 hex digits (128 bits of SHA-256), stable across processes and versions of medgw. */
export function readingId(input: ReadingIdInput): string {
  return `r1-${createHash('sha256').update(readingIdMaterial(input)).digest('hex').slice(0, 32)}`;
}
