/**
 * What the pages show, computed from the registry, the journal and the optional components:
 * per-patient latest readings and gaps, the completeness ledger per device, the exchanges.
 * No HTML here (the JSON views for providers' scripts use these too).
 */
import { CONSENT_KINDS } from '../../cloud-bridge/profiles.ts';
import type { TimeQuality } from '../../drivers/types.ts';
import type { OutboxRecord, OutboxState } from '../contracts.ts';
import type { DeviceHealth, WebDeps } from './deps.ts';

const DAY = 24 * 3600_000;
/** Enough to cover a gateway's live outbox; the pages are a window, the audit log is the history. */
const SCAN_LIMIT = 10_000;

export function allReadings(
  deps: WebDeps,
  filter: { patientId?: string; deviceId?: string; state?: OutboxState } = {},
): OutboxRecord[] {
  return deps.journal.list({ ...filter, limit: SCAN_LIMIT });
}

/** The taken time a delivery audit entry recorded (the values themselves are purged on delivery). */
export interface DeliveredTime {
  readonly utc?: string;
  readonly quality?: TimeQuality;
}

/**
 * The taken times of delivered readings, by reading id, from their `mes.delivered` audit entries (one
 * read of the latest entries, of one patient when given).
 */
export function deliveredTimes(
  deps: Pick<WebDeps, 'journal'>,
  patientId?: string,
): Map<string, DeliveredTime> {
  const out = new Map<string, DeliveredTime>();
  for (const e of deps.journal.auditList({ ...(patientId ? { patientId } : {}), limit: SCAN_LIMIT })) {
    if (e.event !== 'mes.delivered' || !e.readingId) continue;
    const { measuredAt, timeQuality } = e.detail ?? {};
    out.set(e.readingId, {
      ...(typeof measuredAt === 'string' ? { utc: measuredAt } : {}),
      ...(typeof timeQuality === 'string' ? { quality: timeQuality as TimeQuality } : {}),
    });
  }
  return out;
}

/** When a reading was taken and, apart, when the gateway received it. */
export interface ReadingTimes {
  /** When it was taken (ms); absent when the device gave no time (quality `received`) or none is known. */
  readonly taken?: number;
  /** The quality of the taken time (drivers/types.ts TimeQuality), when known. */
  readonly quality?: TimeQuality;
  /** When the gateway received it: recorded in its time, else when the journal stored it. */
  readonly received: number;
}

/**
 * A reading's times. A delivered reading's values are purged: its taken time is the one its delivery
 * audit entry recorded (`deliveredTimes`).
 */
export function readingTimes(r: OutboxRecord, delivered?: ReadonlyMap<string, DeliveredTime>): ReadingTimes {
  const time: DeliveredTime | undefined = r.observation ? r.observation.time : delivered?.get(r.id);
  const quality = time?.quality;
  const taken = time?.utc && quality !== 'received' ? Date.parse(time.utc) : Number.NaN;
  const received = r.observation?.time.received ? Date.parse(r.observation.time.received) : Number.NaN;
  return {
    ...(Number.isFinite(taken) ? { taken } : {}),
    ...(quality ? { quality } : {}),
    received: Number.isFinite(received) ? received : r.createdAt,
  };
}

/** When the reading was taken, when known (never its reception passed off as a taken time). */
export function takenAt(r: OutboxRecord): number | undefined {
  return readingTimes(r).taken;
}

/** What the BLE central knows of a device: only BLE devices are asked (it refuses other ids). */
export function healthOf(deps: WebDeps, deviceId: string): DeviceHealth | undefined {
  const d = deps.registry.getDevice(deviceId);
  if (d?.transport !== 'ble' || !deps.ble?.health) return undefined;
  return deps.ble.health(deviceId);
}

export interface PatientOverview {
  readonly id: string;
  readonly displayName: string;
  readonly linkStatus: 'none' | 'linked' | 'reauth-required' | 'consent-withdrawn';
  readonly devices: readonly string[];
  /**
   * The latest reading of each kind: when it was taken (absent when the device gave no time) and, apart,
   * when the gateway received it. The latest is the one taken last (received last when not dated).
   */
  readonly last: ReadonlyArray<{ readonly kind: string } & ReadingTimes>;
  readonly gaps: ReadonlyArray<{ readonly kind: string; readonly days: number } | { readonly kind: null }>;
}

export function patientOverview(deps: WebDeps): PatientOverview[] {
  const now = deps.clock.now();
  const gapAfter = deps.gapAfterMs ?? 3 * DAY;
  const devices = deps.registry.listDevices();
  return deps.registry.listPatients().map((p) => {
    const own = devices
      .filter((d) => d.patientId === p.id || Object.values(d.users ?? {}).includes(p.id))
      .map((d) => d.id);
    const last = new Map<string, PatientOverview['last'][number] & { at: number }>();
    const delivered = deliveredTimes(deps, p.id);
    for (const r of allReadings(deps, { patientId: p.id })) {
      // never sent: a quarantined reading, or a CGM sensor value kept local for its summaries
      if (r.state === 'quarantined' || r.state === 'local') continue;
      const times = readingTimes(r, delivered);
      const at = times.taken ?? times.received;
      if ((last.get(r.kind)?.at ?? -1) < at) last.set(r.kind, { kind: r.kind, ...times, at });
    }
    const gaps: PatientOverview['gaps'][number][] = [];
    if (last.size === 0 && own.length > 0) gaps.push({ kind: null });
    for (const [kind, { at }] of last) {
      if (now - at > gapAfter) gaps.push({ kind, days: Math.floor((now - at) / DAY) });
    }
    const link = deps.national?.links.get(p.id);
    return {
      id: p.id,
      displayName: p.displayName,
      linkStatus: link ? link.status : 'none',
      devices: own,
      last: [...last.values()].map(({ at: _at, ...l }) => l).sort((a, b) => a.kind.localeCompare(b.kind)),
      gaps,
    };
  });
}

export interface LedgerRow {
  readonly deviceId: string;
  readonly name: string;
  /** Records the device says it holds (RACP count), when the BLE central knows. */
  readonly reported?: number;
  /** Highest device sequence number committed (RACP cursor). */
  readonly cursor?: number;
  readonly received: number;
  readonly delivered: number;
  readonly waiting: number;
  readonly refused: number;
  /** reported − received, when the device reported a count. */
  readonly missing?: number;
}

export function ledger(deps: WebDeps): LedgerRow[] {
  return deps.registry.listDevices().map((d) => {
    const rs = allReadings(deps, { deviceId: d.id });
    const count = (s: readonly OutboxState[]) => rs.filter((r) => s.includes(r.state)).length;
    const reported = healthOf(deps, d.id)?.reportedRecords;
    const cursor = deps.journal.cursor(d.id);
    // A CGM's sensor values are deleted once summarized (gateway/cgm/summaries.ts): the rows left say
    // nothing of what is missing. Its summaries (kept after delivery) or kept values tell a CGM.
    const cgm = rs.some((r) => r.state === 'local' || r.kind === 'cgm-mean-glucose');
    return {
      deviceId: d.id,
      name: d.name ?? d.id,
      ...(reported !== undefined
        ? { reported, ...(cgm ? {} : { missing: Math.max(0, reported - rs.length) }) }
        : {}),
      ...(cursor !== undefined ? { cursor } : {}),
      received: rs.length,
      delivered: count(['delivered']),
      waiting: count(['pending', 'in-flight', 'held', 'quarantined']),
      refused: count(['dead-letter']),
    };
  });
}

/** Last reading time of a device (its last successful sync when the BLE central does not say). */
export function lastSync(deps: WebDeps, deviceId: string): number | undefined {
  const fromBle = healthOf(deps, deviceId)?.lastSyncAt;
  if (fromBle !== undefined) return fromBle;
  const rs = allReadings(deps, { deviceId });
  return rs.length ? Math.max(...rs.map((r) => r.createdAt)) : undefined;
}

export interface QueueSummary {
  readonly byState: Readonly<Record<OutboxState, number>>;
  readonly oldestUnsentAgeMs: number | null;
}

export function queue(deps: WebDeps): QueueSummary {
  const s = deps.journal.stats(deps.clock.now());
  return { byState: s.byState, oldestUnsentAgeMs: s.oldestUnsentAgeMs };
}

export { CONSENT_KINDS };
