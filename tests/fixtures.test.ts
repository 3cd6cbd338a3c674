/**
 * The one generic fixture runner. Each drivers/fixtures/<characteristic>/<case>.json holds real bytes
 * (with the public source they come from) and the whole expected result, or the expected error code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../drivers/decode.ts';
import { parseHex } from '../drivers/reader.ts';

interface Fixture {
  readonly description: string;
  readonly source: string;
  readonly characteristic: string;
  readonly hex: string;
  readonly driver?: string;
  readonly expect?: { readonly fields: unknown; readonly observations?: unknown };
  readonly error?: string;
}

const root = 'drivers/fixtures';
const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('golden fixtures', () => {
  it('there are fixtures to run', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    const fixture = JSON.parse(readFileSync(join(root, file), 'utf8')) as Fixture;
    it(`${file}: ${fixture.description}`, () => {
      expect(fixture.source, 'every fixture cites where its bytes come from').toBeTruthy();
      expect(
        Boolean(fixture.expect) !== Boolean(fixture.error),
        'a fixture expects a result or an error',
      ).toBe(true);
      const run = () => decodeFrame(fixture.characteristic, parseHex(fixture.hex), fixture.driver);
      if (fixture.error) {
        expect(run).toThrow(expect.objectContaining({ code: fixture.error }));
        return;
      }
      const result = run();
      expect(result.fields).toEqual(fixture.expect!.fields);
      if (fixture.expect!.observations !== undefined)
        expect(result.observations).toEqual(fixture.expect!.observations);
    });
  }
});
