import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { fr } from './fr.ts';
import { CATALOGUES, pickLang, translator } from './index.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('French and English have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort());
  });

  it('every message is non-empty and has the same placeholders in both languages', () => {
    for (const key of Object.keys(fr) as (keyof typeof fr)[]) {
      expect(fr[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
      expect(placeholders(en[key]), key).toEqual(placeholders(fr[key]));
    }
  });

  it('chooses ?lang= first, then the cookie, then French', () => {
    expect(pickLang('en', 'fr')).toBe('en');
    expect(pickLang(undefined, 'en')).toBe('en');
    expect(pickLang('de', 'xx')).toBe('fr');
    expect(pickLang(undefined, undefined)).toBe('fr');
  });

  it('puts values in and leaves unknown placeholders visible', () => {
    expect(translator('en')('overview.gap', { kind: 'blood pressure', days: 3 })).toBe(
      'no blood pressure reading for 3 days',
    );
    expect(translator('fr')('overview.gap', { kind: 'tension artérielle' })).toBe(
      'aucune mesure de tension artérielle depuis {days} jours',
    );
    expect(Object.keys(CATALOGUES)).toEqual(['fr', 'en']);
  });
});
