import { describe, expect, it } from 'vitest';
import { formatNumber, formatQuantity, unitSymbol } from './units.ts';

describe('values and units as people read them', () => {
  it('writes the decimal separator of the language and the decimals the device gave', () => {
    expect(formatQuantity('fr', 18.9, 'mm[Hg]', 1)).toBe('18,9 mmHg');
    expect(formatQuantity('en', 18.9, 'mm[Hg]', 1)).toBe('18.9 mmHg');
    expect(formatQuantity('fr', 72, 'kg', 1)).toBe('72,0 kg');
    expect(formatQuantity('fr', 1234.5, 'mg/dL')).toBe('1234,5 mg/dL');
    expect(formatNumber('en', 0.125)).toBe('0.125');
    expect(formatQuantity('fr', 97, undefined, 0)).toBe('97');
  });

  it('shows the usual symbol of the UCUM codes the drivers produce, other codes as they are', () => {
    expect(unitSymbol('Cel')).toBe('°C');
    expect(unitSymbol('/min')).toBe('/min');
    expect(unitSymbol('[lb_av]')).toBe('lb');
    expect(unitSymbol('kg/m2')).toBe('kg/m²');
    expect(unitSymbol('mm[Hg]')).toBe('mmHg');
    expect(unitSymbol('%')).toBe('%');
    expect(unitSymbol('mmol/L')).toBe('mmol/L');
    expect(unitSymbol('toString')).toBe('toString');
  });
});
