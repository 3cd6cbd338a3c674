import { describe, expect, it } from 'vitest';
import { backoffDelay, CircuitBreaker, parseRetryAfter } from './breaker.ts';

describe('backoff, Retry-After and circuit breaker', () => {
  it('grows exponentially with jitter between half and all of the ceiling, capped', () => {
    const policy = { baseMs: 1000, maxMs: 10_000 };
    expect(backoffDelay(1, policy, () => 0)).toBe(500);
    expect(backoffDelay(1, policy, () => 1)).toBe(1000);
    expect(backoffDelay(3, policy, () => 0)).toBe(2000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4000);
    expect(backoffDelay(20, policy, () => 1)).toBe(10_000);
  });

  it('applies a configured ± jitter share around the exponential delay', () => {
    const policy = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };
    expect(backoffDelay(3, policy, () => 0)).toBe(3200);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(4000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4800);
    expect(backoffDelay(1, { ...policy, jitter: 0 }, () => 0.9)).toBe(1000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 10, 23, 10, 0, 0);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('opens after the threshold, lets one probe through after the pause, closes on success', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000 });
    b.failure(0);
    b.failure(0);
    expect(b.allow(0)).toBe(true);
    b.failure(0);
    expect(b.state(10)).toBe('open');
    expect(b.allow(500)).toBe(false);
    expect(b.allow(1000)).toBe(true);
    expect(b.allow(1000)).toBe(false);
    b.failure(1000);
    expect(b.state(1500)).toBe('open');
    expect(b.allow(2000)).toBe(true);
    b.success();
    expect(b.state(2000)).toBe('closed');
    expect(b.allow(2000)).toBe(true);
  });
});
