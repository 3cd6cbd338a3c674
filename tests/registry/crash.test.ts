import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { LowRegistry } from '../../gateway/registry/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-registry-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a registry write cut by SIGKILL leaves the old or the new file, never a broken one', async () => {
  const path = join(dir, 'registry.json');
  const acked: string[] = [];
  for (let round = 0; round < 3; round++) {
    const child = spawn(
      process.execPath,
      ['bin/run.mjs', 'tests/registry/crash-child.ts', path, `r${round}`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
    let count = 0;
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const [tag, id] = line.split(' ');
        if (tag !== 'ack' || !id) return;
        acked.push(id);
        if (++count === 40 + round * 17) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    expect(await exited).toBe('SIGKILL');
    const registry = await LowRegistry.open(path);
    const ids = new Set(registry.listPatients().map((p) => p.id));
    for (const id of acked) expect(ids.has(id), id).toBe(true);
  }
  expect(acked.length).toBeGreaterThanOrEqual(40 + 57 + 74);
  // what a killed writer left behind is cleaned when the registry opens
  expect(readdirSync(dir)).toEqual(['registry.json']);
}, 120_000);
