/**
 * The attackers of the abuse benchmarks, in their own process (bench/abuse.ts starts it), as an
 * outside attacker is: `node bin/run.mjs bench/abuse-flood-child.ts <order JSON>`; prints one JSON
 * line with what it did when the time is up, then ends.
 * - `garbage`: registered devices (right secrets) publish garbage at QoS 0 as fast as their sockets
 *   take it; when the broker disconnects one, it tries to connect again every 200 ms.
 * - `auth`: `concurrency` connections at a time present a wrong secret for one device id; each one
 *   refused is replaced at once.
 */
import mqtt, { type MqttClient } from 'mqtt';

export type FloodOrder =
  | {
      readonly mode: 'garbage';
      readonly url: string;
      readonly ids: readonly string[];
      readonly secret: string;
      readonly seconds: number;
    }
  | {
      readonly mode: 'auth';
      readonly url: string;
      readonly id: string;
      readonly concurrency: number;
      readonly seconds: number;
    };

export interface FloodReport {
  readonly published: number;
  readonly connections: number;
  readonly refused: Record<string, number>;
}

const order = JSON.parse(process.argv[2] ?? '{}') as FloodOrder;
const until = Date.now() + order.seconds * 1000;
const report = { published: 0, connections: 0, refused: {} as Record<string, number> };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function attempt(id: string, password: string): Promise<MqttClient | undefined> {
  return new Promise((resolve) => {
    const c = mqtt.connect(order.url, {
      clientId: id,
      username: id,
      password,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    c.once('connect', () => {
      report.connections += 1;
      resolve(c);
    });
    c.once('error', (err) => {
      const code = String((err as { code?: unknown }).code ?? 'error');
      report.refused[code] = (report.refused[code] ?? 0) + 1;
      c.end(true);
      resolve(undefined);
    });
    c.once('close', () => resolve(undefined));
  });
}

async function garbage(id: string, secret: string): Promise<void> {
  const payload = Buffer.from('{"not":"a reading"');
  const topic = `medgw/v1/devices/${id}/measurements/json`;
  while (Date.now() < until) {
    const c = await attempt(id, secret);
    if (!c) {
      await sleep(200);
      continue;
    }
    while (Date.now() < until && c.connected) {
      for (let i = 0; i < 200 && c.connected; i++) {
        c.publish(topic, payload, { qos: 0 });
        report.published += 1;
      }
      const stream = c.stream as { writableNeedDrain?: boolean; once: (e: string, f: () => void) => void };
      if (stream.writableNeedDrain) await new Promise<void>((r) => stream.once('drain', r));
      else await new Promise((r) => setImmediate(r));
    }
    c.end(true);
  }
}

async function auth(id: string, concurrency: number): Promise<void> {
  let n = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const c = await attempt(id, `wrong-secret-${n++}`);
      c?.end(true);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

if (order.mode === 'garbage') await Promise.all(order.ids.map((id) => garbage(id, order.secret)));
else await auth(order.id, order.concurrency);
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
