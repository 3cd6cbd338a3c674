/**
 * Import directions (docs: ARCHITECTURE.md, "Top-level folders and who owns what"): reads the
 * relative imports of every committed source file outside the tests (static, re-exports, side-effect
 * and dynamic `import()`) and checks the folder rules. Today's exceptions are listed below, each with
 * why it is there: the list may only shrink. A new exception fails the test; a fixed one fails it too
 * until it is removed from the list.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Import {
  readonly from: string;
  readonly to: string;
}

const SOURCES = ['kernel', 'drivers', 'cloud-bridge', 'gateway', 'simulators'];

function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '--', ...SOURCES], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|mts|mjs)$/.test(f) && !/\.test\.ts$/.test(f));
}

const IMPORT =
  /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importsOf(file: string): Import[] {
  const src = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec) out.push({ from: file, to: normalize(join(dirname(file), spec)) });
  }
  return out;
}

/** The folder a file belongs to for the rules: top-level, and one level down inside gateway/. */
function area(file: string): string {
  const [top, sub] = file.split('/');
  if (top !== 'gateway') return top ?? file;
  return sub?.includes('.') ? 'gateway' : `gateway/${sub}`;
}

const TOP: Record<string, readonly string[]> = {
  // the shared kernel (the error catalogue): every layer imports it, it imports nothing of ours
  kernel: ['kernel'],
  // pure device knowledge: nothing else of ours
  drivers: ['drivers', 'kernel'],
  // the national side: the vocabulary and types of drivers only
  'cloud-bridge': ['cloud-bridge', 'drivers', 'kernel'],
  // device and national-side stand-ins: drivers only (written apart from the gateway's decoders)
  simulators: ['simulators', 'drivers', 'kernel'],
  gateway: ['gateway', 'drivers', 'cloud-bridge', 'kernel'],
};

/** Inside gateway/: what a folder must not import (higher layers, or a sibling it must not know). */
const GATEWAY_FORBIDDEN: Record<string, readonly string[]> = {
  // the HTTP layer knows neither the pages, nor the admin API, nor the operations it serves
  'gateway/http': ['gateway/web', 'gateway/admin', 'gateway/ops', 'gateway/cli', 'gateway/ble'],
  // the operations service is below every door (pages, admin API, command line)
  'gateway/ops': ['gateway/web', 'gateway/http', 'gateway/admin', 'gateway/cli'],
  // the runtime's parts never reach up into a door
  'gateway/ble': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/mqtt': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/journal': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/registry': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/pipeline': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/forwarder': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/storage': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  'gateway/config': ['gateway/web', 'gateway/admin', 'gateway/http', 'gateway/cli', 'gateway/ops'],
  // the admin API and its client are below the command line
  'gateway/admin': ['gateway/cli', 'gateway/web'],
  // the sealing key and its cipher: the kernel only (every store that seals is above it)
  'gateway/secrets': [
    'gateway',
    ...['admin', 'ble', 'cli', 'config', 'forwarder', 'http', 'journal', 'mqtt', 'ops'].map(
      (d) => `gateway/${d}`,
    ),
    ...['pipeline', 'registry', 'storage', 'web', 'embedded', 'cgm'].map((d) => `gateway/${d}`),
    'cloud-bridge',
    'drivers',
    'simulators',
  ],
};

/** Today's exceptions, `from -> to`, each with its reason. Remove a line when its import goes. */
const KNOWN: Record<string, string> = {
  'gateway/ble/sim.ts -> simulators/ble/cuff.ts':
    'the `--ble sim` launcher, loaded by import() in sim mode only (tests/start/lazy-modules.test.ts)',
  'gateway/ble/sim.ts -> simulators/ble/glucometer.ts':
    'the `--ble sim` launcher, loaded by import() in sim mode only (tests/start/lazy-modules.test.ts)',
  'gateway/ble/sim.ts -> simulators/ble/radio.ts':
    'the `--ble sim` launcher, loaded by import() in sim mode only (tests/start/lazy-modules.test.ts)',
  'gateway/ble/sim.ts -> simulators/ble/scale.ts':
    'the `--ble sim` launcher, loaded by import() in sim mode only (tests/start/lazy-modules.test.ts)',
  'gateway/embedded/mqtt-device.ts -> simulators/mqtt/device.ts':
    'the demo devices of `npm start`, loaded by import() only when the demo runs (tests/start/lazy-modules.test.ts)',
  'gateway/embedded/mqtt-device.ts -> simulators/mqtt/payloads.ts':
    'the demo devices of `npm start`, loaded by import() only when the demo runs (tests/start/lazy-modules.test.ts)',
  'gateway/embedded/sandbox.ts -> simulators/sandbox/index.ts':
    'the embedded sandbox of `medgw start`, loaded by import() only without a national-side URL (tests/start/lazy-modules.test.ts)',
  'gateway/cli/commands/sandbox.ts -> simulators/sandbox/index.ts':
    '`medgw sandbox` starts the sandbox; the command is loaded by import() only when run (gateway/cli/main.ts)',
};

/** Import circles of today, each with its reason (none left); a new circle fails, and so does a broken one still listed. */
const KNOWN_CIRCLES: Record<string, string> = {};

/** Strongly connected components of more than one file (Tarjan), each as its sorted file list. */
function circles(imports: readonly Import[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const members: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      members.push(w);
    } while (w !== v);
    if (members.length > 1) out.push(members.sort().join(' '));
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out.sort();
}

/**
 * The data directory's sealing key is read in one place, gateway/secrets: no other source names the
 * key file, reads MEDGW_TOKEN_KEY or runs the AES-256-GCM cipher itself (comments may mention them).
 */
const KEY_READS: readonly RegExp[] = [
  /['"`]token\.key['"`]/,
  /\.MEDGW_TOKEN_KEY\b|\[\s*['"`]MEDGW_TOKEN_KEY['"`]\s*\]/,
  /\bcreate(?:Cipheriv|Decipheriv)\b|['"`]aes-256-gcm['"`]/i,
];

function withoutComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function keyReaders(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, src] of files) {
    if (file.startsWith('gateway/secrets/')) continue;
    const code = withoutComments(src);
    if (KEY_READS.some((re) => re.test(code))) out.push(file);
  }
  return out.sort();
}

function violations(imports: readonly Import[]): string[] {
  const out = new Set<string>();
  for (const { from, to } of imports) {
    const a = area(from);
    const b = area(to);
    const top = from.split('/')[0] ?? '';
    const allowed = TOP[top];
    const targetTop = to.split('/')[0] ?? '';
    if (allowed && SOURCES.includes(targetTop) && !allowed.includes(targetTop)) out.add(`${from} -> ${to}`);
    if (GATEWAY_FORBIDDEN[a]?.includes(b)) out.add(`${from} -> ${to}`);
  }
  return [...out].sort();
}

describe('import directions', () => {
  const imports = sourceFiles().flatMap(importsOf);

  it('reads the imports of the sources (the reader itself works)', () => {
    expect(imports.length).toBeGreaterThan(500);
    // a known import of each form: static, type-only, re-export, dynamic
    const has = (from: string, to: string) => imports.some((i) => i.from === from && i.to === to);
    expect(has('gateway/web/plugin.ts', 'gateway/http/errors.ts')).toBe(true);
    expect(has('gateway/web/deps.ts', 'gateway/ops/operations.ts')).toBe(true);
    expect(has('gateway/admin/server.ts', 'gateway/http/errors.ts')).toBe(true);
  });

  it('a rule breaks when an import goes the wrong way', () => {
    expect(
      violations([
        { from: 'drivers/decode.ts', to: 'gateway/log.ts' },
        { from: 'drivers/decode.ts', to: 'kernel/errors.ts' },
        { from: 'kernel/errors.ts', to: 'drivers/vocabulary.ts' },
        { from: 'gateway/http/server.ts', to: 'gateway/web/plugin.ts' },
        { from: 'gateway/journal/sqlite.ts', to: 'gateway/admin/ops.ts' },
        { from: 'gateway/web/plugin.ts', to: 'gateway/http/server.ts' },
      ]),
    ).toEqual([
      'drivers/decode.ts -> gateway/log.ts',
      'gateway/http/server.ts -> gateway/web/plugin.ts',
      'gateway/journal/sqlite.ts -> gateway/admin/ops.ts',
      'kernel/errors.ts -> drivers/vocabulary.ts',
    ]);
  });

  it('finds a circle', () => {
    expect(
      circles([
        { from: 'a.ts', to: 'b.ts' },
        { from: 'b.ts', to: 'c.ts' },
        { from: 'c.ts', to: 'a.ts' },
        { from: 'c.ts', to: 'd.ts' },
      ]),
    ).toEqual(['a.ts b.ts c.ts']);
  });

  it('no import circle, but for the listed ones', () => {
    expect(circles(imports)).toEqual(Object.keys(KNOWN_CIRCLES).sort());
  });

  it('only gateway/secrets reads the sealing key (the rule itself breaks on a reader elsewhere)', () => {
    const sources = new Map(sourceFiles().map((f) => [f, readFileSync(f, 'utf8')] as const));
    // the reader works: the secrets module itself matches, and a reader placed elsewhere is found
    const own = sources.get('gateway/secrets/key.ts') ?? '';
    expect(KEY_READS.some((re) => re.test(withoutComments(own)))).toBe(true);
    expect(
      keyReaders(
        new Map([
          ['gateway/ble/store.ts', "const k = readFileSync(join(dir, 'token.key'));"],
          ['cloud-bridge/x.ts', 'const k = env.MEDGW_TOKEN_KEY;'],
          ['gateway/storage/y.ts', "createCipheriv('aes-256-gcm', k, iv)"],
          ['gateway/storage/z.ts', '/** sealed with <dataDir>/token.key (MEDGW_TOKEN_KEY) */'],
          ['gateway/secrets/key.ts', own],
        ]),
      ),
    ).toEqual(['cloud-bridge/x.ts', 'gateway/ble/store.ts', 'gateway/storage/y.ts']);
    expect(keyReaders(sources)).toEqual([]);
  });

  it('every import follows the folder rules, but for the listed exceptions', () => {
    expect(violations(imports)).toEqual(Object.keys(KNOWN).sort());
  });
});
