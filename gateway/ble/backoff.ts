/**
 * Retry delays: exponential backoff with "equal jitter" — half of the exponential step is fixed, the
 * other half random — so devices that failed together do not all come back at the same instant,
 * yet a retry never fires much earlier than its step.
 */

export interface BackoffOptions {
  /** First delay in ms (attempt 1). */
  readonly baseMs: number;
  /** Cap of the exponential step in ms. */
  readonly maxMs: number;
  /** Consecutive failures after which the device waits for its next advertisement at the capped delay. */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60_000, maxAttempts: 8 };

/** Delay before retry number `attempt` (1-based); `random` returns [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const n = Math.max(1, Math.floor(attempt));
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n - 1, 30));
  const half = step / 2;
  return Math.round(half + half * Math.min(Math.max(random(), 0), 1));
}
