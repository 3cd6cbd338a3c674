/** HTML building blocks of the pages: escaping, the DSFR page frame, forms with their CSRF field. */
import type { Lang, MessageKey, Translate } from './i18n/index.ts';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

/** A trusted HTML fragment (already escaped). */
export interface Html {
  readonly html: string;
}

export function raw(html: string): Html {
  return { html };
}

/** Tagged template: interpolated values are escaped unless they are `Html` (or arrays of it). */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return { html: out };
}

function render(v: unknown): string {
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (typeof v === 'object' && 'html' in (v as object)) return (v as Html).html;
  return esc(v);
}

export type PageId =
  | 'status'
  | 'devices'
  | 'device'
  | 'patients'
  | 'quarantine'
  | 'exchanges'
  | 'overview'
  | 'login'
  | 'error';

export interface PageContext {
  readonly lang: Lang;
  readonly t: Translate;
  /** CSRF token of the session, absent on the login page. */
  readonly csrf?: string;
  /** Path of the current page without query (for the language switch). */
  readonly path: string;
  /** The list parameters of the current page (listing.ts), kept by the language switch. */
  readonly search?: string;
  readonly flash?: { readonly kind: 'success' | 'error' | 'info'; readonly text: string };
}

const NAV: ReadonlyArray<[PageId, string, MessageKey]> = [
  ['status', '/status', 'nav.status'],
  ['devices', '/devices', 'nav.devices'],
  ['patients', '/patients', 'nav.patients'],
  ['quarantine', '/quarantine', 'nav.quarantine'],
  ['exchanges', '/exchanges', 'nav.exchanges'],
  ['overview', '/overview', 'nav.overview'],
];

/** The hidden CSRF field every form carries. */
export function csrfField(ctx: PageContext): Html {
  return h`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
}

/**
 * A one-button form (POST, CSRF). `object` names what the button acts on, for screen readers, as
 * hidden text after the visible label (so the accessible name starts with the visible text).
 */
export function actionForm(
  ctx: PageContext,
  action: string,
  label: string,
  object: string,
  variant: 'primary' | 'secondary' | 'tertiary' = 'secondary',
  hidden: Readonly<Record<string, string>> = {},
): Html {
  const cls = variant === 'primary' ? 'fr-btn fr-btn--sm' : `fr-btn fr-btn--sm fr-btn--${variant}`;
  const fields = Object.entries(hidden).map(([k, v]) => h`<input type="hidden" name="${k}" value="${v}">`);
  return h`<form method="post" action="${action}" class="medgw-inline">${csrfField(ctx)}${fields}<button type="submit" class="${cls}">${label}<span class="fr-sr-only"> — ${object}</span></button></form>`;
}

export function flash(ctx: PageContext): Html {
  if (!ctx.flash) return raw('');
  const role = ctx.flash.kind === 'error' ? 'alert' : 'status';
  return h`<div class="fr-alert fr-alert--${ctx.flash.kind} fr-alert--sm fr-mb-3w" role="${role}"><p>${ctx.flash.text}</p></div>`;
}

type CellValue = Html | string | number | undefined;

/** A table cell: a header cell of its row (`th scope="row"`), or a data cell with an optional class. */
export interface Cell {
  readonly v: CellValue;
  readonly th?: boolean;
  readonly cls?: string;
  /** data-* attributes of the cell. */
  readonly attrs?: Readonly<Record<string, string>>;
}

export interface Row {
  readonly cells: ReadonlyArray<CellValue | Cell>;
  /** Attributes of the `tr` (data-* for tests and scripts). */
  readonly attrs?: Readonly<Record<string, string>>;
}

const attributes = (a: Readonly<Record<string, string>> | undefined) =>
  Object.entries(a ?? {})
    .map(([k, v]) => ` ${esc(k)}="${esc(v)}"`)
    .join('');

const isCell = (c: CellValue | Cell): c is Cell => typeof c === 'object' && c !== null && 'v' in c;

/**
 * A DSFR table with a caption, its cells wrapping (fr-table--multiline) so that it fits its column;
 * on a phone each row becomes a block, each cell labelled by its column (`data-label`, medgw.css).
 */
export function table(caption: string, head: readonly string[], rows: readonly Row[], id?: string): Html {
  const body = rows.map(
    (r) =>
      h`<tr${raw(
        Object.entries(r.attrs ?? {})
          .map(([k, v]) => ` ${esc(k)}="${esc(v)}"`)
          .join(''),
      )}>${r.cells.map((c, i) => {
        const cell = isCell(c) ? c : { v: c };
        const extra = raw(`${cell.cls ? ` class="${esc(cell.cls)}"` : ''}${attributes(cell.attrs)}`);
        return cell.th
          ? h`<th scope="row" data-label="${head[i] ?? ''}"${extra}>${cell.v}</th>`
          : h`<td data-label="${head[i] ?? ''}"${extra}>${cell.v}</td>`;
      })}</tr>`,
  );
  return h`<div class="fr-table fr-table--no-caption fr-table--multiline medgw-table"${id ? raw(` id="${esc(id)}"`) : ''}><div class="fr-table__wrapper"><div class="fr-table__container"><div class="fr-table__content"><table><caption>${caption}</caption><thead><tr>${head.map((c) => h`<th scope="col">${c}</th>`)}</tr></thead><tbody>${body}</tbody></table></div></div></div></div>`;
}

const LOCALE: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' };

export function formatTime(lang: Lang, ms: number | undefined, never: string): string {
  if (ms === undefined || !Number.isFinite(ms)) return never;
  return new Date(ms).toLocaleString(LOCALE[lang], { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatAge(t: Translate, ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return t('age.minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('age.hours', { n: hours });
  return t('age.days', { n: Math.floor(hours / 24) });
}

/** The whole page: DSFR header with the main menu, skip link, main content, footer, scripts. */
export function page(ctx: PageContext, id: PageId, title: string, body: Html): string {
  const { t } = ctx;
  const other: Lang = ctx.lang === 'fr' ? 'en' : 'fr';
  const signedIn = ctx.csrf !== undefined && id !== 'login';
  // DSFR's header script copies the tool links into `.fr-header__menu-links` (the phone menu): the menu
  // block is always there, the navigation only once signed in (dsfr.module.js, HeaderLinks.init)
  const nav = h`<div class="fr-header__menu medgw-menu" id="medgw-menu"><div class="fr-container"><div class="fr-header__menu-links"></div>${
    signedIn
      ? h`<nav class="fr-nav" id="medgw-nav" aria-label="${t('nav.main')}"><ul class="fr-nav__list">${NAV.map(
          ([pid, href, key]) =>
            h`<li class="fr-nav__item"><a class="fr-nav__link" href="${href}"${pid === id || (pid === 'devices' && id === 'device') ? raw(' aria-current="page"') : ''}>${t(key)}</a></li>`,
        )}</ul></nav>`
      : ''
  }</div></div>`;
  const logout = signedIn
    ? h`<li><form method="post" action="/logout">${csrfField(ctx)}<button type="submit" class="fr-btn fr-btn--tertiary-no-outline fr-icon-logout-box-r-line">${t('app.logout')}</button></form></li>`
    : raw('');
  const doc = h`<!doctype html>
<html lang="${ctx.lang}" data-fr-scheme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — medgw</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="icon" href="/favicon.ico" sizes="32x32">
<link rel="stylesheet" href="/dsfr/dsfr.min.css">
<link rel="stylesheet" href="/dsfr/utility/icons/icons.min.css">
<link rel="stylesheet" href="/web/medgw.css">
</head>
<body>
<div class="fr-skiplinks"><nav class="fr-container" aria-label="${t('app.skip')}"><ul class="fr-skiplinks__list"><li><a class="fr-link" href="#content">${t('app.skip')}</a></li></ul></nav></div>
<header class="fr-header">
<div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row">
<div class="fr-header__brand"><div class="fr-header__service"><a href="/status" title="${t('app.title')}"><p class="fr-header__service-title">medgw</p></a><p class="fr-header__service-tagline">${t('app.tagline')}</p></div></div>
<div class="fr-header__tools"><div class="fr-header__tools-links"><ul class="fr-btns-group">
<li><a class="fr-btn fr-btn--tertiary-no-outline fr-icon-translate-2" href="${ctx.path}?${ctx.search ? `${ctx.search}&` : ''}lang=${other}" hreflang="${other}" lang="${other}" title="${t('app.otherLanguageName')}">${t('app.otherLanguage')}</a></li>
${logout}
</ul></div></div>
</div></div></div>
${nav}
</header>
<main id="content" class="fr-container fr-py-4w" tabindex="-1">
<h1>${title}</h1>
<div id="medgw-live-announce" class="fr-sr-only" aria-live="polite"></div>
${flash(ctx)}
${body}
</main>
<footer class="fr-footer" id="footer"><div class="fr-container"><div class="fr-footer__body"><div class="fr-footer__content"><p class="fr-footer__content-desc">${t('app.footer')}</p></div></div></div></footer>
<script type="module" src="/dsfr/dsfr.module.min.js"></script>
${signedIn ? raw(`<script type="module" src="/web/live.js" data-updated="${esc(t('app.updated', { what: title }))}"></script>`) : ''}
</body>
</html>
`;
  return doc.html;
}
