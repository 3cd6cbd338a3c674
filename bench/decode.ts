/**
 * Decode throughput per registered characteristic (frames/s, real fixture bytes from drivers/fixtures)
 * beside JSON.parse of the equivalent JSON reading (the decoded result as JSON text), measured in the
 * same run; ratio = decode / JSON.parse. Rows: `decode-<uuid>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODECS } from '../drivers/codecs/index.ts';
import { decodeFrame } from '../drivers/decode.ts';
import { parseHex } from '../drivers/reader.ts';
import { type BenchRow, throughput } from './results.ts';

interface Fixture {
  readonly characteristic: string;
  readonly hex: string;
  readonly driver?: string;
  readonly expect?: unknown;
}

function framesOf(uuid: string): { bytes: Uint8Array; driver?: string }[] {
  const dir = join('drivers', 'fixtures', uuid);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture)
    .filter((f) => f.expect !== undefined)
    .map((f) => ({ bytes: parseHex(f.hex), ...(f.driver ? { driver: f.driver } : {}) }));
}

/** `only`: the 16-bit UUIDs to measure (a row added or changed), every registered codec when absent. */
export function decodeBench(ms = 500, only?: readonly string[]): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const codec of CODECS) {
    if (only && !only.some((u) => u.toUpperCase() === codec.uuid)) continue;
    const frames = framesOf(codec.uuid);
    if (frames.length === 0) continue;
    const json = frames.map((f) => JSON.stringify(decodeFrame(codec.uuid, f.bytes, f.driver)));
    let i = 0;
    let j = 0;
    const decodeOne = () => {
      const f = frames[i++ % frames.length]!;
      return decodeFrame(codec.uuid, f.bytes, f.driver);
    };
    const parseOne = () => JSON.parse(json[j++ % json.length]!);
    // Alternate short rounds of both so a change of machine load hits both sides of the ratio alike.
    const rounds = 5;
    let decode = 0;
    let parse = 0;
    for (let k = 0; k < rounds; k++) {
      decode += throughput(decodeOne, ms / rounds) / rounds;
      parse += throughput(parseOne, ms / rounds) / rounds;
    }
    rows.push({
      name: `decode-${codec.uuid.toLowerCase()}`,
      value: Math.round(decode),
      unit: 'frames/s',
      reference: {
        name: `JSON.parse of the equivalent JSON reading (${frames.length} fixture frames)`,
        value: Math.round(parse),
      },
      ratio: Number((decode / parse).toFixed(3)),
    });
  }
  return rows;
}
