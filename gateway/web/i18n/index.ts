/** The two message catalogues and the language choice: `?lang=` first, then the `lang` cookie, then French. */
import { en } from './en.ts';
import { fr, type MessageKey } from './fr.ts';

export type { MessageKey } from './fr.ts';
export const LANGS = ['fr', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const CATALOGUES: Readonly<Record<Lang, Readonly<Record<MessageKey, string>>>> = { fr, en };

export function isLang(v: unknown): v is Lang {
  return v === 'fr' || v === 'en';
}

export function pickLang(query: unknown, cookie: unknown): Lang {
  if (isLang(query)) return query;
  if (isLang(cookie)) return cookie;
  return 'fr';
}

export type Translate = (key: MessageKey, vars?: Readonly<Record<string, string | number>>) => string;

export function translator(lang: Lang): Translate {
  const cat = CATALOGUES[lang];
  return (key, vars) => {
    const text = cat[key];
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  };
}

/** Whether a string is a key of the catalogues (for codes mapped to plain-language reasons). */
export function hasKey(key: string): key is MessageKey {
  return key in fr;
}
