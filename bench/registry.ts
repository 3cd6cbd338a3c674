/**
 * The registry on PostgreSQL (`npm run bench -- registry`). PostgreSQL runs durable here (fsync,
 * synchronous commits), as in production.
 *
 * - `registry-postgres-put`: devices provisioned per second (putDevice, one after the other) on the
 *   PostgreSQL registry, against the lowdb file registry in the same run (which rewrites and fsyncs
 *   its whole file on every write).
 * - `registry-postgres-propagation`: median milliseconds from a putDevice resolving on one instance
 *   to the device being in another instance's copy (its NOTIFY read back), against the median
 *   putDevice itself in the same run.
 *
 * Sizes: MEDGW_BENCH_REGISTRY_DEVICES (default 300).
 */
import { join } from 'node:path';
import { addPatient, hashSecret, LowRegistry } from '../gateway/registry/index.ts';
import { PostgresRegistry } from '../gateway/registry/postgres.ts';
import { openPool } from '../gateway/storage/postgres.ts';
import { startPostgres } from '../tests/postgres/cluster.ts';
import { envInt, ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const clock = { now: () => Date.now() };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function registryBench(): Promise<BenchRow[]> {
  const count = envInt('MEDGW_BENCH_REGISTRY_DEVICES', 300);
  const server = await startPostgres({ durable: true });
  const dir = tempDir('registry');
  const url = server.database();
  const pools = [await openPool(url, { max: 4 }), await openPool(url, { max: 4 })];
  const a = await PostgresRegistry.open(pools[0]!);
  const b = await PostgresRegistry.open(pools[1]!);
  try {
    const device = (id: string) => ({
      id,
      transport: 'mqtt' as const,
      patientId: 'p1',
      secretHash: hashSecret(`secret-${id}`),
      createdAt: clock.now(),
    });

    // lowdb file, the reference
    const low = await LowRegistry.open(join(dir.path, 'registry.json'));
    await addPatient(low, { id: 'p1', displayName: 'Bench' }, clock);
    let start = performance.now();
    for (let i = 0; i < count; i++) await low.putDevice(device(`low-${i}`));
    const lowRate = count / ((performance.now() - start) / 1000);

    await addPatient(a, { id: 'p1', displayName: 'Bench' }, clock);
    await new Promise<void>((resolve) => {
      const off = b.onChange(() => {
        if (b.getPatient('p1')) {
          off();
          resolve();
        }
      });
    });
    const puts: number[] = [];
    const propagation: number[] = [];
    start = performance.now();
    for (let i = 0; i < count; i++) {
      const id = `pg-${i}`;
      const arrived = new Promise<number>((resolve) => {
        const off = b.onChange(() => {
          if (b.getDevice(id)) {
            off();
            resolve(performance.now());
          }
        });
      });
      const t0 = performance.now();
      await a.putDevice(device(id));
      const t1 = performance.now();
      puts.push(t1 - t0);
      propagation.push((await arrived) - t1);
    }
    const pgRate = count / ((performance.now() - start) / 1000);
    const lowName = 'lowdb file registry, putDevice one after the other (whole file rewritten and fsynced)';
    return [
      {
        name: 'registry-postgres-put',
        value: round(pgRate),
        unit: 'devices/s',
        reference: { name: lowName, value: round(lowRate) },
        ratio: ratio(pgRate, lowRate),
        devices: count,
      },
      {
        name: 'registry-postgres-propagation',
        value: round(median(propagation)),
        unit: 'ms (median, putDevice resolved on one instance → in the other instance copy)',
        reference: { name: 'putDevice on PostgreSQL, median ms', value: round(median(puts)) },
        ratio: ratio(median(propagation), median(puts)),
        devices: count,
      },
    ];
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
    await Promise.allSettled(pools.map((p) => p.end()));
    await server.stop();
    dir.remove();
  }
}
