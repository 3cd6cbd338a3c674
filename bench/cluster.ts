/**
 * Several instances on one PostgreSQL (`npm run bench -- ingest-postgres cluster`). PostgreSQL runs durable here
 * (fsync, synchronous commits), as in production.
 *
 * - `ingest-mqtt-qos1-postgres`: the `ingest-mqtt-qos1` measure (bench/ingest.ts: simulated devices in
 *   their own process, embedded aedes with its hooks, pipeline, a PUBACK only after the commit) with
 *   the journal on PostgreSQL instead of SQLite, against the same bare aedes broker, same run.
 *   Target ≥ 0.4.
 * - `ingest-cluster-3`: real `medgw start` processes behind one Mosquitto with dynamic security
 *   (tests/cluster/harness.ts), devices publishing QoS 1 through the broker; readings per second from
 *   the first publish to the last `accepted` receipt (each one sent after its commit). Three instances
 *   against one, on the same PostgreSQL and the same broker, each side with devices of its own (every
 *   reading new). Target ≥ 1.5×.
 * - `forward-mes-cluster-3`: delivered readings per second (the national sandbox in its own process,
 *   a 2xx recorded in the journal) for readings committed at once into the shared journal, with three
 *   instances' forwarders against one.
 *
 * Sizes: MEDGW_BENCH_CLUSTER_DEVICES (per side, default 60), MEDGW_BENCH_CLUSTER_PER_DEVICE (default
 * 40), MEDGW_BENCH_CLUSTER_WINDOW (default 2), MEDGW_BENCH_CLUSTER_CONNECTIONS (mqtt.external.connections of
 * each instance, default 4), MEDGW_BENCH_CLUSTER_FORWARD (readings per side, default
 * 600), MEDGW_BENCH_CLUSTER_PATIENTS (linked patients, default 24: a patient's readings leave one
 * instance at a time, and a claim takes up to 8 readings, oldest first, so fewer patients than
 * 8 × instances leave instances idle), and the MEDGW_BENCH_INGEST_* sizes
 * for the first row.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Journal } from '../gateway/contracts.ts';
import { ThreadedJournal } from '../gateway/journal/threaded.ts';
import { type Instance, type Site, startSite } from '../tests/cluster/harness.ts';
import { startPostgres } from '../tests/postgres/cluster.ts';
import { bareRound, best, deviceProcess, gatewayRound, type Side, startGatewaySide } from './ingest.ts';
import { envInt, pendingReadings, ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const clock = { now: () => Date.now() };
const LOGINS = ['marie.martin', 'jean.dupont', 'lea.bernard'];
const BARE = 'bare aedes, no hooks, QoS 1 publish → QoS 1 subscriber, same clients and payloads';

/**
 * CPU milliseconds the PostgreSQL server listening on `port` has used so far: its postmaster and the
 * processes it forked (backends, WAL writer, checkpointer), read from /proc (Linux). Backends run
 * in sessions of their own, so they are found by parent, not by process group.
 */
function serverCpuMs(port: number): number {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const stat = (pid: string): string[] | undefined => {
    try {
      // the fields after "pid (comm) ": state ppid pgrp … utime (12th) stime (13th)
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
    } catch {
      return undefined;
    }
  };
  const master = procs.find((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmd[0]?.endsWith('/postgres') === true && cmd.includes(String(port));
    } catch {
      return false;
    }
  });
  if (!master) return Number.NaN;
  const tick = 1000 / 100; // USER_HZ
  let ms = 0;
  for (const pid of procs) {
    const f = stat(pid);
    if (!f || (pid !== master && f[1] !== master)) continue;
    ms += (Number(f[11]) + Number(f[12])) * tick;
  }
  return ms;
}

/** Runs `round` and adds the CPU this process and the PostgreSQL server used meanwhile to `cpu`. */
async function measured(
  cpu: { process: number; server: number },
  port: number | undefined,
  round: () => Promise<Side>,
): Promise<Side> {
  const p0 = process.cpuUsage();
  const s0 = port === undefined ? 0 : serverCpuMs(port);
  try {
    return await round();
  } finally {
    const p = process.cpuUsage(p0);
    cpu.process += (p.user + p.system) / 1000;
    if (port !== undefined) cpu.server += serverCpuMs(port) - s0;
  }
}

/** `ingest-mqtt-qos1-postgres`: one in-process gateway side with its journal on PostgreSQL. */
export async function ingestPostgres(): Promise<BenchRow> {
  const devices = envInt('MEDGW_BENCH_INGEST_DEVICES', 50);
  const perDevice = envInt('MEDGW_BENCH_INGEST_PER_DEVICE', 60);
  const window = envInt('MEDGW_BENCH_INGEST_WINDOW', 2);
  const rounds = envInt('MEDGW_BENCH_INGEST_ROUNDS', 3);
  const pg = await startPostgres({ durable: true });
  const dir = tempDir('ingest-pg');
  const gateway: Side[] = [];
  const bare: Side[] = [];
  // CPU of this process (broker, pipeline, journal thread; the devices run in a process of their
  // own on both sides) and of the PostgreSQL server, over all rounds of each side
  const gatewayCpu = { process: 0, server: 0 };
  const bareCpu = { process: 0, server: 0 };
  try {
    const url = pg.database('medgw_bench_ingest');
    const side = await startGatewaySide(dir.path, devices * rounds, 'pg', () =>
      ThreadedJournal.openPostgres({ url, clock, instance: 'bench' }),
    );
    try {
      for (let r = 0; r < rounds; r++) {
        bare.push(await measured(bareCpu, undefined, () => bareRound(devices, perDevice, window, r)));
        gateway.push(
          await measured(gatewayCpu, pg.port, () => gatewayRound(side, devices, perDevice, window, r)),
        );
      }
    } finally {
      await side.stop();
    }
  } finally {
    dir.remove();
    await pg.stop();
  }
  const g = best(gateway);
  const b = best(bare);
  const readings = devices * perDevice * rounds;
  return {
    name: 'ingest-mqtt-qos1-postgres',
    value: round(g.perSecond),
    unit: 'readings/s',
    reference: { name: BARE, value: round(b.perSecond) },
    ratio: ratio(g.perSecond, b.perSecond),
    target: '≥ 0.4',
    devices,
    perDevice,
    window,
    rounds,
    journal: 'PostgreSQL (durable), on the journal thread',
    journalTransactions: g.commits ?? null,
    pubackP50Ms: round(g.p50),
    pubackP99Ms: round(g.p99),
    // what each reading costs in CPU, all rounds (less sensitive than the rates to the machine's load)
    cpuMsPerReading: {
      gatewayProcess: round(gatewayCpu.process / readings),
      postgres: round(gatewayCpu.server / readings),
      bareAedesProcess: round(bareCpu.process / readings),
    },
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0] ?? 0),
  };
}

/** Provisions `count` MQTT devices through an instance's admin API (each one a broker client and role). */
async function provisionDevices(
  gw: Instance,
  prefix: string,
  count: number,
  patients: readonly string[],
): Promise<{ ids: string[]; secrets: string[] }> {
  const ids: string[] = [];
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const { secret } = await gw.call<{ secret: string }>('POST', '/devices', {
      id,
      transport: 'mqtt',
      patientId: patients[i % patients.length],
    });
    ids.push(id);
    secrets.push(secret);
  }
  return { ids, secrets };
}

/** Devices of their own publish through the broker; readings per second until the last receipt. */
async function clusterIngestSide(
  site: Site,
  gw: Instance,
  prefix: string,
  patients: readonly string[],
): Promise<{ perSecond: number; readings: number }> {
  const devices = envInt('MEDGW_BENCH_CLUSTER_DEVICES', 60);
  const perDevice = envInt('MEDGW_BENCH_CLUSTER_PER_DEVICE', 40);
  const window = envInt('MEDGW_BENCH_CLUSTER_WINDOW', 2);
  const { ids, secrets } = await provisionDevices(gw, prefix, devices, patients);
  const fleet = await deviceProcess(
    { url: site.broker.url, ids, secret: '', secrets },
    perDevice,
    window,
    true,
    120_000,
  );
  try {
    const start = performance.now();
    // resolves once every device holds one `accepted` receipt per reading: each sent after its commit
    await fleet.publish();
    const seconds = (performance.now() - start) / 1000;
    return { perSecond: (devices * perDevice) / seconds, readings: devices * perDevice };
  } finally {
    fleet.close();
  }
}

/** Appends `count` pending readings at once and times them until the journal records them delivered. */
async function forwardSide(
  feeder: Journal,
  tag: string,
  count: number,
  patients: readonly string[],
): Promise<number> {
  const readings = pendingReadings(count, 20, tag).map((r, i) => ({
    ...r,
    patientId: patients[i % patients.length] as string,
  }));
  const delivered = () => feeder.stats(Date.now()).byState.delivered ?? 0;
  const before = delivered();
  const start = performance.now();
  feeder.append(readings);
  const deadline = Date.now() + 300_000;
  while (delivered() - before < count) {
    if (Date.now() > deadline)
      throw new Error(`forward-mes-cluster-3: ${delivered() - before}/${count} delivered`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return count / ((performance.now() - start) / 1000);
}

async function clusterRows(): Promise<BenchRow[]> {
  const site = await startSite('bench-cluster', { durable: true, sandbox: 'child' });
  const rows: BenchRow[] = [];
  try {
    const patientCount = envInt('MEDGW_BENCH_CLUSTER_PATIENTS', 24);
    const patients = Array.from({ length: patientCount }, (_, i) => `bench-p${i}`);
    const connections = String(envInt('MEDGW_BENCH_CLUSTER_CONNECTIONS', 4));
    const extra = { MEDGW_MQTT_EXTERNAL_CONNECTIONS: connections };
    const one = await site.start(1, extra);
    // patients without a link: their readings are stored and held, the forwarders stay idle
    const idle = ['bench-idle'];
    await one.call('POST', '/patients', { id: 'bench-idle', displayName: 'bench-idle' });
    const single = await clusterIngestSide(site, one, 'c1', idle);
    const two = await site.start(2, extra);
    const three = await site.start(3, extra);
    const triple = await clusterIngestSide(site, one, 'c3', idle);
    rows.push({
      name: 'ingest-cluster-3',
      value: round(triple.perSecond),
      unit: 'readings/s',
      reference: {
        name: 'one medgw start instance, same PostgreSQL and Mosquitto',
        value: round(single.perSecond),
      },
      ratio: ratio(triple.perSecond, single.perSecond),
      target: '≥ 1.5',
      readingsPerSide: single.readings,
      connectionsPerInstance: Number(connections),
      broker: 'Mosquitto 2 with dynamic security, $share/medgw',
      postgres: 'durable (fsync, synchronous_commit on)',
      cpus: cpus().length,
      loadAverage1m: round(loadavg()[0] ?? 0),
    });

    // delivery: the linked patients' readings, committed at once into the shared journal
    for (const p of patients) await one.call('POST', '/patients', { id: p, displayName: p });
    // the sandbox's three test identities, each linked to several local patients; four links at once
    for (let i = 0; i < patients.length; i += 4) {
      await Promise.all(
        patients.slice(i, i + 4).map((p, j) => site.link(1, p, LOGINS[(i + j) % LOGINS.length] as string)),
      );
    }
    const feeder = await ThreadedJournal.openPostgres({
      url: site.storageUrl,
      clock,
      instance: 'bench-feeder',
    });
    try {
      const count = envInt('MEDGW_BENCH_CLUSTER_FORWARD', 600);
      await two.stop();
      await three.stop();
      const alone = await forwardSide(feeder, 'fwd1', count, patients);
      await site.start(2, extra);
      await site.start(3, extra);
      const together = await forwardSide(feeder, 'fwd3', count, patients);
      rows.push({
        name: 'forward-mes-cluster-3',
        value: round(together),
        unit: 'readings/s',
        reference: { name: 'one instance’s forwarder, same journal and sandbox', value: round(alone) },
        ratio: ratio(together, alone),
        readings: count,
        patients: patientCount,
        concurrencyPerInstance: 4,
        cpus: cpus().length,
        loadAverage1m: round(loadavg()[0] ?? 0),
      });
    } finally {
      feeder.close();
    }
  } finally {
    await site.close();
  }
  return rows;
}

/** The rows of several instances (`ingest-postgres` measures the first one alone). */
export function clusterBench(): Promise<BenchRow[]> {
  return clusterRows();
}
