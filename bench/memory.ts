/**
 * Memory: growth of the V8 heap (the row's value: what the process keeps) and of resident memory
 * (beside it: RSS also keeps pages the allocator has not returned) of a process that
 * - queues 10,000 readings in the SQLite journal (beside the in-memory journal holding the same), and
 * - runs the gateway's MQTT side (embedded broker with hooks, pipeline, journal) with 100 connected
 *   devices (beside a bare aedes broker with the same clients).
 * Each figure comes from its own child process (bench/memory-child.ts), measured after a full garbage
 * collection and after a warm-up (100 readings, one device connected and dropped), so the simulated
 * clients, the other benchmarks and one-time start-up costs do not count.
 *
 * Sizes: MEDGW_BENCH_MEMORY_READINGS (default 10000), MEDGW_BENCH_MEMORY_DEVICES (default 100).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectFleet } from './ingest.ts';
import { envInt, ratio, round } from './ingest-common.ts';
import type { ChildReport } from './memory-child.ts';
import type { BenchRow } from './results.ts';

const RUN = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

interface Growth {
  readonly rssMiB: number;
  readonly heapMiB: number;
}

type Ready = Extract<ChildReport, { type: 'ready' }>;

/**
 * Runs the child in `mode`. Broker modes: `drive(ready, step)` connects the devices; `step(message)`
 * tells the child what happened and resolves once the child reported the figure it takes then.
 */
function runChild(
  mode: string,
  drive?: (ready: Ready, step: (message: string, label: string) => Promise<void>) => Promise<void>,
): Promise<Growth> {
  return new Promise((resolve, reject) => {
    const child = fork(RUN, [CHILD, mode], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const figures = new Map<string, { rssMiB: number; heapMiB: number }>();
    let failed: unknown;
    const step = async (message: string, label: string): Promise<void> => {
      child.send(message);
      while (label && !figures.has(label) && child.connected) await new Promise((r) => setTimeout(r, 20));
    };
    child.on('message', (m: ChildReport) => {
      if (m.type === 'memory') {
        figures.set(m.label, { rssMiB: m.rssMiB, heapMiB: m.heapMiB });
        return;
      }
      if (!drive) return;
      drive(m, step).catch((e: unknown) => {
        failed = e;
        child.kill();
      });
    });
    child.on('exit', (code) => {
      const before = figures.get('before');
      const after = figures.get('after');
      if (failed) reject(failed);
      else if (code !== 0 || !before || !after)
        reject(new Error(`memory bench: child ${mode} exited with ${code}`));
      else resolve({ rssMiB: after.rssMiB - before.rssMiB, heapMiB: after.heapMiB - before.heapMiB });
    });
  });
}

/** Connects and drops one warm-up device, then connects the measured ones and holds them. */
async function connectedDevices(ready: Ready, step: (message: string, label: string) => Promise<void>) {
  const [warmId, ...ids] = ready.ids;
  if (!warmId) throw new Error('memory bench: no warm-up device');
  const warm = await connectFleet({ url: ready.url, ids: [warmId], secret: ready.secret });
  await Promise.allSettled(warm.map((c) => c.close()));
  await step('warm', 'before');
  const clients = await connectFleet({ url: ready.url, ids, secret: ready.secret });
  await step('connected', 'after');
  await Promise.allSettled(clients.map((c) => c.close()));
  await step('disconnected', '');
}

export async function memoryBench(): Promise<BenchRow[]> {
  const readings = envInt('MEDGW_BENCH_MEMORY_READINGS', 10_000);
  const devices = envInt('MEDGW_BENCH_MEMORY_DEVICES', 100);
  const sqlite = await runChild('journal-sqlite');
  const inMemory = await runChild('journal-memory');
  const gateway = await runChild('gateway', connectedDevices);
  const bare = await runChild('bare', connectedDevices);
  return [
    {
      name: `memory-journal-${readings}-queued`,
      value: round(sqlite.heapMiB),
      unit: 'MiB heap growth',
      reference: {
        name: 'in-memory journal holding the same readings (heap growth, MiB)',
        value: round(inMemory.heapMiB),
      },
      ratio: ratio(sqlite.heapMiB, inMemory.heapMiB),
      rssMiB: round(sqlite.rssMiB),
      referenceRssMiB: round(inMemory.rssMiB),
      readings,
    },
    {
      name: `memory-mqtt-${devices}-devices`,
      value: round(gateway.heapMiB),
      unit: 'MiB heap growth',
      reference: {
        name: 'bare aedes broker with the same connected clients (heap growth, MiB)',
        value: round(bare.heapMiB),
      },
      ratio: ratio(gateway.heapMiB, bare.heapMiB),
      rssMiB: round(gateway.rssMiB),
      referenceRssMiB: round(bare.rssMiB),
      heapKiBPerDevice: round((gateway.heapMiB * 1024) / devices),
      devices,
    },
  ];
}
