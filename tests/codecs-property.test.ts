/**
 * Every codec of the registry, fed arbitrary bytes: it either decodes to a plain JSON value (no
 * undefined, no typed array, no NaN — JSON round trip is the identity) whose measurements are plain
 * JSON too, or throws a MedgwError whose code is in the catalogue. Nothing else may come out.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../drivers/codecs/index.ts';
import { decodeFrame } from '../drivers/decode.ts';
import { parseHex } from '../drivers/reader.ts';
import { ERROR_CATALOGUE, MedgwError } from '../kernel/errors.ts';

/** True when `value` survives JSON.stringify → JSON.parse unchanged (deep, key for key). */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value as Record<string, unknown>).every((v) => v !== undefined && isPlainJson(v));
  }
  return false;
}

type Outcome = { ok: true; fields: unknown; measurements: unknown } | { ok: false; error: unknown };

function run(decode: () => { fields: unknown; measurements: unknown }): Outcome {
  try {
    return { ok: true, ...decode() };
  } catch (error) {
    return { ok: false, error };
  }
}

function checkOutcome(outcome: Outcome): void {
  if (outcome.ok) {
    expect(isPlainJson(outcome.fields), JSON.stringify(outcome.fields)).toBe(true);
    expect(JSON.parse(JSON.stringify(outcome.fields))).toEqual(outcome.fields);
    expect(isPlainJson(outcome.measurements), JSON.stringify(outcome.measurements)).toBe(true);
    return;
  }
  expect(outcome.error).toBeInstanceOf(MedgwError);
  const code = (outcome.error as MedgwError).code;
  expect(Object.keys(ERROR_CATALOGUE)).toContain(code);
  expect((outcome.error as MedgwError).message.length).toBeGreaterThan(10);
}

/** Short frames most of the time (where every flag combination has its exact length), sometimes longer. */
const frames = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 64 }) },
);

/** The golden-fixture frames of a characteristic: real bytes to mutate, so deep decode paths are reached. */
function fixtureFrames(uuid: string): Uint8Array[] {
  const dir = join('drivers/fixtures', uuid);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseHex((JSON.parse(readFileSync(join(dir, f), 'utf8')) as { hex: string }).hex));
}

/** A real frame with a few bytes replaced, then cut or extended. */
function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.integer({ min: -3, max: 3 }),
      fc.uint8Array({ maxLength: 3 }),
    )
    .map(([seed, edits, resize, tail]) => {
      const out = Uint8Array.from(seed);
      for (const [at, value] of edits) if (out.length > 0) out[at % out.length] = value;
      if (resize < 0) return out.subarray(0, Math.max(0, out.length + resize));
      return Uint8Array.from([...out, ...tail.subarray(0, resize)]);
    });
}

describe('every registered codec, arbitrary bytes', () => {
  it('the registry is not empty and holds each UUID and name once', () => {
    expect(CODECS.length).toBeGreaterThan(0);
    expect(new Set(CODECS.map((c) => c.uuid)).size).toBe(CODECS.length);
    expect(new Set(CODECS.map((c) => c.name)).size).toBe(CODECS.length);
  });

  for (const codec of CODECS) {
    it(`${codec.uuid} (${codec.name}): JSON-serializable fields or a catalogued MedgwError`, () => {
      const quirkSets = [undefined, new Set<string>(codec.quirks ?? [])];
      fc.assert(
        fc.property(frames, fc.constantFrom(...quirkSets), (bytes, quirks) => {
          checkOutcome(
            run(() => {
              const fields = codec.decode(bytes, quirks);
              return { fields, measurements: codec.toMeasurements ? codec.toMeasurements(fields) : [] };
            }),
          );
        }),
        { numRuns: 1500 },
      );
    });

    const seeds = fixtureFrames(codec.uuid).filter((f) => f.length > 0);
    if (seeds.length > 0) {
      it(`${codec.uuid} (${codec.name}): mutated golden frames keep the same contract`, () => {
        let decoded = 0;
        fc.assert(
          fc.property(mutated(seeds), (bytes) => {
            const outcome = run(() => {
              const fields = codec.decode(bytes, new Set(codec.quirks ?? []));
              return { fields, measurements: codec.toMeasurements ? codec.toMeasurements(fields) : [] };
            });
            if (outcome.ok) decoded++;
            checkOutcome(outcome);
          }),
          { numRuns: 1500 },
        );
        // The mutations must reach the decoded path too, not only the refusals.
        expect(decoded).toBeGreaterThan(0);
      });
    }

    it(`${codec.uuid} (${codec.name}) through decodeFrame: the same contract`, () => {
      fc.assert(
        fc.property(frames, (bytes) => {
          checkOutcome(
            run(() => {
              const result = decodeFrame(codec.uuid, bytes);
              return { fields: result.fields, measurements: result.observations };
            }),
          );
        }),
        { numRuns: 300 },
      );
    });
  }
});
