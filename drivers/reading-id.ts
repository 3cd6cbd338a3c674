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
import { hash } from 'node:crypto';
import { deviceTimeText } from './normalize/time-text.ts';
import type { ComponentName, Measurement, MeasurementComponent, ObservationKind } from './types.ts';

export interface ReadingIdInput {
  /** Bluetooth system id (hex), when the device exposes one. */
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
 * known is ordered by integer comparison: the same order, since the rank follows the same comparison
 * and both sorts are stable. Any other name falls back to `localeCompare` itself.
 */
const RANK: ReadonlyMap<string, number> = new Map(
  (
    [
      'glucose',
      'weight',
      'height',
      'bmi',
      'systolic',
      'diastolic',
      'mean-arterial',
      'pulse',
      'temperature',
      'spo2',
      'pulse-amplitude-index',
      'cuff-pressure',
    ] satisfies ComponentName[]
  )
    .sort((a, b) => a.localeCompare(b))
    .map((name, i) => [name, i]),
);

/**
 * The components in material order; the measurement's own array when it is already in that order.
 * A stable insertion sort by rank (a reading has a handful of components).
 */
function inMaterialOrder(components: readonly MeasurementComponent[]): readonly MeasurementComponent[] {
  const n = components.length;
  const ranks: number[] = [];
  let ordered = true;
  for (let i = 0; i < n; i++) {
    const rank = RANK.get(components[i]!.name);
    if (rank === undefined) return [...components].sort(byName);
    if (i > 0 && rank < ranks[i - 1]!) ordered = false;
    ranks.push(rank);
  }
  if (ordered) return components;
  const out = [...components];
  for (let i = 1; i < n; i++) {
    const c = out[i]!;
    const rank = ranks[i]!;
    let j = i - 1;
    while (j >= 0 && ranks[j]! > rank) {
      out[j + 1] = out[j]!;
      ranks[j + 1] = ranks[j]!;
      j--;
    }
    out[j + 1] = c;
    ranks[j + 1] = rank;
  }
  return out;
}

/** The canonical text the id hashes; exported so tests and docs can show what makes two ids differ. */
export function readingIdMaterial(input: ReadingIdInput): string {
  const m = input.measurement;
  const who = input.systemId ? `sys:${input.systemId.toLowerCase()}` : `dev:${input.deviceId}`;
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
