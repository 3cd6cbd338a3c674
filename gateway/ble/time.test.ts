import { describe, expect, it } from 'vitest';
import { decodeCurrentTime } from '../../drivers/codecs/current-time.ts';
import type { Measurement } from '../../drivers/types.ts';
import { coincidentFor, currentTimeFor, zoneOffsetMinutes } from './time.ts';

describe('device time helpers', () => {
  it('knows the Paris offset in winter and in summer', () => {
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 0, 15, 12))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 6, 15, 12))).toBe(120);
    expect(zoneOffsetMinutes('UTC', Date.UTC(2026, 6, 15, 12))).toBe(0);
  });

  it('writes the local wall clock with the external-reference adjust reason', () => {
    const bytes = currentTimeFor(Date.UTC(2026, 10, 23, 11, 30, 15, 500), 'Europe/Paris');
    const ct = decodeCurrentTime(bytes);
    expect(ct.dateTime).toEqual({ year: 2026, month: 11, day: 23, hours: 12, minutes: 30, seconds: 15 });
    expect(ct.dayOfWeek).toBe('monday');
    expect(ct.fractions256).toBe(128);
    expect(ct.adjustReason.externalReferenceTimeUpdate).toBe(true);
  });

  it('corrects readings of the old clock with the first pair and new readings with the second', () => {
    const gatewayMs = Date.UTC(2026, 10, 23, 11, 0, 0);
    const before = { device: { year: 2094, month: 1, day: 1, hours: 0, minutes: 10, seconds: 0 }, gatewayMs };
    const after = {
      device: { year: 2026, month: 11, day: 23, hours: 12, minutes: 0, seconds: 0 },
      gatewayMs,
      deviceClockSet: true,
    };
    const m = (dt: Measurement['deviceTime']): Measurement => ({
      kind: 'glucose',
      source: '2A18',
      ...(dt ? { deviceTime: dt } : {}),
      components: [],
      final: true,
    });
    const old = m({ year: 2094, month: 1, day: 1, hours: 0, minutes: 5, seconds: 0 });
    const fresh = m({ year: 2026, month: 11, day: 23, hours: 12, minutes: 3, seconds: 0 });
    const stale = m({ year: 2026, month: 11, day: 22, hours: 8, minutes: 0, seconds: 0 });
    const now = gatewayMs + 5 * 60_000;
    expect(coincidentFor(old, { before, after }, now)).toBe(before);
    expect(coincidentFor(fresh, { before, after }, now)).toBe(after);
    expect(coincidentFor(stale, { before, after }, now)).toBe(before);
    expect(coincidentFor(old, { before }, now)).toBe(before);
  });
});
