/**
 * Abuse benchmarks (issue: "one device cannot take the broker down"), each against the gateway side
 * of bench/ingest.ts (registry, SQLite journal on its thread, pipeline, embedded broker with its
 * default limits), the attackers in their own process (bench/abuse-flood-child.ts):
 *
 * - `abuse-garbage-flood`: a legitimate device publishes a QoS 1 reading every 60 ms and times each
 *   PUBACK, first alone (reference, same run, as long as the flood: MEDGW_BENCH_ABUSE_REFERENCE_SECONDS),
 *   then while 3 registered devices flood garbage at QoS 0 (halfway through each phase another device
 *   connects for the first time: firstConnection… fields)
 *   as fast as their sockets take it (MEDGW_BENCH_ABUSE_FLOOD_SECONDS, default 15). Target: p99 ≤ 3×.
 *   `abuse-garbage-flood-idle`: from the end of the flood until the process (every thread) uses under
 *   5 % of a core over 200 ms, beside the same measure after the reference phase. Target: < 5 s.
 * - `abuse-auth-flood`: a device that connected before reconnects while 1,000 connections at a time
 *   present wrong secrets for its id (MEDGW_BENCH_ABUSE_AUTH_SECONDS, default 6), beside the same
 *   reconnect with no attack. Target: < 1 s.
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { SimulatedMqttDevice } from '../simulators/mqtt/device.ts';
import { encodeReading, sampleReading } from '../simulators/mqtt/payloads.ts';
import type { FloodOrder, FloodReport } from './abuse-flood-child.ts';
import { startGatewaySide } from './ingest.ts';
import { envInt, percentile, ratio, round, tempDir } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the attackers; resolves with their report once their time is up. */
function attack(order: FloodOrder): Promise<FloodReport> {
  const child = spawn(
    process.execPath,
    ['bin/run.mjs', 'bench/abuse-flood-child.ts', JSON.stringify(order)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let report: FloodReport | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      report = JSON.parse(line) as FloodReport;
    });
    child.once('exit', (code) =>
      report ? resolve(report) : reject(new Error(`the attackers' process ended without a report (${code})`)),
    );
  });
}

/** Milliseconds until every thread of this process together stays under 5 % of a core for 200 ms. */
async function timeToIdle(limitMs = 30_000): Promise<number> {
  const start = performance.now();
  let quiet = 0;
  let prev = process.cpuUsage();
  let last = performance.now();
  while (performance.now() - start < limitMs) {
    await sleep(100);
    const used = process.cpuUsage(prev);
    const now = performance.now();
    const share = (used.user + used.system) / 1000 / (now - last);
    prev = process.cpuUsage();
    last = now;
    quiet = share < 0.05 ? quiet + 1 : 0;
    if (quiet >= 2) return now - start - 200;
  }
  return Number.POSITIVE_INFINITY;
}

export async function abuseGarbageFloodBench(): Promise<BenchRow[]> {
  const floodSeconds = envInt('MEDGW_BENCH_ABUSE_FLOOD_SECONDS', 15);
  const referenceSeconds = envInt('MEDGW_BENCH_ABUSE_REFERENCE_SECONDS', floodSeconds);
  const dir = tempDir('abuse-garbage');
  const gw = await startGatewaySide(dir.path, 6, 'abuse');
  const [legitId, newcomerBefore, newcomerDuring, ...flooders] = gw.fleet.ids;
  /** A device connecting for the first time since the broker started: ms until subscribed. */
  const firstConnection = async (deviceId: string | undefined): Promise<number> => {
    const d = new SimulatedMqttDevice({
      url: gw.fleet.url,
      deviceId: deviceId ?? '',
      secret: gw.fleet.secret,
    });
    const t0 = performance.now();
    await d.connect();
    const ms = performance.now() - t0;
    await d.close();
    return ms;
  };
  const legit = new SimulatedMqttDevice({
    url: gw.fleet.url,
    deviceId: legitId ?? '',
    secret: gw.fleet.secret,
  });
  await legit.connect();
  const base = Date.now() - 7 * 86_400_000;
  let seq = 0;
  /** One QoS 1 reading every 60 ms (under the default rate limit), PUBACK latencies in ms. */
  const measure = async (seconds: number): Promise<number[]> => {
    const out: number[] = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      seq += 1;
      const payload = encodeReading('json', sampleReading('glucose', seq, base + seq * 1000));
      const t0 = performance.now();
      await legit.publishRaw(legit.measurementTopic('json'), payload);
      out.push(performance.now() - t0);
      await sleep(60);
    }
    return out;
  };
  try {
    await measure(1); // warm-up
    const [reference, newcomerReference] = await Promise.all([
      measure(referenceSeconds),
      sleep(referenceSeconds * 500).then(() => firstConnection(newcomerBefore)),
    ]);
    const idleReference = await timeToIdle();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const flood = attack({
      mode: 'garbage',
      url: gw.fleet.url,
      ids: flooders,
      secret: gw.fleet.secret,
      seconds: floodSeconds,
    });
    const [during, newcomerFlood] = await Promise.all([
      measure(floodSeconds),
      sleep(floodSeconds * 500).then(() => firstConnection(newcomerDuring)),
    ]);
    const report = await flood;
    loop.disable();
    const idleAfter = await timeToIdle();
    await gw.pipeline.rejections.flush();
    const summaries = gw.journal.auditList().filter((e) => e.event === 'reading.rejected').length;
    const p99 = percentile(during, 0.99);
    const p99ref = percentile(reference, 0.99);
    const common = {
      floodSeconds,
      flooders: flooders.length,
      garbageSent: report.published,
      floodConnections: report.connections,
      floodRefusedConnack: report.refused,
      decodedAndRejected: gw.pipeline.counters.rejected.MEDGW_ERR_PAYLOAD_JSON ?? 0,
      refusedByRateLimit: gw.pipeline.counters.rejected.MEDGW_ERR_MQTT_RATE_LIMITED ?? 0,
      auditSummaries: summaries,
      firstConnectionDuringFloodMs: round(newcomerFlood),
      firstConnectionAloneMs: round(newcomerReference),
    };
    return [
      {
        name: 'abuse-garbage-flood',
        value: round(p99),
        unit: 'ms (PUBACK p99 of a legitimate device)',
        reference: { name: 'the same device, same run, no flood (PUBACK p99)', value: round(p99ref) },
        ratio: ratio(p99, p99ref),
        target: '≤ 3',
        samples: during.length,
        referenceSamples: reference.length,
        loopDelayP99Ms: round(loop.percentile(99) / 1e6),
        ...common,
      },
      {
        name: 'abuse-garbage-flood-idle',
        value: round(idleAfter),
        unit: 'ms from the end of the flood to idle (< 5 % of a core)',
        reference: {
          name: 'the same measure after the reference phase, same run',
          value: round(idleReference),
        },
        ratio: ratio(Math.max(idleAfter, 1), Math.max(idleReference, 1)),
        target: '< 5000 ms',
      },
    ];
  } finally {
    await legit.close();
    await gw.stop();
    dir.remove();
  }
}

export async function abuseAuthFloodBench(): Promise<BenchRow[]> {
  const seconds = envInt('MEDGW_BENCH_ABUSE_AUTH_SECONDS', 6);
  const concurrency = envInt('MEDGW_BENCH_ABUSE_AUTH_CONCURRENCY', 1000);
  const dir = tempDir('abuse-auth');
  const gw = await startGatewaySide(dir.path, 1, 'abuse-auth');
  const id = gw.fleet.ids[0] ?? '';
  /** Connects (CONNACK and receipts subscription) and disconnects: ms. */
  const reconnect = async (): Promise<number> => {
    const d = new SimulatedMqttDevice({ url: gw.fleet.url, deviceId: id, secret: gw.fleet.secret });
    const t0 = performance.now();
    await d.connect();
    const ms = performance.now() - t0;
    await d.close();
    return ms;
  };
  try {
    await reconnect(); // the device proves its secret once, as before any reconnection
    const reference: number[] = [];
    for (let i = 0; i < 5; i++) reference.push(await reconnect());
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const flood = attack({ mode: 'auth', url: gw.fleet.url, id, concurrency, seconds });
    await sleep(Math.min(2_000, (seconds * 1000) / 3)); // the attack under way
    const during: number[] = [];
    for (let i = 0; i < 5; i++) {
      during.push(await reconnect());
      await sleep(200);
    }
    loop.disable();
    const report = await flood;
    const worst = Math.max(...during);
    const worstRef = Math.max(...reference);
    const refused = Object.values(report.refused).reduce((a, b) => a + b, 0);
    return [
      {
        name: 'abuse-auth-flood',
        value: round(worst),
        unit: 'ms (slowest of 5 reconnections of a device that connected before)',
        reference: {
          name: 'the same reconnections, same run, no attack (slowest of 5)',
          value: round(worstRef),
        },
        ratio: ratio(worst, worstRef),
        target: '< 1000 ms',
        concurrency,
        attackSeconds: seconds,
        wrongSecretAttempts: refused,
        attemptsPerSecond: round(refused / seconds),
        refusedConnack: report.refused,
        medianDuringMs: round(percentile(during, 0.5)),
        duringMs: during.map(round),
        loopDelayP99Ms: round(loop.percentile(99) / 1e6),
        loopDelayMaxMs: round(loop.max / 1e6),
      },
    ];
  } finally {
    await gw.stop();
    dir.remove();
  }
}
