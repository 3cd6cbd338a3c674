/**
 * `medgw start` loads what its configuration uses and nothing else (issue 13, layering): with a
 * national-side URL, no demo and BLE off, no module of simulators/ (device simulators, the sandbox),
 * not oidc-provider (behind the sandbox) and not the demo's parts are loaded. The gateway runs as a
 * child process with a module resolve hook (record-loads.mjs) that writes down every module URL it
 * resolves; the same start with the embedded sandbox, the demo and `--ble sim` shows those modules in
 * the record, so the recorder does see them when they are loaded (static or by `import()`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startMedgw } from '../support/gateway.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RECORDER = fileURLToPath(new URL('./record-loads.mjs', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A loaded file as a path inside the project (`gateway/app.ts`, `node_modules/fastify/…`), whether it
 * is under the checkout or under a node_modules the checkout links to (the real path is recorded).
 */
function inProject(file: string): string {
  const i = file.lastIndexOf('/node_modules/');
  if (i >= 0) return file.slice(i + 1);
  return relative(ROOT, file);
}

/** Starts `medgw start` with the recorder, waits until it runs, stops it; the resolved module paths. */
async function loadedBy(args: readonly string[], env: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medgw-lazy-'));
  dirs.push(dir);
  const loads = join(dir, 'loads.txt');
  const gw = startMedgw(['--data-dir', join(dir, 'data'), '--mqtt-port', '0', '--http-port', '0', ...args], {
    nodeArgs: ['--import', RECORDER],
    env: { ...env, MEDGW_TEST_LOADS: loads },
  });
  try {
    await gw.waitFor('the start-up banner', (out) => out.includes('Press Ctrl+C to stop.'), 40_000);
  } finally {
    await gw.stop();
  }
  const code = await gw.exited;
  const out = gw.output();
  expect(code, out).toBe(0);
  return readFileSync(loads, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file://'))
    .map((u) => inProject(fileURLToPath(u)));
}

/** What must stay unloaded unless the configuration asks for it (oidc-provider's files as one entry). */
function optional(paths: readonly string[]): string[] {
  return [
    ...new Set(
      paths
        .filter(
          (p) =>
            p.startsWith('simulators/') ||
            p.startsWith('node_modules/oidc-provider/') ||
            /^gateway\/embedded\/(demo|mqtt-device|pairing)\.ts$/.test(p) ||
            p === 'gateway/ble/sim.ts',
        )
        .map((p) => (p.startsWith('node_modules/oidc-provider/') ? 'oidc-provider' : p)),
    ),
  ].sort();
}

describe('medgw start loads the sandbox, the demo and the simulators only when used', () => {
  it('with a national-side URL, no demo and BLE off: none of them, nor oidc-provider', async () => {
    const loaded = await loadedBy(['--ble', 'off'], {
      MEDGW_NATIONAL_BASE_URL: 'https://api.mesures.example.test/mes',
    });
    // the record holds the start path: the gateway, its HTTP server, the broker, the forwarder
    expect(loaded).toContain('gateway/app.ts');
    expect(loaded).toContain('gateway/forwarder/component.ts');
    expect(loaded).toContain('gateway/embedded/sandbox.ts');
    expect(loaded.some((p) => p.startsWith('node_modules/fastify/'))).toBe(true);
    expect(loaded.some((p) => p.startsWith('node_modules/aedes/'))).toBe(true);
    expect(optional(loaded)).toEqual([]);
  }, 60_000);

  it('with the embedded sandbox, the demo and --ble sim: the recorder sees them loaded', async () => {
    const loaded = optional(await loadedBy(['--ble', 'sim', '--sandbox-port', '0'], {}));
    for (const p of [
      'simulators/sandbox/index.ts',
      'oidc-provider',
      'simulators/ble/radio.ts',
      'simulators/ble/glucometer.ts',
      'simulators/mqtt/device.ts',
      'gateway/ble/sim.ts',
      'gateway/embedded/demo.ts',
      'gateway/embedded/mqtt-device.ts',
      'gateway/embedded/pairing.ts',
    ]) {
      expect(loaded).toContain(p);
    }
  }, 60_000);
});
