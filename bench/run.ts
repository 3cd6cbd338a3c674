/**
 * `npm run bench`: runs every benchmark, prints its figures and merges its rows into bench/results.json
 * (by name: rows of other benchmarks stay). Not part of `npm test`. Add a benchmark: a module returning
 * rows, listed in BENCHES.
 */
import { abuseAuthFloodBench, abuseGarbageFloodBench } from './abuse.ts';
import { abuseLoginFloodBench } from './abuse-login.ts';
import { cgmPageBench } from './cgm-page.ts';
import { clusterBench, ingestPostgres } from './cluster.ts';
import { decodeBench } from './decode.ts';
import { forwardBench } from './forward.ts';
import { connectBench, ingestBench } from './ingest.ts';
import { ingestBleBench } from './ingest-ble.ts';
import { ingestBleCgmBench } from './ingest-ble-cgm.ts';
import { ingestBleDbusBench } from './ingest-ble-dbus.ts';
import { ingestCpuBench } from './ingest-cpu.ts';
import { journalBench } from './journal.ts';
import { memoryBench } from './memory.ts';
import { registryBench } from './registry.ts';
import { type BenchRow, writeRows } from './results.ts';
import { timeBench } from './time.ts';

const BENCHES: { name: string; run: () => BenchRow[] | Promise<BenchRow[]> }[] = [
  // `--decode=2AA7,2AA8`: only those characteristics' rows (a row added or changed), the others untouched.
  { name: 'decode', run: () => decodeBench(500, decodeOnly()) },
  { name: 'journal', run: () => journalBench() },
  { name: 'ingest', run: () => ingestBench() },
  // the connection storm alone (also part of `ingest`)
  { name: 'ingest-connect', run: () => connectBench() },
  { name: 'ingest-ble', run: () => ingestBleBench() },
  // a 14-day CGM session's first sync, then its summaries
  { name: 'ingest-ble-cgm', run: () => ingestBleCgmBench() },
  // the same first sync in ble.mode dbus: noble's D-Bus bindings on the fake BlueZ (private dbus-daemon)
  { name: 'ingest-ble-dbus', run: () => ingestBleDbusBench() },
  { name: 'ingest-cpu', run: () => ingestCpuBench() },
  // a CGM's device page: one day of sensor values from a journal holding 16 or 92 days of them
  { name: 'cgm-page', run: () => cgmPageBench() },
  { name: 'time', run: () => timeBench() },
  { name: 'forward', run: () => forwardBench() },
  { name: 'memory', run: () => memoryBench() },
  { name: 'abuse-garbage-flood', run: () => abuseGarbageFloodBench() },
  { name: 'abuse-auth-flood', run: () => abuseAuthFloodBench() },
  { name: 'abuse-login-flood', run: () => abuseLoginFloodBench() },
  // one instance with its journal on PostgreSQL, against bare aedes
  { name: 'ingest-postgres', run: async () => [await ingestPostgres()] },
  // several instances on one PostgreSQL and one Mosquitto
  { name: 'cluster', run: () => clusterBench() },
  // the registry on PostgreSQL: provisioning rate, and how soon another instance's copy has a change
  { name: 'registry', run: () => registryBench() },
];

function decodeOnly(): string[] | undefined {
  const arg = process.argv.find((a) => a.startsWith('--decode='));
  return arg ? arg.slice('--decode='.length).split(',').filter(Boolean) : undefined;
}

const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const bench of BENCHES) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  const rows = await bench.run();
  for (const r of rows) {
    const ref = r.reference ? `  vs ${r.reference.name}: ${r.reference.value}  ratio ${r.ratio}` : '';
    console.log(`${r.name.padEnd(24)} ${String(r.value).padStart(10)} ${r.unit}${ref}`);
  }
  writeRows(rows);
}
console.log('results merged into bench/results.json');
