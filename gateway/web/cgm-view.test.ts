/**
 * The CGM day view's rules on their own (cgm-view.ts): the consensus cut-offs at their edges in both
 * units, which journal rows are shown, HI / LO counted at their bound, the day asked for or the latest,
 * and the French decimal comma in the table.
 */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../drivers/types.ts';
import type { OutboxRecord } from '../contracts.ts';
import { cgmSection, cgmView, rangeOf, timeInRanges } from './cgm-view.ts';
import { translator } from './i18n/index.ts';

const ZONE = 'Europe/Paris';
// 3 December 2026 in Paris (UTC+1): from 2 December 23:00 UTC to 3 December 23:00 UTC
const DEC3 = Date.UTC(2026, 11, 2, 23);

function row(
  i: number,
  at: number,
  value: number,
  over: Partial<Observation> = {},
  state: OutboxRecord['state'] = 'local',
): OutboxRecord {
  return {
    id: `r${i}`,
    deviceId: 'cgm-1',
    kind: 'glucose',
    state,
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    observation: {
      kind: 'glucose',
      loinc: '2339-0',
      mdc: '160212',
      value,
      unit: 'mg/dL',
      time: { utc: new Date(at).toISOString(), quality: 'synced' },
      ...over,
    },
  };
}

describe('the consensus ranges', () => {
  it('cuts at 54 / 70 / 180 / 250 mg/dL, 70 and 180 inside the target range', () => {
    const cases: [number, string][] = [
      [53, 'very-low'],
      [54, 'low'],
      [69, 'low'],
      [70, 'in-range'],
      [180, 'in-range'],
      [181, 'high'],
      [250, 'high'],
      [251, 'very-high'],
    ];
    for (const [v, r] of cases) expect(rangeOf(v, 'mg/dL'), String(v)).toBe(r);
  });

  it('uses the consensus mmol/L cut-offs for values stored in mmol/L', () => {
    expect(rangeOf(2.9, 'mmol/L')).toBe('very-low');
    expect(rangeOf(3.8, 'mmol/L')).toBe('low');
    expect(rangeOf(3.9, 'mmol/L')).toBe('in-range');
    expect(rangeOf(10.0, 'mmol/L')).toBe('in-range');
    expect(rangeOf(10.1, 'mmol/L')).toBe('high');
    expect(rangeOf(14.0, 'mmol/L')).toBe('very-high');
  });
});

describe('the day view', () => {
  const records = [
    row(1, DEC3 - 3_600_000, 100), // 2 December, 23:00 in Paris
    row(2, DEC3 + 60_000, 40, { comparator: '<' }), // LO: counted at its bound
    row(3, DEC3 + 120_000, 120, { context: { trend: -0.04 } }),
    row(4, DEC3 + 180_000, 200, {
      time: { utc: new Date(DEC3 + 180_000).toISOString(), quality: 'untrusted' },
    }),
    row(5, DEC3 + 240_000, 300, {}, 'quarantined'),
    row(6, DEC3 + 300_000, 0, { value: undefined, dataAbsentReason: 'not-a-number' }),
    row(7, DEC3 + 360_000, 190.5, { decimals: 1 }),
  ];

  it('shows the latest day by default, only the values with a number and a trusted time', () => {
    const view = cgmView(records, ZONE)!;
    expect(view.days).toEqual(['2026-12-02', '2026-12-03']);
    expect(view.shown.day).toBe('2026-12-03');
    expect(view.shown.values.map((v) => v.value)).toEqual([40, 120, 190.5]);
    expect(view.missing).toBeUndefined();
    expect(timeInRanges(view.shown.values, view.unit).counts).toEqual({
      'very-low': 1,
      low: 0,
      'in-range': 1,
      high: 1,
      'very-high': 0,
    });
  });

  it('shows a day asked for, and says so when the day asked for has no value', () => {
    expect(cgmView(records, ZONE, '2026-12-02')?.shown.values.map((v) => v.value)).toEqual([100]);
    const gone = cgmView(records, ZONE, '2026-11-20')!;
    expect(gone.missing).toBe('2026-11-20');
    expect(gone.shown.day).toBe('2026-12-03');
    expect(cgmView(records, ZONE, 'not-a-day')?.missing).toBe('not-a-day');
    expect(cgmView(records, ZONE, '')?.missing).toBeUndefined();
    expect(cgmView([row(5, DEC3, 300, {}, 'quarantined')], ZONE)).toBeUndefined();
  });

  it('writes the table in the page language: LO with its sign, decimal comma, no "-0,0" trend', () => {
    const ctx = { lang: 'fr' as const, t: translator('fr'), path: '/devices/cgm-1' };
    const html = cgmSection(ctx, cgmView(records, ZONE)!, '/devices/cgm-1').html;
    const cells = [...html.matchAll(/<td data-label="[^"]*">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells).toEqual(['&lt; 40', '—', '120', '0,0', '190,5', '—']);
    expect(html).toContain('data-cgm-prev="2026-12-02"');
    expect(html).not.toContain('data-cgm-next');
    expect(html).toContain('<th scope="row" data-label="Heure de la mesure">00:01</th>');
  });
});
