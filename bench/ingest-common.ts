/**
 * Helpers shared by the ingest, journal, delivery and memory benchmarks: sizes from the environment,
 * temp directories, percentiles, a silent logger, readings shaped as the pipeline stores them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import type { Observation } from '../drivers/types.ts';
import type { NewReading } from '../gateway/contracts.ts';

export const silentLog = pino({ level: 'silent' });

/** A positive integer from the environment (`MEDGW_BENCH_…`), or the default. */
export function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${name}=${raw}: give a positive integer`);
  }
  return n;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `medgw-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The q-th percentile (0..1) of the samples, nearest rank. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Rounds a figure for the results table: 3 significant decimals below 10, integers above. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  return Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 1000) / 1000;
}

export function ratio(value: number, reference: number): number {
  return Math.round((value / reference) * 1000) / 1000;
}

/** A blood-pressure panel as the pipeline stores it (normalized, canonical units, three components). */
export function bloodPressure(seq: number, utcMs: number): Observation {
  const utc = new Date(utcMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const time = { utc, device: utc.slice(0, 19), quality: 'synced' as const };
  const sys = 110 + (seq % 30);
  const dia = 70 + (seq % 15);
  return {
    kind: 'blood-pressure',
    loinc: '85354-9',
    mdc: '150020',
    time,
    components: [
      { kind: 'systolic', loinc: '8480-6', mdc: '150021', value: sys, decimals: 0, unit: 'mm[Hg]', time },
      { kind: 'diastolic', loinc: '8462-4', mdc: '150022', value: dia, decimals: 0, unit: 'mm[Hg]', time },
      {
        kind: 'mean-arterial',
        loinc: '8478-0',
        mdc: '150023',
        value: Math.round(((sys + 2 * dia) / 3) * 10) / 10,
        decimals: 1,
        unit: 'mm[Hg]',
        time,
      },
    ],
  };
}

/** `count` pending readings of `devices` devices, with distinct deterministic-looking ids. */
export function pendingReadings(
  count: number,
  devices: number,
  tag: string,
  patientId?: string,
): NewReading[] {
  const base = Date.UTC(2026, 10, 22, 7, 0, 0);
  return Array.from({ length: count }, (_, i) => ({
    id: `bench-${tag}-${i}`,
    deviceId: `bench-dev-${i % devices}`,
    ...(patientId ? { patientId } : {}),
    observation: bloodPressure(i, base + i * 60_000),
    state: 'pending' as const,
  }));
}

let gcFn: (() => void) | undefined;

/** Full garbage collection (exposed at run time), so memory figures measure what is still referenced. */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** RSS and V8 heap in use, in MiB, after a full collection. */
export function memoryNow(): { rssMiB: number; heapMiB: number } {
  collectGarbage();
  const m = process.memoryUsage();
  return { rssMiB: m.rss / 1048576, heapMiB: m.heapUsed / 1048576 };
}
