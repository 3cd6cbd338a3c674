/**
 * bench/results.json: one row per measured figure, `{name, value, unit, reference: {name, value}, ratio}`.
 * Every benchmark merges its rows by name, so a run never clobbers the rows of another benchmark.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  readonly ratio?: number;
  readonly [extra: string]: unknown;
}

export const RESULTS_PATH = 'bench/results.json';

export function mergeRows(existing: readonly BenchRow[], rows: readonly BenchRow[]): BenchRow[] {
  const out = [...existing];
  for (const row of rows) {
    const i = out.findIndex((r) => r.name === row.name);
    if (i >= 0) out[i] = row;
    else out.push(row);
  }
  return out;
}

export function writeRows(rows: readonly BenchRow[], path = RESULTS_PATH): void {
  const existing: BenchRow[] = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BenchRow[]) : [];
  writeFileSync(path, `${JSON.stringify(mergeRows(existing, rows), null, 2)}\n`);
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns calls per second. */
export function throughput(fn: () => unknown, ms = 300): number {
  const warmUntil = performance.now() + ms / 4;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) fn();
    calls += 64;
    now = performance.now();
  }
  return calls / ((now - start) / 1000);
}

/** The same for an asynchronous `fn`, each call awaited before the next: calls per second. */
export async function throughputAsync(fn: () => Promise<unknown>, ms = 300): Promise<number> {
  const warmUntil = performance.now() + ms / 4;
  while (performance.now() < warmUntil) await fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) await fn();
    calls += 64;
    now = performance.now();
  }
  return calls / ((now - start) / 1000);
}
