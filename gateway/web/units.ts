/**
 * Values and units as a person reads them, in the page's language: the decimal separator of the
 * language (`18,9` in French, `18.9` in English) and the usual symbol of a UCUM unit (`mm[Hg]` is
 * `mmHg`). UCUM codes are for machines, not people (UCUM §1, unitsofmeasure.org/ucum): the journal and
 * the Bundles keep the codes, only the pages show these symbols.
 */
import type { Lang } from './i18n/index.ts';

/** UCUM code → the symbol shown (a code not listed is shown as it is: `kg`, `mg/dL`, `%`, `mmol/L`…). */
const UNIT_SYMBOL: Readonly<Record<string, string>> = {
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '[degF]': '°F',
  '/min': '/min',
  '[lb_av]': 'lb',
  '[in_i]': 'in',
  'kg/m2': 'kg/m²',
  '{beats}/min': '/min',
};

const LOCALE: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' };

export function unitSymbol(ucum: string): string {
  return Object.hasOwn(UNIT_SYMBOL, ucum) ? (UNIT_SYMBOL[ucum] ?? ucum) : ucum;
}

/** A number with the language's decimal separator and the given decimal places (as many as it has when absent). */
export function formatNumber(lang: Lang, value: number, decimals?: number): string {
  return value.toLocaleString(LOCALE[lang], {
    useGrouping: false,
    ...(decimals !== undefined
      ? { minimumFractionDigits: decimals, maximumFractionDigits: decimals }
      : { maximumFractionDigits: 20 }),
  });
}

/** `18,9 mmHg` (fr) / `18.9 mmHg` (en); the value alone when there is no unit. */
export function formatQuantity(lang: Lang, value: number, unit?: string, decimals?: number): string {
  const n = formatNumber(lang, value, decimals);
  return unit ? `${n} ${unitSymbol(unit)}` : n;
}
