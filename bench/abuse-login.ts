/**
 * abuse-login-flood: 200,000 unauthenticated `GET /login` against the local pages (32 at a time, keep-
 * alive), in a child process of its own (bench/abuse-login-child.ts) so the figures are the server's.
 * Rows:
 * - `abuse-login-flood`: growth of the V8 heap over the flood (after full garbage collections), against
 *   the growth over the same number of `GET /healthz` just before (a route that keeps nothing), with
 *   the resident-memory growth beside it. Target: < 20 MiB.
 * - `abuse-login-flood-p99`: p99 of 1,000 sequential `GET /login` after the flood, against the same
 *   p99 before it. Target: < 20 ms.
 *
 * Size: MEDGW_BENCH_LOGIN_REQUESTS (default 200000).
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { LoginChildReport } from './abuse-login-child.ts';
import { envInt, percentile, ratio, round } from './ingest-common.ts';
import type { BenchRow } from './results.ts';

const RUN = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('./abuse-login-child.ts', import.meta.url));

function get(agent: Agent, url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { accept: 'text/html' } }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`${url.pathname}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function flood(agent: Agent, url: URL, count: number, concurrency = 32): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < count) {
        sent += 1;
        await get(agent, url);
      }
    }),
  );
}

/** p50 and p99 of `count` sequential requests, in ms. */
async function latency(agent: Agent, url: URL, count = 1000): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await get(agent, url);
    samples.push(performance.now() - start);
  }
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

export async function abuseLoginFloodBench(): Promise<BenchRow[]> {
  const requests = envInt('MEDGW_BENCH_LOGIN_REQUESTS', 200_000);
  const child = fork(RUN, [CHILD], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (m: LoginChildReport) => void>();
  child.on('message', (m: LoginChildReport) => waiting.get(m.type === 'ready' ? 'ready' : m.label)?.(m));
  const next = (key: string) => new Promise<LoginChildReport>((resolve) => waiting.set(key, resolve));
  const memory = async (label: string) => {
    const answer = next(label);
    child.send(label);
    return (await answer) as Extract<LoginChildReport, { type: 'memory' }>;
  };
  const ready = (await next('ready')) as Extract<LoginChildReport, { type: 'ready' }>;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const login = new URL('/login', ready.url);
  const healthz = new URL('/healthz', ready.url);
  try {
    // warm-up: code loaded, caches filled, sockets open
    await flood(agent, login, 2_000);
    await flood(agent, healthz, 2_000);
    const latencyBefore = await latency(agent, login);
    const before = await memory('before');
    await flood(agent, healthz, requests);
    const mid = await memory('mid');
    await flood(agent, login, requests);
    const after = await memory('after');
    const latencyAfter = await latency(agent, login);
    const growth = after.heapMiB - mid.heapMiB;
    const reference = mid.heapMiB - before.heapMiB;
    return [
      {
        name: 'abuse-login-flood',
        value: round(growth),
        unit: 'MiB heap growth',
        reference: { name: `same number of GET /healthz`, value: round(reference) },
        ratio: ratio(Math.max(growth, 0.001), Math.max(reference, 0.001)),
        rssMiB: round(after.rssMiB - mid.rssMiB),
        requests,
        target: '< 20 MiB',
      },
      {
        name: 'abuse-login-flood-p99',
        value: round(latencyAfter.p99),
        unit: 'ms p99 of GET /login after the flood',
        reference: { name: 'p99 before the flood', value: round(latencyBefore.p99) },
        ratio: ratio(latencyAfter.p99, latencyBefore.p99),
        p50Ms: round(latencyAfter.p50),
        p50BeforeMs: round(latencyBefore.p50),
        target: '< 20 ms',
      },
    ];
  } finally {
    agent.destroy();
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await abuseLoginFloodBench()) console.log(JSON.stringify(r));
}
