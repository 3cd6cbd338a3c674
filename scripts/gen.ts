/**
 * Regenerates the files derived from a single source of truth (error catalogue → docs/errors.md, …).
 * `--check` regenerates in memory and fails when a checked-in file differs, so CI catches drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { clinicalMappingDoc } from './gen/clinical-mapping.ts';
import { configDoc } from './gen/config-doc.ts';
import { errorsDoc } from './gen/errors-doc.ts';
import { protobufDts, protobufJs } from './gen/protobuf.ts';
import { readmeDevices } from './gen/readme-devices.ts';
import { supportedDevicesDoc } from './gen/supported-devices.ts';

type Generator = () => { path: string; content: string } | Promise<{ path: string; content: string }>;

const GENERATORS: Generator[] = [
  errorsDoc,
  protobufJs,
  protobufDts,
  supportedDevicesDoc,
  configDoc,
  readmeDevices,
  clinicalMappingDoc,
];

const check = process.argv.includes('--check');
let stale = 0;
for (const generate of GENERATORS) {
  const { path, content } = await generate();
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    console.error(`${path} is out of date: run \`npm run gen\` and commit the result`);
    stale++;
  } else {
    writeFileSync(path, content);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
