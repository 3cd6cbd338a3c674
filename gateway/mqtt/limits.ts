/**
 * The embedded broker's limits against one device or client taking it down:
 * - DeviceRateLimit: a token bucket per device (perSecond refill, burst size). Messages over it are
 *   counted per 10 s window; a device that keeps exceeding it is disconnected and must back off
 *   before it may connect again (backoffSeconds, doubling per new disconnection, at most
 *   maxBackoffSeconds; a device quiet for maxBackoffSeconds starts again from the first step).
 * - FailureBackoff: wrong secrets per key (a device id, a remote address). After
 *   failuresBeforeBackoff failures the key must wait backoffSeconds, doubling with each further
 *   failure up to maxBackoffSeconds; a success clears it. Keys are held in a Map (an outside-chosen
 *   id such as `__proto__` is only a key), at most maxKeys of them (the oldest go first).
 */

export interface RateLimitOptions {
  readonly perSecond: number;
  readonly burst: number;
  /** Messages over the limit within one window before the device is disconnected. */
  readonly disconnectAfter: number;
  readonly backoffSeconds: number;
  readonly maxBackoffSeconds: number;
}

export interface AuthLimitOptions {
  /** Connections that may wait for a secret check; beyond it new ones are refused at once. */
  readonly maxPending: number;
  readonly failuresBeforeBackoff: number;
  readonly backoffSeconds: number;
  readonly maxBackoffSeconds: number;
}

/** The configuration defaults (gateway/config/schema.ts, mqtt.rateLimit and mqtt.auth). */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  perSecond: 20,
  burst: 200,
  disconnectAfter: 100,
  backoffSeconds: 10,
  maxBackoffSeconds: 600,
};

export const DEFAULT_AUTH_LIMITS: AuthLimitOptions = {
  maxPending: 256,
  failuresBeforeBackoff: 5,
  backoffSeconds: 1,
  maxBackoffSeconds: 300,
};

/** Over-limit messages are counted in windows of this length. */
export const RATE_WINDOW_MS = 10_000;

type Now = () => number;

interface Bucket {
  tokens: number;
  refilled: number;
  over: number;
  windowStart: number;
  strikes: number;
  until: number;
}

/** What to do with one message: take it, refuse it, or refuse it and disconnect the device. */
export type RateDecision = 'ok' | 'over' | 'disconnect';

export class DeviceRateLimit {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly options: RateLimitOptions,
    private readonly now: Now = Date.now,
  ) {}

  private bucket(id: string, now: number): Bucket {
    let b = this.buckets.get(id);
    if (!b) {
      b = {
        tokens: this.options.burst,
        refilled: now,
        over: 0,
        windowStart: now,
        strikes: 0,
        until: 0,
      };
      this.buckets.set(id, b);
    }
    return b;
  }

  /** One message of `id`; `firstOver` is true for its first refused message of the window. */
  take(id: string): { decision: RateDecision; firstOver: boolean } {
    const now = this.now();
    const b = this.bucket(id, now);
    const { perSecond, burst, disconnectAfter } = this.options;
    b.tokens = Math.min(burst, b.tokens + ((now - b.refilled) / 1000) * perSecond);
    b.refilled = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { decision: 'ok', firstOver: false };
    }
    if (now - b.windowStart >= RATE_WINDOW_MS) {
      b.windowStart = now;
      b.over = 0;
    }
    b.over += 1;
    return { decision: b.over >= disconnectAfter ? 'disconnect' : 'over', firstOver: b.over === 1 };
  }

  /** The device is being disconnected for its rate: starts (or lengthens) its back-off; returns it in ms. */
  strike(id: string): number {
    const now = this.now();
    const b = this.bucket(id, now);
    const { backoffSeconds, maxBackoffSeconds } = this.options;
    // quiet for the longest back-off since the last one ended: start again from the first step
    if (b.strikes > 0 && now - b.until > maxBackoffSeconds * 1000) b.strikes = 0;
    b.strikes += 1;
    const ms = Math.min(maxBackoffSeconds, backoffSeconds * 2 ** (b.strikes - 1)) * 1000;
    b.until = now + ms;
    b.over = 0;
    b.windowStart = now;
    return ms;
  }

  /** Milliseconds before `id` may connect again (0: now). */
  backoffRemaining(id: string): number {
    const b = this.buckets.get(id);
    return b ? Math.max(0, b.until - this.now()) : 0;
  }
}

interface Failures {
  count: number;
  last: number;
  until: number;
}

export class FailureBackoff {
  private readonly keys = new Map<string, Failures>();

  constructor(
    private readonly options: AuthLimitOptions,
    private readonly now: Now = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Milliseconds `key` must still wait before its next secret check (0: now). */
  blockedFor(key: string): number {
    const f = this.keys.get(key);
    return f ? Math.max(0, f.until - this.now()) : 0;
  }

  fail(key: string): void {
    const now = this.now();
    const { failuresBeforeBackoff, backoffSeconds, maxBackoffSeconds } = this.options;
    let f = this.keys.get(key);
    // failures long past (quiet for the longest back-off) are forgiven
    if (f && now - f.last > maxBackoffSeconds * 1000 && now >= f.until) f = undefined;
    const next: Failures = f ?? { count: 0, last: now, until: 0 };
    next.count += 1;
    next.last = now;
    if (next.count >= failuresBeforeBackoff) {
      const steps = next.count - failuresBeforeBackoff;
      next.until = now + Math.min(maxBackoffSeconds, backoffSeconds * 2 ** Math.min(steps, 30)) * 1000;
    }
    // re-inserted last: the Map's order is the order of the latest failure
    this.keys.delete(key);
    this.keys.set(key, next);
    if (this.keys.size > this.maxKeys) {
      const oldest = this.keys.keys().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
  }

  succeed(key: string): void {
    this.keys.delete(key);
  }
}
