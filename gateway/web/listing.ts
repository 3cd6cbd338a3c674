/**
 * Search, filters and paging of the long lists (patients, devices, exchanges, readings to check):
 * plain GET forms and links, so they work without JavaScript and a filtered page can be bookmarked.
 * `?q=` searches names and ids (case and accents ignored), `?patient=`, `?kind=`, `?state=` filter,
 * `?page=` pages by PAGE_SIZE rows.
 */
import { type Html, h, type PageContext, raw } from './html.ts';

export const PAGE_SIZE = 50;
const MAX_TEXT = 200;

export interface ListQuery {
  readonly q: string;
  readonly patient: string;
  readonly kind: string;
  readonly state: string;
  readonly page: number;
}

export const NO_QUERY: ListQuery = { q: '', patient: '', kind: '', state: '', page: 1 };

/** The list parameters of a request's query string (anything else is ignored, a bad page is page 1). */
export function listQuery(query: unknown): ListQuery {
  const q = (query ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.trim().slice(0, MAX_TEXT) : '');
  const page = Number.parseInt(text(q.page), 10);
  return {
    q: text(q.q),
    patient: text(q.patient),
    kind: text(q.kind),
    state: text(q.state),
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
  };
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase('en');

/** Whether the search text is in one of the texts (no search matches everything). */
export function matches(q: string, ...texts: ReadonlyArray<string | undefined>): boolean {
  if (q === '') return true;
  const needle = fold(q);
  return texts.some((t) => t !== undefined && fold(t).includes(needle));
}

export interface Paged<T> {
  readonly items: readonly T[];
  readonly total: number;
  /** The page shown (the last one when the asked page is beyond it). */
  readonly page: number;
  readonly pages: number;
  /** Position of the first item of the page in the whole list (0-based). */
  readonly offset: number;
}

export function paginate<T>(all: readonly T[], page: number, size = PAGE_SIZE): Paged<T> {
  const pages = Math.max(1, Math.ceil(all.length / size));
  const shown = Math.min(Math.max(1, page), pages);
  const offset = (shown - 1) * size;
  return { items: all.slice(offset, offset + size), total: all.length, page: shown, pages, offset };
}

/** The URL of the list with these parameters (empty ones left out, page 1 implied). */
export function listHref(path: string, query: ListQuery, page = query.page): string {
  const p = new URLSearchParams();
  for (const k of ['q', 'patient', 'kind', 'state'] as const) if (query[k] !== '') p.set(k, query[k]);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** The list parameters of a request's query string, as a query string (for the language switch). */
export function listSearch(query: unknown): string {
  const q = listQuery(query);
  return listHref('', q).replace(/^\?/, '');
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

export interface FilterFields {
  readonly patients?: readonly Choice[];
  readonly kinds?: readonly Choice[];
  readonly states?: readonly Choice[];
}

const filtering = (q: ListQuery) => q.q !== '' || q.patient !== '' || q.kind !== '' || q.state !== '';

/** The search and filter form (GET), the count of results and, when filtering, a link to clear it. */
export function filterForm(ctx: PageContext, path: string, query: ListQuery, fields: FilterFields): Html {
  const { t } = ctx;
  const select = (name: 'patient' | 'kind' | 'state', label: string, choices?: readonly Choice[]) =>
    choices
      ? h`<div class="fr-select-group"><label class="fr-label" for="f-${name}">${label}</label><select class="fr-select" id="f-${name}" name="${name}"><option value="">${t('filter.any')}</option>${choices.map(
          (c) =>
            h`<option value="${c.value}"${c.value === query[name] ? raw(' selected') : ''}>${c.label}</option>`,
        )}</select></div>`
      : '';
  return h`<form method="get" action="${path}" class="medgw-filters" role="search" aria-label="${t('filter.title')}">
<div class="fr-input-group"><label class="fr-label" for="f-q">${t('filter.q')}<span class="fr-hint-text">${t('filter.qHint')}</span></label><input class="fr-input" type="search" id="f-q" name="q" value="${query.q}" maxlength="${MAX_TEXT}"></div>
${select('patient', t('filter.patient'), fields.patients)}${select('kind', t('filter.kind'), fields.kinds)}${select('state', t('filter.state'), fields.states)}
<div class="medgw-filters__go"><button type="submit" class="fr-btn fr-btn--secondary">${t('filter.submit')}</button>${filtering(query) ? h` <a class="fr-link" href="${path}">${t('filter.clear')}</a>` : ''}</div>
</form>`;
}

/** The number of results, and "nothing matches" when filtering found nothing. */
export function resultCount(ctx: PageContext, query: ListQuery, total: number): Html {
  if (total === 0 && filtering(query)) return h`<p class="medgw-count">${ctx.t('filter.none')}</p>`;
  return filtering(query) || total > PAGE_SIZE
    ? h`<p class="medgw-count">${ctx.t('filter.results', { total })}</p>`
    : raw('');
}

/** DSFR pagination: previous, the pages (around the current one), next. Nothing when one page holds all. */
export function pager(ctx: PageContext, path: string, query: ListQuery, paged: Paged<unknown>): Html {
  const { t } = ctx;
  if (paged.pages <= 1) return raw('');
  const numbers = new Set([1, paged.page - 1, paged.page, paged.page + 1, paged.pages]);
  const shown = [...numbers].filter((n) => n >= 1 && n <= paged.pages).sort((a, b) => a - b);
  const items: Html[] = [];
  shown.forEach((n, i) => {
    if (i > 0 && n - (shown[i - 1] ?? n) > 1)
      items.push(h`<li><span class="fr-pagination__link">…</span></li>`);
    const title = t('paging.page', { page: n, pages: paged.pages });
    items.push(
      n === paged.page
        ? h`<li><a class="fr-pagination__link" aria-current="page" title="${title}">${n}</a></li>`
        : h`<li><a class="fr-pagination__link" href="${listHref(path, query, n)}" title="${title}">${n}</a></li>`,
    );
  });
  const edge = (n: number, rel: 'prev' | 'next', label: string, on: boolean) => {
    const cls = `fr-pagination__link fr-pagination__link--${rel} fr-pagination__link--lg-label`;
    return on
      ? h`<li><a class="${cls}" href="${listHref(path, query, n)}" rel="${rel}">${label}</a></li>`
      : h`<li><a class="${cls}" aria-disabled="true" role="link">${label}</a></li>`;
  };
  return h`<nav class="fr-pagination fr-mt-3w" aria-label="${t('paging.label')}"><ul class="fr-pagination__list">${edge(paged.page - 1, 'prev', t('paging.previous'), paged.page > 1)}${items}${edge(paged.page + 1, 'next', t('paging.next'), paged.page < paged.pages)}</ul></nav>`;
}
