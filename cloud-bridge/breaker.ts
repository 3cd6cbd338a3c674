/**
 * Retry pacing for the national side: exponential backoff with jitter, Retry-After honoured, and a
 * circuit breaker that stops sending after repeated failures and lets one probe through after a pause.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /**
   * Share of each delay drawn at random, added or taken (0.2: ±20 %). Absent: "equal jitter", between
   * half and all of the exponential delay.
   */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 15 * 60_000 };

/** Delay before attempt `attempt + 1` (attempt ≥ 1): base × 2^(attempt−1), capped, with jitter. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  if (policy.jitter === undefined) return Math.round(ceiling / 2 + (ceiling / 2) * random());
  const j = Math.max(0, Math.min(1, policy.jitter));
  return Math.max(0, Math.round(ceiling * (1 + j * (2 * random() - 1))));
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #openMs: number;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;

  constructor(options: { failureThreshold?: number; openMs?: number } = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#openMs = options.openMs ?? 30_000;
  }

  state(now: number): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return now - this.#openedAt >= this.#openMs ? 'half-open' : 'open';
  }

  /** When the breaker lets requests through again (ms since the epoch), if it is open. */
  reopensAt(): number | undefined {
    return this.#openedAt === undefined ? undefined : this.#openedAt + this.#openMs;
  }

  /** Whether a request may go now; in half-open only one probe at a time. */
  allow(now: number): boolean {
    const s = this.state(now);
    if (s === 'closed') return true;
    if (s === 'open') return false;
    if (this.#probing) return false;
    this.#probing = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#probing = false;
  }

  failure(now: number): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.#threshold) this.#openedAt = now;
    this.#probing = false;
  }
}
