/**
 * MQTT QoS 1 ingest end to end: simulated devices (simulators/mqtt, in their own process as real
 * devices are: bench/ingest-fleet-child.ts) connect over TCP to the embedded aedes broker with its
 * deny-by-default hooks, publish readings in JSON, CBOR and protobuf (one encoding per device, in
 * turn), and each PUBACK arrives only once the reading is decoded, normalized, attributed and
 * committed to the SQLite journal (synchronous=FULL, group commit, on its own thread as in a running
 * gateway). Reference, same run, same client code and payloads: a bare aedes broker without hooks,
 * the same publishes at QoS 1 taken by one QoS 1 subscriber (publish → subscribe), timed until every
 * PUBACK and every delivery.
 *
 * Sizes: MEDGW_BENCH_INGEST_DEVICES (default 50), MEDGW_BENCH_INGEST_PER_DEVICE (default 60),
 * MEDGW_BENCH_INGEST_WINDOW (publishes in flight per device, default 2), MEDGW_BENCH_INGEST_ROUNDS
 * (alternating rounds of each side, the best of each is kept, default 3), MEDGW_BENCH_INGEST_JOURNAL
 * (`thread`, the default, or `inline`: the journal on the main thread). The gateway side starts once
 * and runs through every round, as a gateway does (its journal thread warm, its journal growing);
 * each round brings devices of its own, so every reading is new.
 *
 * Connection storm (row `ingest-mqtt-connect`, alone: `npm run bench -- ingest-connect`):
 * MEDGW_BENCH_INGEST_CONNECT devices (default 2,000), each connecting for the first time since the
 * broker started (its record checked against its SHA-256 hash: registry/secrets.ts), 25 at a time to
 * the embedded broker, beside the same clients connecting to a bare aedes broker; the clients run in
 * the measuring process, and the event-loop delay of that process during the storm is reported beside
 * the time.
 *
 * Migration storm (row `ingest-mqtt-connect-migration`, with `ingest-connect`): the first restart after
 * an upgrade. MEDGW_BENCH_INGEST_CONNECT_LEGACY devices (default 200) whose records in a registry file
 * still hold the older scrypt hash connect 25 at a time: each check runs scrypt on the thread pool and
 * the record is rewritten to the fast hash before its CONNACK. Reference, same run: the same devices
 * after a broker restart on the migrated file.
 */

import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { systemTimeZone } from '../gateway/config/schema.ts';
import type { Journal } from '../gateway/contracts.ts';
import { MemoryJournal } from '../gateway/journal/memory.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { ThreadedJournal } from '../gateway/journal/threaded.ts';
import { EmbeddedBroker } from '../gateway/mqtt/broker.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { addPatient, generateSecret, hashSecret, LowRegistry } from '../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../simulators/mqtt/device.ts';
import { encodeReading, type SimEncoding, sampleReading } from '../simulators/mqtt/payloads.ts';
import { legacyScryptHash } from '../tests/registry/legacy-secret.ts';
import { envInt, percentile, ratio, round, silentLog, tempDir } from './ingest-common.ts';
import type { FleetOrder, FleetReport } from './ingest-fleet-child.ts';
import type { BenchRow } from './results.ts';

const ENCODINGS: readonly SimEncoding[] = ['json', 'cbor', 'protobuf'];
const clock = { now: () => Date.now() };

export interface Fleet {
  readonly url: string;
  readonly ids: readonly string[];
  readonly secret: string;
  /** One secret per device (same order as `ids`), when they differ (a broker that holds them). */
  readonly secrets?: readonly string[];
}

/**
 * Provisions `count` MQTT devices of one patient, each with its own record. They share one 256-bit
 * secret so the clients are simple (each connection still checks it against its own record's hash).
 */
export async function provision(registry: LowRegistry, count: number, prefix: string): Promise<Fleet> {
  await addPatient(registry, { id: 'bench-patient', displayName: 'Bench patient' }, clock);
  const secret = generateSecret();
  const secretHash = hashSecret(secret);
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) {
    await registry.putDevice({
      id,
      transport: 'mqtt',
      patientId: 'bench-patient',
      secretHash,
      createdAt: clock.now(),
    });
  }
  return { url: '', ids, secret };
}

/** The gateway side: registry, durable journal, pipeline, embedded broker on a free loopback port. */
export async function startGatewaySide(
  dir: string,
  devices: number,
  prefix: string,
  /** Another journal than the SQLite one (bench/cluster.ts: PostgreSQL). */
  openJournal?: () => Promise<Journal & { close(): void }>,
): Promise<{ fleet: Fleet; journal: Journal; pipeline: Pipeline; stop(): Promise<void> }> {
  const registry = await LowRegistry.memory();
  const fleet = await provision(registry, devices, prefix);
  const path = join(dir, `${prefix}.sqlite`);
  // as a running gateway has it (journal.thread, default true); MEDGW_BENCH_INGEST_JOURNAL=inline
  // measures the journal on the main thread instead
  const journal = openJournal
    ? await openJournal()
    : process.env.MEDGW_BENCH_INGEST_JOURNAL === 'inline'
      ? new SqliteJournal({ path, clock })
      : await ThreadedJournal.open({ path, clock });
  // the time zone given as a running gateway gives it (config.timezone, the system's resolved once
  // at start: gateway/mqtt/components.ts); left out, the pipeline would resolve it for every reading
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLog, timeZone: systemTimeZone() });
  await pipeline.start();
  const broker = new EmbeddedBroker(
    { registry, sink: pipeline, log: silentLog },
    { port: 0, host: '127.0.0.1' },
  );
  await broker.start();
  return {
    fleet: { ...fleet, url: `mqtt://127.0.0.1:${broker.address().port}` },
    journal,
    pipeline,
    async stop() {
      await broker.stop();
      await pipeline.stop();
      journal.close();
    },
  };
}

/** The reference: aedes with its defaults (no hooks), same TCP options as the embedded broker. */
async function startBareBroker(): Promise<{ url: string; stop(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer({ noDelay: true }, aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects the simulated devices, `concurrency` at a time. */
export async function connectFleet(fleet: Fleet, concurrency = 25): Promise<SimulatedMqttDevice[]> {
  const devices = fleet.ids.map(
    (id, i) =>
      new SimulatedMqttDevice({
        url: fleet.url,
        deviceId: id,
        secret: fleet.secrets?.[i] ?? fleet.secret,
        encoding: ENCODINGS[i % ENCODINGS.length] ?? 'json',
      }),
  );
  for (let i = 0; i < devices.length; i += concurrency) {
    await Promise.all(devices.slice(i, i + concurrency).map((d) => d.connect()));
  }
  return devices;
}

/** Every device publishes `perDevice` readings with `window` in flight; PUBACK latencies in ms. */
export async function publishAll(
  devices: readonly SimulatedMqttDevice[],
  perDevice: number,
  window: number,
  seqBase: number,
): Promise<{ seconds: number; latencies: number[] }> {
  const atMs = Date.now();
  // payloads encoded before the clock starts: the encoders are not what is measured
  const work = devices.map((d) => {
    const encoding = d.options.encoding ?? 'json';
    return Array.from({ length: perDevice }, (_, i) => {
      const seq = seqBase + i + 1;
      return encodeReading(encoding, sampleReading('blood-pressure', seq, atMs - seq * 60_000));
    });
  });
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    devices.map(async (d, di) => {
      const client = d.client;
      const payloads = work[di] ?? [];
      if (!client) throw new Error(`device ${d.id} is not connected`);
      const topic = d.measurementTopic();
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < payloads.length) {
          const payload = payloads[next++];
          if (!payload) continue;
          const sent = performance.now();
          await new Promise<void>((resolve, reject) =>
            client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
          );
          latencies.push(performance.now() - sent);
        }
      };
      await Promise.all(Array.from({ length: window }, lane));
    }),
  );
  return { seconds: (performance.now() - start) / 1000, latencies };
}

/** Every device got one `accepted` receipt per reading (nothing rejected, nothing collapsed). */
export async function checkReceipts(
  devices: readonly SimulatedMqttDevice[],
  perDevice: number,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (devices.some((d) => d.receipts.length < perDevice) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const d of devices) {
    const accepted = d.receipts.filter((r) => r.status === 'accepted').length;
    if (accepted !== perDevice) {
      throw new Error(
        `ingest bench: device ${d.id} got ${accepted} accepted receipts for ${perDevice} readings`,
      );
    }
  }
}

export interface Side {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Journal transactions the readings took (group commit), gateway side only. */
  readonly commits?: number;
}

const RUN = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
const FLEET_CHILD = fileURLToPath(new URL('./ingest-fleet-child.ts', import.meta.url));

/**
 * Runs the devices in their own process: connects them, then `publish()` starts the publishes and
 * resolves with the seconds from the start to the last PUBACK (and `also`, when given) and the latencies.
 */
export async function deviceProcess(
  fleet: Fleet,
  perDevice: number,
  window: number,
  receipts: boolean,
  receiptTimeoutMs?: number,
): Promise<{
  publish(also?: Promise<void>): Promise<{ seconds: number; latencies: number[] }>;
  close(): void;
}> {
  const child = fork(RUN, [FLEET_CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reports: FleetReport[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m: FleetReport) => {
    reports.push(m);
    for (const w of waiters.splice(0)) w();
  });
  child.on('exit', () => {
    for (const w of waiters.splice(0)) w();
  });
  const report = async <T extends FleetReport['type']>(
    type: T,
  ): Promise<Extract<FleetReport, { type: T }>> => {
    for (;;) {
      const failed = reports.find((r) => r.type === 'failed');
      if (failed && failed.type === 'failed') throw new Error(`ingest bench devices: ${failed.message}`);
      const hit = reports.find((r) => r.type === type);
      if (hit) return hit as Extract<FleetReport, { type: T }>;
      if (child.exitCode !== null) throw new Error(`ingest bench devices exited with ${child.exitCode}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const order: FleetOrder = {
    fleet,
    perDevice,
    window,
    receipts,
    ...(receiptTimeoutMs !== undefined ? { receiptTimeoutMs } : {}),
  };
  child.send(order);
  await report('connected');
  return {
    async publish(also) {
      const start = performance.now();
      child.send('go');
      const acked = await report('acked');
      await also;
      const seconds = (performance.now() - start) / 1000;
      await report('checked');
      return { seconds, latencies: acked.latencies };
    },
    close() {
      if (child.connected) child.send('close');
    },
  };
}

type GatewaySide = Awaited<ReturnType<typeof startGatewaySide>>;

/**
 * One round on the running gateway side: `devices` devices of the fleet not used by an earlier
 * round (so every reading is new) publish their readings.
 */
export async function gatewayRound(
  side: GatewaySide,
  devices: number,
  perDevice: number,
  window: number,
  round: number,
): Promise<Side> {
  const ids = side.fleet.ids.slice(round * devices, (round + 1) * devices);
  const before = side.journal.stats(Date.now()).byState.pending;
  const commitsBefore = side.pipeline.commitCounters().batches;
  const fleet = await deviceProcess({ ...side.fleet, ids }, perDevice, window, true);
  try {
    // timed to the last PUBACK; then the devices check their receipts (one `accepted` each)
    const { seconds, latencies } = await fleet.publish();
    // a cuff reading with a pulse is two observations: the pressure panel and the heart rate
    const stored = side.journal.stats(Date.now()).byState.pending - before;
    if (stored !== 2 * devices * perDevice) {
      throw new Error(
        `ingest bench: ${stored} observations in the journal for ${devices * perDevice} PUBACKs`,
      );
    }
    return {
      perSecond: (devices * perDevice) / seconds,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      commits: side.pipeline.commitCounters().batches - commitsBefore,
    };
  } finally {
    fleet.close();
  }
}

export async function bareRound(
  devices: number,
  perDevice: number,
  window: number,
  round: number,
): Promise<Side> {
  const broker = await startBareBroker();
  const ids = Array.from({ length: devices }, (_, i) => `bare-${round}-${i}`);
  const subscriber = await mqtt.connectAsync(broker.url, { clientId: `bench-sub-${round}`, clean: true });
  let received = 0;
  const total = devices * perDevice;
  let allReceived: () => void = () => undefined;
  const everything = new Promise<void>((resolve) => {
    allReceived = resolve;
  });
  subscriber.on('message', () => {
    received += 1;
    if (received === total) allReceived();
  });
  await subscriber.subscribeAsync('medgw/v1/devices/+/measurements/+', { qos: 1 });
  const fleet = await deviceProcess({ url: broker.url, ids, secret: 'unused' }, perDevice, window, false);
  try {
    const { seconds, latencies } = await fleet.publish(everything);
    return { perSecond: total / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
  } finally {
    fleet.close();
    await subscriber.endAsync(true);
    await broker.stop();
  }
}

interface Storm {
  readonly seconds: number;
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
}

/** Connects every device of the fleet, timing it and sampling the event-loop delay meanwhile. */
async function storm(fleet: Fleet): Promise<Storm> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const start = performance.now();
  const devices = await connectFleet(fleet);
  const seconds = (performance.now() - start) / 1000;
  delay.disable();
  await Promise.allSettled(devices.map((d) => d.close()));
  return {
    seconds,
    loopDelayMaxMs: delay.max / 1e6,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
  };
}

async function gatewayStorm(dir: string, devices: number): Promise<Storm> {
  const side = await startGatewaySide(dir, devices, 'connect');
  try {
    return await storm(side.fleet);
  } finally {
    await side.stop();
  }
}

async function bareStorm(devices: number): Promise<Storm> {
  const broker = await startBareBroker();
  try {
    const ids = Array.from({ length: devices }, (_, i) => `bare-connect-${i}`);
    return await storm({ url: broker.url, ids, secret: 'unused' });
  } finally {
    await broker.stop();
  }
}

export const best = (sides: Side[]): Side =>
  sides.reduce((a, b) => (b.perSecond > a.perSecond ? b : a), sides[0] as Side);

export async function ingestBench(): Promise<BenchRow[]> {
  const devices = envInt('MEDGW_BENCH_INGEST_DEVICES', 50);
  const perDevice = envInt('MEDGW_BENCH_INGEST_PER_DEVICE', 60);
  const window = envInt('MEDGW_BENCH_INGEST_WINDOW', 2);
  const rounds = envInt('MEDGW_BENCH_INGEST_ROUNDS', 3);
  const dir = tempDir('ingest');
  const gateway: Side[] = [];
  const bare: Side[] = [];
  try {
    // the gateway side starts once and keeps running, as a gateway does; each round brings new devices
    const side = await startGatewaySide(dir.path, devices * rounds, 'ingest');
    try {
      for (let r = 0; r < rounds; r++) {
        bare.push(await bareRound(devices, perDevice, window, r));
        gateway.push(await gatewayRound(side, devices, perDevice, window, r));
      }
    } finally {
      await side.stop();
    }
  } finally {
    dir.remove();
  }
  const g = best(gateway);
  const b = best(bare);
  const sizes = { devices, perDevice, window, encodings: ENCODINGS.join('/') };
  const bareName = 'bare aedes, no hooks, QoS 1 publish → QoS 1 subscriber, same clients and payloads';
  return [
    {
      name: 'ingest-mqtt-qos1',
      value: round(g.perSecond),
      unit: 'readings/s',
      reference: { name: bareName, value: round(b.perSecond) },
      ratio: ratio(g.perSecond, b.perSecond),
      ...sizes,
      journalTransactions: g.commits ?? null,
    },
    {
      name: 'ingest-mqtt-qos1-puback-p50',
      value: round(g.p50),
      unit: 'ms',
      reference: { name: `${bareName} (PUBACK p50)`, value: round(b.p50) },
      ratio: ratio(g.p50, b.p50),
      ...sizes,
    },
    {
      name: 'ingest-mqtt-qos1-puback-p99',
      value: round(g.p99),
      unit: 'ms',
      reference: { name: `${bareName} (PUBACK p99)`, value: round(b.p99) },
      ratio: ratio(g.p99, b.p99),
      ...sizes,
    },
    ...(await connectBench()),
  ];
}

/** A broker (and the pipeline behind it) on the registry file `path`, until `stop()`. */
async function brokerOnFile(path: string): Promise<{ url: string; stop(): Promise<void> }> {
  const registry = await LowRegistry.open(path);
  const journal = new MemoryJournal({ clock });
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLog });
  await pipeline.start();
  const broker = new EmbeddedBroker(
    { registry, sink: pipeline, log: silentLog },
    { port: 0, host: '127.0.0.1' },
  );
  await broker.start();
  return {
    url: `mqtt://127.0.0.1:${broker.address().port}`,
    async stop() {
      await broker.stop();
      await pipeline.stop();
      journal.close();
    },
  };
}

/** Row `ingest-mqtt-connect-migration`: older scrypt records signing in once, against the same after migration. */
async function migrationBench(dir: string): Promise<BenchRow> {
  const count = envInt('MEDGW_BENCH_INGEST_CONNECT_LEGACY', 200);
  const secret = generateSecret();
  // a registry file as an older version wrote it (one scrypt hash for all: provisioning is not measured)
  const legacy = legacyScryptHash(secret);
  const ids = Array.from({ length: count }, (_, i) => `legacy-${i}`);
  const path = join(dir, 'legacy-registry.json');
  const devices = Object.fromEntries(
    ids.map((id) => [
      id,
      { id, transport: 'mqtt', patientId: 'bench-patient', secretHash: legacy, createdAt: 1 },
    ]),
  );
  const patients = { 'bench-patient': { id: 'bench-patient', displayName: 'Bench patient', createdAt: 1 } };
  writeFileSync(path, JSON.stringify({ version: 1, devices, patients, sections: {} }), { mode: 0o600 });
  const first = await brokerOnFile(path);
  let migrating: Storm;
  try {
    migrating = await storm({ url: first.url, ids, secret });
  } finally {
    await first.stop();
  }
  // what the first storm left in the file: every record rewritten to the fast hash
  const stored = JSON.parse(readFileSync(path, 'utf8')) as {
    devices: Record<string, { secretHash: string }>;
  };
  const migratedRecords = Object.values(stored.devices).filter((d) =>
    d.secretHash.startsWith('sha256$'),
  ).length;
  const again = await brokerOnFile(path);
  let migrated: Storm;
  try {
    migrated = await storm({ url: again.url, ids, secret });
  } finally {
    await again.stop();
  }
  return {
    name: 'ingest-mqtt-connect-migration',
    value: round(migrating.seconds),
    unit: 's',
    reference: {
      name: 'the same devices after a broker restart on the migrated registry (SHA-256)',
      value: round(migrated.seconds),
    },
    ratio: ratio(migrating.seconds, migrated.seconds),
    devices: count,
    migratedRecords,
    loopDelayMaxMs: round(migrating.loopDelayMaxMs),
  };
}

/** Row `ingest-mqtt-connect`: the connection storm, against bare aedes in the same run. */
export async function connectBench(): Promise<BenchRow[]> {
  const connecting = envInt('MEDGW_BENCH_INGEST_CONNECT', 2_000);
  // alternating rounds, the fastest of each side kept: the first round also warms the client code
  const rounds = envInt('MEDGW_BENCH_INGEST_CONNECT_ROUNDS', 2);
  const dir = tempDir('connect');
  const bare: Storm[] = [];
  const gateway: Storm[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      bare.push(await bareStorm(connecting));
      // a new broker each round: every connection is the device's first since the broker started
      gateway.push(await gatewayStorm(dir.path, connecting));
    }
  } finally {
    dir.remove();
  }
  const fastest = (storms: Storm[]): Storm => storms.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const bareConnect = fastest(bare);
  const gatewayConnect = fastest(gateway);
  const migrationDir = tempDir('connect-migration');
  let migration: BenchRow;
  try {
    migration = await migrationBench(migrationDir.path);
  } finally {
    migrationDir.remove();
  }
  return [
    {
      name: 'ingest-mqtt-connect',
      value: round(gatewayConnect.seconds),
      unit: 's',
      reference: {
        name: 'bare aedes, no hooks, the same clients connecting 25 at a time',
        value: round(bareConnect.seconds),
      },
      ratio: ratio(gatewayConnect.seconds, bareConnect.seconds),
      target: '≤ 2× bare aedes',
      devices: connecting,
      secretHash: 'sha256',
      rounds,
      loopDelayMaxMs: round(gatewayConnect.loopDelayMaxMs),
      loopDelayP99Ms: round(gatewayConnect.loopDelayP99Ms),
      bareLoopDelayMaxMs: round(bareConnect.loopDelayMaxMs),
    },
    migration,
  ];
}
