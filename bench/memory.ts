/**
 * Memory: growth of resident memory (RSS) and V8 heap of a process that
 * - queues 10,000 readings in the SQLite journal (beside the in-memory journal holding the same), and
 * - runs the gateway's MQTT side (embedded broker with hooks, pipeline, journal) with 100 connected
 *   devices (beside a bare aedes broker with the same clients).
 * Each figure comes from its own child process (bench/memory-child.ts), measured after a full garbage
 * collection, so the simulated clients and the other benchmarks do not count.
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

/** Runs the child in `mode`; `whenReady` is called with its endpoint (broker modes). */
function runChild(
  mode: string,
  whenReady?: (ready: Extract<ChildReport, { type: 'ready' }>) => Promise<() => Promise<void>>,
): Promise<Growth> {
  return new Promise((resolve, reject) => {
    const child = fork(RUN, [CHILD, mode], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const figures = new Map<string, { rssMiB: number; heapMiB: number }>();
    let failed: unknown;
    child.on('message', (m: ChildReport) => {
      if (m.type === 'memory') {
        figures.set(m.label, { rssMiB: m.rssMiB, heapMiB: m.heapMiB });
        return;
      }
      if (!whenReady) return;
      whenReady(m).then(
        async (disconnect) => {
          child.send('connected');
          // wait for the child's second figure before letting the devices go
          while (!figures.has('after') && child.connected) await new Promise((r) => setTimeout(r, 20));
          await disconnect();
          if (child.connected) child.send('disconnected');
        },
        (e: unknown) => {
          failed = e;
          child.kill();
        },
      );
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

async function connectedDevices(
  ready: Extract<ChildReport, { type: 'ready' }>,
): Promise<() => Promise<void>> {
  const clients = await connectFleet({ url: ready.url, ids: ready.ids, secret: ready.secret });
  return async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
  };
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
      value: round(sqlite.rssMiB),
      unit: 'MiB RSS growth',
      reference: {
        name: 'in-memory journal holding the same readings (RSS growth, MiB)',
        value: round(inMemory.rssMiB),
      },
      ratio: ratio(sqlite.rssMiB, inMemory.rssMiB),
      heapMiB: round(sqlite.heapMiB),
      referenceHeapMiB: round(inMemory.heapMiB),
      readings,
    },
    {
      name: `memory-mqtt-${devices}-devices`,
      value: round(gateway.rssMiB),
      unit: 'MiB RSS growth',
      reference: {
        name: 'bare aedes broker with the same connected clients (RSS growth, MiB)',
        value: round(bare.rssMiB),
      },
      ratio: ratio(gateway.rssMiB, bare.rssMiB),
      heapMiB: round(gateway.heapMiB),
      referenceHeapMiB: round(bare.heapMiB),
      perDeviceKiB: round((gateway.rssMiB * 1024) / devices),
      devices,
    },
  ];
}
