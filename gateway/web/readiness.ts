/**
 * Readiness for /readyz: the registry and the journal answer, the journal has room for new readings
 * (else devices are being refused with MEDGW_ERR_JOURNAL_FULL), and the disk holding the data
 * directory keeps a margin of free space. Each failed condition gives its reason.
 */
import { statfsSync } from 'node:fs';
import type { Journal, Registry } from '../contracts.ts';
import type { JournalStats } from '../journal/rules.ts';

/** Free bytes below which the data disk counts as nearly full (SQLite needs room for its WAL). */
export const DEFAULT_MIN_FREE_DISK_BYTES = 64 * 1024 * 1024;
/** Bytes below the journal's byte limit at which it counts as full: about the size of a few readings. */
const BYTES_MARGIN = 16 * 1024;

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready, one short sentence each (no health value, no identity). */
  readonly reasons: readonly string[];
}

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function readiness(deps: {
  readonly journal: Journal;
  readonly registry: Registry;
  readonly dataDir: string;
  readonly now: number;
  readonly minFreeDiskBytes?: number | undefined;
}): Readiness {
  const reasons: string[] = [];
  try {
    deps.registry.listPatients();
  } catch {
    reasons.push('the registry does not answer');
  }
  try {
    // the SQLite and threaded journals give the held readings and limits beside the Journal contract
    const s = deps.journal.stats(deps.now) as Partial<JournalStats>;
    const held = s.held;
    const limits = s.limits;
    if (held && limits?.maxReadings !== undefined && held.readings >= limits.maxReadings) {
      reasons.push(`the journal is full: ${held.readings} readings held, limit ${limits.maxReadings}`);
    } else if (held && limits?.maxBytes !== undefined && held.bytes >= limits.maxBytes - BYTES_MARGIN) {
      reasons.push(`the journal is full: ${MiB(held.bytes)} held, limit ${MiB(limits.maxBytes)}`);
    }
  } catch {
    reasons.push('the journal does not answer');
  }
  try {
    const fs = statfsSync(deps.dataDir);
    const free = fs.bavail * fs.bsize;
    const min = deps.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES;
    if (free < min) reasons.push(`the data disk is nearly full: ${MiB(free)} free, ${MiB(min)} needed`);
  } catch (e) {
    reasons.push(`the data directory cannot be examined: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return { ready: reasons.length === 0, reasons };
}
