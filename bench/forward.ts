/**
 * Delivery to the national side, against the real sandbox over HTTP on loopback, in its own process
 * (bench/forward-sandbox-child.ts) as the real national side is remote:
 * - `forward-mes`: the forwarder (outbox → consent gate → cloud-bridge Bundle → POST with keep-alive
 *   and bounded concurrency → classification → journal transition with purge + audit) draining N
 *   pending readings of a linked patient from the SQLite journal, beside raw POSTs of Bundles built the
 *   same way for other readings, at the same concurrency, over a plain keep-alive agent (same run).
 * - `forward-mes-puback-to-201-p99` (and `…-at-<low rate>`): simulated MQTT scales publish weights
 *   at a steady rate into the gateway (embedded broker → pipeline → journal); the forwarder runs as
 *   `medgw start` wires it (pipeline and forwarder share one group commit, each commit of new readings
 *   wakes the forwarder, the poll stays as a safety net); latency from each PUBACK to the forwarder
 *   holding the sandbox's 2xx for that reading.
 *
 * Sizes: MEDGW_BENCH_FORWARD_READINGS (default 300), MEDGW_BENCH_FORWARD_CONCURRENCY (default 4, the
 * configuration default), MEDGW_BENCH_FORWARD_ROUNDS (default 2), MEDGW_BENCH_LATENCY_RATE (readings/s,
 * default 100), MEDGW_BENCH_LATENCY_LOW_RATE (default 20), MEDGW_BENCH_LATENCY_SECONDS (default 3),
 * MEDGW_BENCH_FORWARD_POLL_MS (forwarder poll interval, default 1000 as in the gateway).
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MesClient, type MesClientOptions, type MesCredentials } from '../cloud-bridge/mes-client.ts';
import { PairingClient } from '../cloud-bridge/pairing.ts';
import type { DeviceRecord, Journal } from '../gateway/contracts.ts';
import { Forwarder, type ForwarderEvent } from '../gateway/forwarder/forwarder.ts';
import { GroupCommit } from '../gateway/journal/group-commit.ts';
import { SqliteJournal } from '../gateway/journal/sqlite.ts';
import { EmbeddedBroker } from '../gateway/mqtt/broker.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { LowRegistry } from '../gateway/registry/index.ts';
import { TokenStore } from '../gateway/storage/tokens-file.ts';
import { encodeReading, sampleReading } from '../simulators/mqtt/payloads.ts';
import type { Sandbox } from '../simulators/sandbox/index.ts';
import { approveUserCode } from '../tests/cloud-bridge/helpers.ts';
import type { SandboxReady } from './forward-sandbox-child.ts';
import { connectFleet, type Fleet, provision } from './ingest.ts';
import { envInt, pendingReadings, percentile, ratio, round, silentLog, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const PATIENT = 'bench-patient';
const RUN = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
const SANDBOX_CHILD = fileURLToPath(new URL('./forward-sandbox-child.ts', import.meta.url));
const clock = { now: () => Date.now() };
const IDENTITY = {
  systemId: '00:1B:DC:FF:FE:0B:0E:0C',
  manufacturer: 'Bench',
  model: 'BP-1',
  serial: 'SN-BENCH',
};
/** Every bench device as the registry would hold it after provisioning. */
const registry = {
  getDevice: (id: string): DeviceRecord => ({ id, transport: 'mqtt', identity: IDENTITY, createdAt: 0 }),
};

/** The sandbox in a child process, with this process's pairing client and token store. */
interface RemoteSide {
  readonly url: string;
  readonly idTokenHeader: string;
  readonly store: TokenStore;
  readonly pairing: PairingClient;
  client(options?: Partial<MesClientOptions>): MesClient;
  link(patientId: string, login: string): Promise<void>;
  close(): Promise<void>;
}

async function startRemoteSide(): Promise<RemoteSide> {
  const child = fork(RUN, [SANDBOX_CHILD], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise<SandboxReady>((resolve, reject) => {
    child.once('message', (m) => resolve(m as SandboxReady));
    child.once('exit', (code) => reject(new Error(`forward bench: the sandbox exited with ${code}`)));
  });
  const dir = tempDir('forward-tokens');
  const store = new TokenStore(dir.path, {});
  const pairing = new PairingClient({ issuer: ready.issuer }, store);
  const clients: MesClient[] = [];
  return {
    url: ready.url,
    idTokenHeader: ready.idTokenHeader,
    store,
    pairing,
    client(options = {}) {
      const c = new MesClient({
        baseUrl: ready.url,
        tokens: pairing,
        idTokenHeader: ready.idTokenHeader,
        ...options,
      });
      clients.push(c);
      return c;
    },
    async link(patientId, login) {
      const flow = await pairing.startDeviceLink(patientId, {});
      // the patient's side of the device flow only needs the sandbox's address
      await approveUserCode({ url: ready.url } as Sandbox, flow.verificationUri, flow.userCode, { login });
      await flow.complete();
    },
    async close() {
      for (const c of clients) c.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.send('close');
      await exited;
      dir.remove();
    },
  };
}

function forwarderOn(
  side: RemoteSide,
  journal: Journal,
  concurrency: number,
  pollIntervalMs = 1000,
  commits?: GroupCommit,
): { forwarder: Forwarder; client: MesClient } {
  const client = side.client({ maxConcurrency: concurrency });
  const forwarder = new Forwarder({
    journal,
    sender: client,
    links: side.store,
    registry,
    clock,
    concurrency,
    // batch size left at its default, as createCloudBridge wires it in `medgw start`
    pollIntervalMs,
    ...(commits ? { commits } : {}),
  });
  return { forwarder, client };
}

/**
 * The ingest side as `medgw start` builds it (gateway/app.ts, gateway/mqtt/components.ts): one group
 * commit shared by the pipeline and the forwarder, the embedded broker in front of the pipeline.
 */
async function startWiredGateway(
  dir: string,
  devices: number,
  prefix: string,
): Promise<{ fleet: Fleet; journal: Journal; commits: GroupCommit; stop(): Promise<void> }> {
  const reg = await LowRegistry.memory();
  const fleet = await provision(reg, devices, prefix);
  const journal = new SqliteJournal({ path: join(dir, `${prefix}.sqlite`), clock });
  const commits = new GroupCommit(journal);
  const pipeline = new Pipeline({ journal, registry: reg, clock, log: silentLog, commits });
  await pipeline.start();
  const broker = new EmbeddedBroker(
    { registry: reg, sink: pipeline, log: silentLog },
    { port: 0, host: '127.0.0.1' },
  );
  await broker.start();
  return {
    fleet: { ...fleet, url: `mqtt://127.0.0.1:${broker.address().port}` },
    journal,
    commits,
    async stop() {
      await broker.stop();
      await pipeline.stop();
      commits.flush();
      journal.close();
    },
  };
}

/** The forwarder drains `count` pending readings; readings/s. */
async function forwarderRound(side: RemoteSide, dir: string, count: number, concurrency: number, r: number) {
  const journal = new SqliteJournal({ path: join(dir, `forward-${r}.sqlite`), clock });
  const readings = pendingReadings(count, 1, `fwd-${process.pid}-${r}`, PATIENT);
  journal.append(readings);
  const { forwarder, client } = forwarderOn(side, journal, concurrency);
  try {
    const start = performance.now();
    // start() runs passes until the outbox has nothing due, then schedules the next poll
    await forwarder.start();
    const seconds = (performance.now() - start) / 1000;
    await forwarder.stop();
    const delivered = journal.stats(clock.now()).byState.delivered;
    if (delivered !== count) throw new Error(`forward bench: ${delivered} of ${count} readings delivered`);
    return count / seconds;
  } finally {
    client.close();
    journal.close();
  }
}

/** Raw POSTs of Bundles built for other readings of the same shape, same concurrency; readings/s. */
async function rawRound(side: RemoteSide, count: number, concurrency: number, r: number) {
  const client = side.client();
  const creds: MesCredentials = await side.pairing.credentials(PATIENT);
  const bundles = pendingReadings(count, 1, `raw-${process.pid}-${r}`, PATIENT).map((reading) =>
    client.bundleFor(
      {
        id: reading.id,
        observation: reading.observation,
        device: { id: reading.deviceId, identity: IDENTITY },
      },
      creds,
    ),
  );
  client.close();
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`${side.url}/fhir`);
  const headers = {
    authorization: `Bearer ${creds.accessToken}`,
    [side.idTokenHeader]: creds.idToken,
    accept: 'application/fhir+json',
    'content-type': 'application/fhir+json',
  };
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bundles.length) {
        const body = bundles[next++];
        if (body === undefined) continue;
        const status = await post(body);
        if (status < 200 || status >= 300) throw new Error(`forward bench: raw POST answered ${status}`);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return count / seconds;
}

/** PUBACK → the sandbox's 2xx for that reading, with devices publishing `rate` readings/s for `seconds`. */
async function pubackTo201(
  side: RemoteSide,
  dir: string,
  rate: number,
  seconds: number,
  concurrency: number,
  pollIntervalMs: number,
  tag: string,
): Promise<{ p50: number; p99: number; readings: number }> {
  const devices = 10;
  const gateway = await startWiredGateway(dir, devices, `latency-${tag}`);
  // the bench devices belong to the linked patient (provision() assigns them to bench-patient)
  const clients = await connectFleet(gateway.fleet);
  const { forwarder, client } = forwarderOn(
    side,
    gateway.journal,
    concurrency,
    pollIntervalMs,
    gateway.commits,
  );
  // as gateway/forwarder/component.ts: every commit of new readings wakes the forwarder
  const unsubscribe = gateway.commits.onAppended(() => forwarder.wake());
  const pubackAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  forwarder.on('event', (e: ForwarderEvent) => {
    if (e.type !== 'delivered') return;
    const audit = gateway.journal
      .auditList({ readingId: e.readingId })
      .find((a) => a.event === 'mes.delivered');
    const at = audit?.detail?.measuredAt;
    if (!audit?.deviceId || typeof at !== 'string') return;
    const key = `${audit.deviceId}|${Math.floor(Date.parse(at) / 1000)}`;
    answeredAt.set(key, performance.now());
  });
  await forwarder.start();
  const total = Math.round(rate * seconds);
  const atMs = Math.floor(Date.now() / 1000) * 1000;
  try {
    const start = performance.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const device = clients[i % devices];
      const c = device?.client;
      if (!device || !c) throw new Error('forward bench: device not connected');
      const seq = Math.floor(i / devices) + 1;
      const ms = atMs - seq * 60_000;
      const payload = encodeReading(device.options.encoding ?? 'json', sampleReading('body-weight', seq, ms));
      const key = `${device.id}|${Math.floor(ms / 1000)}`;
      sends.push(
        new Promise<void>((resolve, reject) =>
          c.publish(device.measurementTopic(), payload, { qos: 1 }, (err) => {
            if (err) reject(err);
            else {
              pubackAt.set(key, performance.now());
              resolve();
            }
          }),
        ),
      );
    }
    await Promise.all(sends);
    const until = Date.now() + 30_000;
    while (answeredAt.size < total && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (answeredAt.size < total) {
      throw new Error(`forward bench: ${answeredAt.size} of ${total} readings answered within 30 s`);
    }
    const latencies = [...pubackAt].map(([key, t]) => (answeredAt.get(key) ?? Number.NaN) - t);
    if (latencies.some((l) => !Number.isFinite(l)))
      throw new Error('forward bench: a reading was never matched');
    return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), readings: total };
  } finally {
    unsubscribe();
    await forwarder.stop();
    client.close();
    await Promise.allSettled(clients.map((c) => c.close()));
    await gateway.stop();
  }
}

export async function forwardBench(): Promise<BenchRow[]> {
  const count = envInt('MEDGW_BENCH_FORWARD_READINGS', 300);
  const concurrency = envInt('MEDGW_BENCH_FORWARD_CONCURRENCY', 4);
  const rounds = envInt('MEDGW_BENCH_FORWARD_ROUNDS', 2);
  const rate = envInt('MEDGW_BENCH_LATENCY_RATE', 100);
  const seconds = envInt('MEDGW_BENCH_LATENCY_SECONDS', 3);
  const lowRate = envInt('MEDGW_BENCH_LATENCY_LOW_RATE', 20);
  const pollMs = envInt('MEDGW_BENCH_FORWARD_POLL_MS', 1000);
  const dir = tempDir('forward');
  const side = await startRemoteSide();
  try {
    await side.link(PATIENT, 'marie.martin');
    const fwd: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < rounds; r++) {
      raw.push(await rawRound(side, count, concurrency, r));
      fwd.push(await forwarderRound(side, dir.path, count, concurrency, r));
    }
    const latency = await pubackTo201(side, dir.path, rate, seconds, concurrency, pollMs, 'at-rate');
    const sustained = await pubackTo201(side, dir.path, lowRate, seconds, concurrency, pollMs, 'low-rate');
    const f = Math.max(...fwd);
    const w = Math.max(...raw);
    return [
      {
        name: 'forward-mes',
        value: round(f),
        unit: 'readings/s',
        reference: {
          name: `raw POSTs of the same Bundles to the sandbox, keep-alive, concurrency ${concurrency}`,
          value: round(w),
        },
        ratio: ratio(f, w),
        readings: count,
        concurrency,
      },
      {
        name: 'forward-mes-puback-to-201-p99',
        value: round(latency.p99),
        unit: 'ms',
        reference: { name: 'p50 of the same run', value: round(latency.p50) },
        ratio: ratio(latency.p99, latency.p50),
        ratePerSecond: rate,
        readings: latency.readings,
        forwarderPollMs: pollMs,
      },
      {
        name: `forward-mes-puback-to-201-p99-at-${lowRate}`,
        value: round(sustained.p99),
        unit: 'ms',
        reference: { name: 'p50 of the same run', value: round(sustained.p50) },
        ratio: ratio(sustained.p99, sustained.p50),
        ratePerSecond: lowRate,
        readings: sustained.readings,
        forwarderPollMs: pollMs,
      },
    ];
  } finally {
    await side.close();
    dir.remove();
  }
}
