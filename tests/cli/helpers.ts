/** What the command-line tests share: running the real bin, and a BLE central on a test's own radio. */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { createBleCentral } from '../../gateway/ble/index.ts';
import type { ComponentFactory } from '../../gateway/lifecycle.ts';
import { bleRoutes } from '../../gateway/web/ble-api.ts';
import { createSimNoble, type VirtualRadio } from '../../simulators/ble/radio.ts';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `medgw` bin with no config file; `input` is written to its stdin (then closed). */
export function medgw(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/medgw.mjs', ...args], {
      env: { ...process.env, MEDGW_CONFIG: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += String(b);
    });
    child.stderr.on('data', (b) => {
      stderr += String(b);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Runs `medgw` and expects success with nothing on stderr; resolves to stdout. */
export async function ok(args: string[]): Promise<string> {
  const r = await medgw(args);
  expect(r.stderr, `medgw ${args.join(' ')}`).toBe('');
  expect(r.code, `medgw ${args.join(' ')}`).toBe(0);
  return r.stdout;
}

/** The BLE component of `medgw start`, on a radio the test owns (nothing pre-paired), with its admin routes. */
export function bleOnRadio(radio: VirtualRadio): ComponentFactory {
  return {
    name: 'ble',
    after: ['pipeline'],
    async create(ctx, services) {
      const built = await createBleCentral(ctx, services.get('sink'), { noble: () => createSimNoble(radio) });
      if (!built) return undefined;
      services.get('http').register(
        async (api) => {
          api.addHook('onRequest', services.get('http').requireAdmin);
          await bleRoutes(built.central)(api);
        },
        { prefix: '/api/v1/ble' },
      );
      return built.central;
    },
  };
}
