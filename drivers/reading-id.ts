/**
 * Deterministic reading ids: the outbox key and the FHIR Observation.identifier.
 *
 * id = SHA-256 over (device identity, kind, where-in-the-device, content):
 * - device identity: the Bluetooth system id (EUI-64, Device Information 0x2A23) when known, else the
 *   gateway's device id (MQTT client id). The system id enters as the hex of its 8 bytes in the order
 *   the device sends them (least significant first), the text ids were first made from before the
 *   gateway stored the canonical EUI-64: a device keeps its reading ids across that change, so its
 *   re-downloaded records still collapse;
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
import { hash } from 'node:crypto';
import { isEui64Text, wireOrderHex } from './codecs/system-id.ts';
import { deviceTimeText } from './normalize/time-text.ts';
import {
  COMPONENT_NAMES,
  type Measurement,
  type MeasurementComponent,
  type ObservationKind,
} from './types.ts';

export interface ReadingIdInput {
  /** Bluetooth system id: the canonical EUI-64 (`C0-26-DA-FF-FE-00-0E-01`) or a hex text, when known. */
  readonly systemId?: string;
  /** The gateway's device id; used when there is no system id. */
  readonly deviceId: string;
  readonly kind: ObservationKind;
  readonly measurement: Measurement;
}

/** The order of components in the material: by name, `localeCompare` (as ids were first computed). */
const byName = (a: MeasurementComponent, b: MeasurementComponent) => a.name.localeCompare(b.name);

/**
 * Every component name ranked once by that same `localeCompare`, so a measurement whose names are all
 * known is sorted by integer comparison: the same order (the rank follows the same comparison, and
 * Array.prototype.sort is stable). Any other name falls back to `localeCompare` itself.
 */
const RANK: ReadonlyMap<string, number> = new Map(
  [...COMPONENT_NAMES].sort((a, b) => a.localeCompare(b)).map((name, i) => [name, i]),
);

function inMaterialOrder(components: readonly MeasurementComponent[]): MeasurementComponent[] {
  if (!components.every((c) => RANK.has(c.name))) return [...components].sort(byName);
  return [...components].sort((a, b) => (RANK.get(a.name) as number) - (RANK.get(b.name) as number));
}

/** The system id as reading ids name it: the wire-order hex of a canonical EUI-64, else the text as is. */
function systemIdText(systemId: string): string {
  return (isEui64Text(systemId) ? wireOrderHex(systemId) : systemId).toLowerCase();
}

/** The canonical text the id hashes; exported so tests and docs can show what makes two ids differ. */
export function readingIdMaterial(input: ReadingIdInput): string {
  const m = input.measurement;
  const who = input.systemId ? `sys:${systemIdText(input.systemId)}` : `dev:${input.deviceId}`;
  const where =
    m.sequence !== undefined
      ? `seq:${m.sequence}`
      : m.deviceTime
        ? `time:${deviceTimeText(m.deviceTime)}${m.deviceUtcOffsetMinutes !== undefined ? `@${m.deviceUtcOffsetMinutes}` : ''}`
        : 'unplaced';
  let content = '';
  let first = true;
  for (const c of inMaterialOrder(m.components)) {
    const v = c.value;
    const text =
      'absent' in v ? `${c.name}=absent:${v.absent}` : `${c.name}=${v.mantissa}e${v.exponent}${c.unit}`;
    content = first ? text : `${content};${text}`;
    first = false;
  }
  const user = m.userIndex !== undefined ? `user:${m.userIndex}` : 'user:-';
  // As Array.join wrote it: a missing kind or source is an empty field.
  return `medgw-reading-v1|${who}|${input.kind ?? ''}|${m.source ?? ''}|${where}|${user}|${content}`;
}

/** The id: "r1-" + 32 hex digits (128 bits of SHA-256), stable across processes and versions of medgw. */
export function readingId(input: ReadingIdInput): string {
  return `r1-${hash('sha256', readingIdMaterial(input), 'hex').slice(0, 32)}`;
}
