/**
 * The audit chain's hash must never change for a given entry: journals written by earlier versions
 * are verified with today's code. This holds the canonical encoding to its first definition.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../gateway/contracts.ts';
import { auditHash, canonicalDetail, GENESIS_HASH } from '../../gateway/journal/rules.ts';

/** The encoding as first written: sorted entries, one JSON.stringify of the whole array. */
function firstDefinition(prev: string, e: Omit<AuditEntry, 'hash'>): string {
  const detail = e.detail
    ? Object.fromEntries(Object.entries(e.detail).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : null;
  const canonical = JSON.stringify([
    e.seq,
    e.at,
    e.event,
    e.readingId ?? null,
    e.deviceId ?? null,
    e.patientId ?? null,
    e.kind ?? null,
    detail,
  ]);
  return createHash('sha256').update(prev).update('\n').update(canonical).digest('hex');
}

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const entry = fc.record({
  seq: fc.integer({ min: 1, max: 2 ** 40 }),
  at: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
  event: fc.string({ minLength: 1, maxLength: 20 }),
  readingId: optional(fc.string({ maxLength: 40 })),
  deviceId: optional(fc.string({ maxLength: 20 })),
  patientId: optional(fc.string({ maxLength: 20 })),
  kind: optional(fc.constantFrom('body-weight', 'blood-pressure', 'glucose', 'é"\\\u2028')),
  detail: optional(
    fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 6 },
    ),
  ),
});

describe('audit hash', () => {
  it('is byte for byte the first definition, for any entry', () => {
    fc.assert(
      fc.property(entry, fc.constantFrom(GENESIS_HASH, 'ab'.repeat(32)), (e, prev) => {
        const clean = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Omit<
          AuditEntry,
          'hash'
        >;
        expect(auditHash(prev, clean)).toBe(firstDefinition(prev, clean));
        expect(auditHash(prev, clean, canonicalDetail(clean.detail))).toBe(firstDefinition(prev, clean));
      }),
      { numRuns: 3000 },
    );
  });

  it('pins a known entry', () => {
    const e = {
      seq: 7,
      at: 1_700_000_000_000,
      event: 'reading.stored',
      readingId: 'r1-00112233445566778899aabbccddeeff',
      deviceId: 'scale-1',
      patientId: 'p1',
      kind: 'body-weight' as const,
      detail: { state: 'pending', code: 'MEDGW_ERR_X' },
    };
    expect(canonicalDetail(e.detail)).toBe('{"code":"MEDGW_ERR_X","state":"pending"}');
    expect(auditHash(GENESIS_HASH, e)).toBe(firstDefinition(GENESIS_HASH, e));
    // keys an object orders on its own (integer-like first) or treats specially
    for (const detail of [{ b: 1, '10': 2, '9': 3, a: null }, JSON.parse('{"__proto__": "x", "a": 1}')]) {
      const odd = { ...e, detail };
      expect(auditHash(GENESIS_HASH, odd)).toBe(firstDefinition(GENESIS_HASH, odd));
    }
  });
});
