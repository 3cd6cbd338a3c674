/**
 * A continuous glucose monitor's sensor values, as a provider reads a day of them: an inline SVG trace
 * with the target range shaded, the time spent in each glucose range, and the same values as a table.
 * Everything is read from the journal's local rows (state `local`: the values kept on this gateway until
 * their period is summarized and acknowledged, gateway/cgm/summaries.ts); nothing here is sent anywhere.
 *
 * Ranges and cut-offs: Battelino T. et al., "Clinical Targets for Continuous Glucose Monitoring Data
 * Interpretation: Recommendations From the International Consensus on Time in Range", Diabetes Care
 * 2019;42(8):1593-1603 (doi:10.2337/dci19-0028): time below range < 54 mg/dL (< 3.0 mmol/L, level 2) and
 * 54-69 mg/dL (3.0-3.8 mmol/L, level 1), time in range 70-180 mg/dL (3.9-10.0 mmol/L), time above range
 * 181-250 mg/dL (10.1-13.9 mmol/L, level 1) and > 250 mg/dL (> 13.9 mmol/L, level 2).
 *
 * Choices:
 * - A day is a civil day in the gateway's zone (`timezone`), as CGM software shows a daily view; the day
 *   shown by default is the latest one that has values; the others still kept are offered by links and
 *   a selector (GET, so it works without JavaScript).
 * - Only values the gateway keeps as valid are shown: a value the sensor marked invalid, or whose time
 *   could not be checked, is quarantined (never `local`), and a value without a number or a trusted time
 *   is left out. A HI / LO value (comparator) is plotted and counted at its bound, as the summaries do.
 * - The unit is the one the values are stored in (mg/dL for every CGM the gateway reads; mmol/L
 *   handled with the consensus's own mmol/L cut-offs), written as a person reads it (units.ts).
 */

import { dayNumberOf, midnightOf } from '../cgm/summaries.ts';
import type { OutboxRecord } from '../contracts.ts';
import { esc, type Html, h, type PageContext, raw, table } from './html.ts';
import type { Lang } from './i18n/index.ts';
import { formatNumber, unitSymbol } from './units.ts';

const DAY_MS = 86_400_000;
/** MDC_CONC_GLU_ISF: glucose in interstitial fluid (IEEE 11073-10101). */
const MDC_GLUCOSE_ISF = '160212';
/** mg/dL per mmol/L of glucose (molar mass 180.156 g/mol). */
const MGDL_PER_MMOL = 18.0156;

/** One plotted sensor value. */
export interface CgmValue {
  readonly utcMs: number;
  /** In the view's unit. */
  readonly value: number;
  /** HI / LO: the sensor's range ends there. */
  readonly comparator?: '<' | '>';
  /** (unit)/min, when the sensor sent a trend. */
  readonly trend?: number;
  readonly decimals?: number;
}

/** The five ranges of the consensus, lowest first. */
export const RANGES = ['very-low', 'low', 'in-range', 'high', 'very-high'] as const;
export type GlucoseRange = (typeof RANGES)[number];

/** The cut-offs between the ranges in a unit (consensus, both units as it states them). */
interface CutOffs {
  /** below: very low */
  readonly veryLow: number;
  /** below: low; from it: in range */
  readonly low: number;
  /** at most: in range */
  readonly high: number;
  /** at most: high; above: very high */
  readonly veryHigh: number;
  /** the axis of the trace */
  readonly axis: readonly [number, number];
  readonly decimals: number;
}

const MGDL: CutOffs = { veryLow: 54, low: 70, high: 180, veryHigh: 250, axis: [40, 400], decimals: 0 };
const MMOL: CutOffs = { veryLow: 3.0, low: 3.9, high: 10.0, veryHigh: 13.9, axis: [2.2, 22.2], decimals: 1 };

function cutOffsOf(unit: string): CutOffs {
  return unit === 'mmol/L' ? MMOL : MGDL;
}

/** The range a value falls in (consensus cut-offs in the value's unit). */
export function rangeOf(value: number, unit: string): GlucoseRange {
  const c = cutOffsOf(unit);
  if (value < c.veryLow) return 'very-low';
  if (value < c.low) return 'low';
  if (value <= c.high) return 'in-range';
  if (value <= c.veryHigh) return 'high';
  return 'very-high';
}

export interface TimeInRanges {
  readonly n: number;
  readonly counts: Readonly<Record<GlucoseRange, number>>;
}

export function timeInRanges(values: readonly CgmValue[], unit: string): TimeInRanges {
  const counts: Record<GlucoseRange, number> = {
    'very-low': 0,
    low: 0,
    'in-range': 0,
    high: 0,
    'very-high': 0,
  };
  for (const v of values) counts[rangeOf(v.value, unit)] += 1;
  return { n: values.length, counts };
}

/** A civil day of the zone as `YYYY-MM-DD`, from its day number since 1970-01-01. */
function dayKey(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

function dayNumberOfKey(key: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(key)) return undefined;
  const ms = Date.parse(`${key}T00:00:00Z`);
  return Number.isFinite(ms) && dayKey(ms / DAY_MS) === key ? ms / DAY_MS : undefined;
}

export interface CgmDay {
  /** `YYYY-MM-DD` in the zone. */
  readonly day: string;
  /** Start and end (exclusive) of the day, UTC ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** Its values, oldest first. */
  readonly values: readonly CgmValue[];
}

export interface CgmView {
  readonly unit: string;
  readonly timezone: string;
  /** The days that still have values, oldest first. */
  readonly days: readonly string[];
  /** The day shown: the one asked for when it has values, else the latest. */
  readonly shown: CgmDay;
  /** A day asked for that has no value kept (summarized and deleted, or never received). */
  readonly missing?: string;
}

/** A plotted value of a journal row, in the given unit, or undefined when it is not one to show. */
function sensorValueOf(r: OutboxRecord, unit?: string): (CgmValue & { unit: string }) | undefined {
  const o = r.observation;
  if (r.state !== 'local' || o?.kind !== 'glucose' || o.mdc !== MDC_GLUCOSE_ISF) return undefined;
  if (typeof o.value !== 'number' || !Number.isFinite(o.value) || !o.time.utc) return undefined;
  if (o.time.quality === 'untrusted') return undefined;
  const utcMs = Date.parse(o.time.utc);
  if (!Number.isFinite(utcMs)) return undefined;
  const stored = o.unit ?? 'mg/dL';
  const to = unit ?? stored;
  const convert = (x: number) =>
    stored === to ? x : to === 'mmol/L' ? x / MGDL_PER_MMOL : stored === 'mmol/L' ? x * MGDL_PER_MMOL : x;
  const trend = o.context?.['trend'];
  return {
    utcMs,
    unit: to,
    value: convert(o.value),
    ...(o.comparator ? { comparator: o.comparator } : {}),
    ...(typeof trend === 'number' && Number.isFinite(trend) ? { trend: convert(trend) } : {}),
    ...(stored === to && o.decimals !== undefined ? { decimals: o.decimals } : {}),
  };
}

/**
 * The day view of a device's local rows (`journal.list({ deviceId, state: 'local' })`); undefined when
 * none of them is a sensor value to show.
 */
export function cgmView(
  records: readonly OutboxRecord[],
  timezone: string,
  day?: string,
): CgmView | undefined {
  // an empty `?day=` asks for nothing in particular
  const asked = day === '' ? undefined : day;
  let unit: string | undefined;
  const byDay = new Map<number, CgmValue[]>();
  // the rows come in about time order: the day of the previous value is checked first, by its bounds
  let current = { day: 0, from: 0, to: 0 };
  for (const r of records) {
    const v = sensorValueOf(r, unit);
    if (!v) continue;
    unit ??= v.unit;
    if (v.utcMs < current.from || v.utcMs >= current.to) {
      const day = dayNumberOf(timezone, v.utcMs);
      current = { day, from: midnightOf(timezone, day), to: midnightOf(timezone, day + 1) };
    }
    const day = current.day;
    const list = byDay.get(day);
    if (list) list.push(v);
    else byDay.set(day, [v]);
  }
  if (unit === undefined || byDay.size === 0) return undefined;
  const numbers = [...byDay.keys()].sort((a, b) => a - b);
  const askedNumber = asked !== undefined ? dayNumberOfKey(asked) : undefined;
  const shownNumber =
    askedNumber !== undefined && byDay.has(askedNumber) ? askedNumber : (numbers.at(-1) as number);
  const values = [...(byDay.get(shownNumber) ?? [])].sort((a, b) => a.utcMs - b.utcMs);
  return {
    unit,
    timezone,
    days: numbers.map(dayKey),
    shown: {
      day: dayKey(shownNumber),
      startMs: midnightOf(timezone, shownNumber),
      endMs: midnightOf(timezone, shownNumber + 1),
      values,
    },
    ...(asked !== undefined && askedNumber !== shownNumber ? { missing: asked } : {}),
  };
}

// --- rendering ----------------------------------------------------------------------------------------

const LOCALE: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' };

/** Intl formatters are costly to build (a page has hundreds of times): one per language and zone. */
const FORMATS = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(lang: Lang, timeZone: string, what: 'day' | 'clock'): Intl.DateTimeFormat {
  const key = `${what}|${lang}|${timeZone}`;
  let f = FORMATS.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(
      LOCALE[lang],
      what === 'day' ? { dateStyle: 'full', timeZone } : { hour: '2-digit', minute: '2-digit', timeZone },
    );
    FORMATS.set(key, f);
  }
  return f;
}

/** A number with the language's decimal separator and fixed decimals (units.ts formatNumber, cached). */
function fixed(lang: Lang, value: number, decimals: number): string {
  const key = `n|${lang}|${decimals}`;
  let f = FORMATS.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(LOCALE[lang], {
      useGrouping: false,
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
    FORMATS.set(key, f);
  }
  return f.format(value);
}

function dayLabel(lang: Lang, day: string): string {
  return dateFormat(lang, 'UTC', 'day').format(new Date(`${day}T12:00:00Z`));
}

function clock(lang: Lang, timezone: string, ms: number): string {
  return dateFormat(lang, timezone, 'clock').format(ms);
}

function glucose(lang: Lang, v: CgmValue, unit: string): string {
  const n = fixed(lang, v.value, v.decimals ?? cutOffsOf(unit).decimals);
  return v.comparator ? `${v.comparator} ${n}` : n;
}

function signed(lang: Lang, x: number): string {
  // `|| 0`: a rounded -0 would be written "-0,0"
  const r = Math.round(x * 10) / 10 || 0;
  const n = fixed(lang, r, 1);
  return r > 0 ? `+${n}` : n;
}

/** A percentage of the day's values, one decimal, in the page's language. */
export function percent(lang: Lang, count: number, n: number): string {
  return `${fixed(lang, n > 0 ? (100 * count) / n : 0, 1)} %`;
}

// The trace's drawing box (SVG user units); it scales to its column (medgw.css .medgw-cgm-trace).
const W = 720;
const H = 280;
const LEFT = 44;
const RIGHT = 44;
const TOP = 28;
const BOTTOM = 30;
const FONT = 15;
/** A gap longer than this breaks the line (three missed 5-minute readings). */
const GAP_MS = 16 * 60_000;

function trace(ctx: PageContext, view: CgmView): Html {
  const { t, lang } = ctx;
  const { unit, shown } = view;
  const c = cutOffsOf(unit);
  const [lo, hi] = c.axis;
  const x = (ms: number) =>
    LEFT + ((ms - shown.startMs) / (shown.endMs - shown.startMs)) * (W - LEFT - RIGHT);
  const y = (v: number) => TOP + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (H - TOP - BOTTOM);
  const f = (n: number) => n.toFixed(1);
  const lines: string[][] = [];
  let last: number | undefined;
  for (const v of shown.values) {
    if (last === undefined || v.utcMs - last > GAP_MS) lines.push([]);
    lines.at(-1)?.push(`${f(x(v.utcMs))},${f(y(v.value))}`);
    last = v.utcMs;
  }
  const sym = unitSymbol(unit);
  const ticks = [c.veryLow, c.low, c.high, c.veryHigh, hi];
  const hours = Math.round((shown.endMs - shown.startMs) / 3_600_000);
  const xTicks: number[] = [];
  for (let hour = 0; hour <= hours; hour += 3) xTicks.push(shown.startMs + hour * 3_600_000);
  const values = shown.values;
  const min = Math.min(...values.map((v) => v.value));
  const max = Math.max(...values.map((v) => v.value));
  const desc =
    values.length > 0
      ? t('cgm.traceDesc', {
          n: values.length,
          from: clock(lang, view.timezone, values[0]!.utcMs),
          to: clock(lang, view.timezone, values.at(-1)!.utcMs),
          min: formatNumber(lang, min, c.decimals),
          max: formatNumber(lang, max, c.decimals),
          unit: sym,
          low: formatNumber(lang, c.low, c.decimals),
          high: formatNumber(lang, c.high, c.decimals),
        })
      : '';
  const svg = `<svg class="medgw-cgm-trace" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="cgm-trace-title cgm-trace-desc" focusable="false" data-cgm-trace>
<title id="cgm-trace-title">${esc(t('cgm.traceTitle', { day: dayLabel(lang, shown.day) }))}</title>
<desc id="cgm-trace-desc">${esc(desc)}</desc>
<rect x="${LEFT}" y="${f(y(c.high))}" width="${W - LEFT - RIGHT}" height="${f(y(c.low) - y(c.high))}" fill="#b8fec9" data-cgm-band="${c.low}-${c.high}"/>
${ticks
  .map((v) => {
    // the target range's bounds and the top on the left, the level-2 cut-offs on the right (54 and 70
    // are too close to share a side)
    const right = v === c.veryLow || v === c.veryHigh;
    return `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#929292" stroke-width="0.5"${v === c.low || v === c.high ? '' : ' stroke-dasharray="4 4"'}/><text x="${right ? W - RIGHT + 6 : LEFT - 6}" y="${f(y(v) + 5)}" text-anchor="${right ? 'start' : 'end'}" font-size="${FONT}" fill="#161616">${formatNumber(lang, v, c.decimals)}</text>`;
  })
  .join('\n')}
${xTicks
  .map(
    (ms) =>
      `<line x1="${f(x(ms))}" x2="${f(x(ms))}" y1="${TOP}" y2="${H - BOTTOM}" stroke="#dddddd" stroke-width="0.5"/><text x="${f(x(ms))}" y="${H - BOTTOM + 20}" text-anchor="middle" font-size="${FONT}" fill="#161616">${esc(clock(lang, view.timezone, ms))}</text>`,
  )
  .join('\n')}
<text x="4" y="${FONT + 2}" font-size="${FONT}" fill="#161616">${esc(sym)}</text>
${lines
  .map((pts) =>
    pts.length === 1
      ? `<circle cx="${pts[0]?.split(',')[0]}" cy="${pts[0]?.split(',')[1]}" r="2" fill="#000091"/>`
      : `<polyline points="${pts.join(' ')}" fill="none" stroke="#000091" stroke-width="1.5" stroke-linejoin="round"/>`,
  )
  .join('\n')}
</svg>`;
  return raw(svg);
}

/** The labels of the five ranges in the unit, e.g. `54–69 mg/dL`. */
function rangeLabels(ctx: PageContext, unit: string): Record<GlucoseRange, string> {
  const { t, lang } = ctx;
  const c = cutOffsOf(unit);
  const n = (v: number) => formatNumber(lang, v, c.decimals);
  const step = c.decimals === 0 ? 1 : 0.1;
  const unitText = unitSymbol(unit);
  return {
    'very-low': t('cgm.range.below', { v: n(c.veryLow), unit: unitText }),
    low: t('cgm.range.between', { a: n(c.veryLow), b: n(c.low - step), unit: unitText }),
    'in-range': t('cgm.range.target', { a: n(c.low), b: n(c.high), unit: unitText }),
    high: t('cgm.range.between', { a: n(c.high + step), b: n(c.veryHigh), unit: unitText }),
    'very-high': t('cgm.range.above', { v: n(c.veryHigh), unit: unitText }),
  };
}

/** The section of the device page: day links, the trace, time in ranges, the table behind a disclosure. */
export function cgmSection(ctx: PageContext, view: CgmView, href: string): Html {
  const { t, lang } = ctx;
  const { shown, days, unit } = view;
  const i = days.indexOf(shown.day);
  const prev = i > 0 ? days[i - 1] : undefined;
  const next = i >= 0 && i < days.length - 1 ? days[i + 1] : undefined;
  const dayHref = (d: string) => `${href}?day=${d}#cgm`;
  const nav = h`<nav class="medgw-row medgw-cgm-days" aria-label="${t('cgm.days')}">${
    prev
      ? h`<a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="${dayHref(prev)}" rel="prev" data-cgm-prev="${prev}">${t('cgm.previous', { day: dayLabel(lang, prev) })}</a>`
      : ''
  }<form method="get" action="${href}#cgm" class="medgw-row"><div class="fr-select-group"><label class="fr-label" for="cgm-day">${t('cgm.day')}</label><select class="fr-select" id="cgm-day" name="day">${days.map(
    (d) =>
      h`<option value="${d}"${d === shown.day ? raw(' selected') : ''} data-cgm-day-option>${dayLabel(lang, d)}</option>`,
  )}</select></div><button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary">${t('cgm.show')}</button></form>${
    next
      ? h`<a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="${dayHref(next)}" rel="next" data-cgm-next="${next}">${t('cgm.next', { day: dayLabel(lang, next) })}</a>`
      : ''
  }</nav>`;
  const missing = view.missing
    ? h`<div class="fr-alert fr-alert--info fr-alert--sm fr-mb-2w" data-cgm-missing="${view.missing}"><p>${t('cgm.missing', { day: dayNumberOfKey(view.missing) !== undefined ? dayLabel(lang, view.missing) : view.missing })}</p></div>`
    : '';
  const tir = timeInRanges(shown.values, unit);
  const labels = rangeLabels(ctx, unit);
  const ranges = h`<ul class="medgw-plain" data-cgm-tir data-n="${tir.n}">${RANGES.map(
    (r) =>
      h`<li data-range="${r}" data-count="${tir.counts[r]}">${labels[r]}${t('app.colon')}<strong>${percent(lang, tir.counts[r], tir.n)}</strong></li>`,
  )}</ul>`;
  const withTrend = shown.values.some((v) => v.trend !== undefined);
  const sym = unitSymbol(unit);
  const head = [
    t('cgm.time'),
    t('cgm.value', { unit: sym }),
    ...(withTrend ? [t('cgm.trend', { unit: `${sym}/min` })] : []),
  ];
  const rows = shown.values.map((v) => ({
    attrs: { 'data-cgm-value': String(v.utcMs) },
    cells: [
      { v: clock(lang, view.timezone, v.utcMs), th: true },
      glucose(lang, v, unit),
      ...(withTrend ? [v.trend !== undefined ? signed(lang, v.trend) : '—'] : []),
    ],
  }));
  return h`<section class="fr-mt-4w" id="cgm" aria-labelledby="cgm-title" data-cgm-shown="${shown.day}">
<h2 id="cgm-title">${t('cgm.title')}</h2>
<p>${t('cgm.intro')}</p>
${nav}
${missing}<h3 class="fr-h5">${dayLabel(lang, shown.day)}</h3>
${trace(ctx, view)}
<p class="fr-text--sm">${t('cgm.band', { low: formatNumber(lang, cutOffsOf(unit).low, cutOffsOf(unit).decimals), high: formatNumber(lang, cutOffsOf(unit).high, cutOffsOf(unit).decimals), unit: sym })}</p>
<h3 class="fr-h6">${t('cgm.tirTitle', { n: tir.n })}</h3>
${ranges}
<p class="fr-text--sm">${t('cgm.source')}</p>
<details class="fr-mt-2w" data-cgm-table><summary>${t('cgm.tableSummary', { n: shown.values.length })}</summary>
${table(t('cgm.tableCaption', { day: dayLabel(lang, shown.day) }), head, rows)}
</details>
</section>`;
}
