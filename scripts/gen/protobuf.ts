/**
 * Generates the static protobuf code of the MQTT reading (drivers/mqtt/reading.proto) with
 * protobufjs-cli: `pbjs -t static-module -w es6` and `pbts`. Checked in; `npm run gen:check` fails when
 * the checked-in code no longer matches the .proto.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROTO = 'drivers/mqtt/reading.proto';
const OUT = 'drivers/mqtt/generated';

let generated: Promise<{ js: string; dts: string }> | undefined;

function generate(): Promise<{ js: string; dts: string }> {
  generated ??= Promise.resolve().then(() => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-pb-'));
    try {
      const js = join(dir, 'reading.js');
      const dts = join(dir, 'reading.d.ts');
      // The runtime bridge re-exports protobufjs/minimal for Node's ESM loader (see protobuf-runtime.js).
      const bin = (name: string) => join('node_modules', '.bin', name);
      execFileSync(
        bin('pbjs'),
        ['-t', 'static-module', '-w', 'es6', '--dependency', './protobuf-runtime.js', '-o', js, PROTO],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      execFileSync(bin('pbts'), ['-o', dts, js], { stdio: ['ignore', 'ignore', 'inherit'] });
      return { js: readFileSync(js, 'utf8'), dts: readFileSync(dts, 'utf8') };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return generated;
}

export async function protobufJs(): Promise<{ path: string; content: string }> {
  return { path: `${OUT}/reading.js`, content: (await generate()).js };
}

export async function protobufDts(): Promise<{ path: string; content: string }> {
  return { path: `${OUT}/reading.d.ts`, content: (await generate()).dts };
}
