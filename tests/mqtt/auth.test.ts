/**
 * The authenticate hook checks secrets off the event loop: a device whose check is still running (an
 * older scrypt record, on the thread pool) does not hold up the readings of a device already
 * connected, the number of checks at once is bounded, the synchronous check is never used, and a
 * check that fails denies (deny by default).
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { EmbeddedBroker } from '../../gateway/mqtt/broker.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { legacyScryptHash } from '../registry/legacy-secret.ts';
import { clock, silent } from './harness.ts';

interface Gateway {
  readonly registry: LowRegistry;
  readonly broker: EmbeddedBroker;
  readonly url: string;
  readonly secrets: Map<string, string>;
  stop(): Promise<void>;
}

let gw: Gateway | undefined;
const made: SimulatedMqttDevice[] = [];
afterEach(async () => {
  await Promise.allSettled(made.splice(0).map((d) => d.close()));
  await gw?.stop();
  gw = undefined;
});

/** `legacy`: devices stored as older versions did (scrypt), whose right secret waits in the queue. */
async function startGateway(
  ids: readonly string[],
  authConcurrency?: number,
  legacy: readonly string[] = [],
): Promise<Gateway> {
  const registry = await LowRegistry.memory();
  await addPatient(registry, { id: 'alice', displayName: 'Alice' }, clock);
  const secrets = new Map<string, string>();
  for (const id of ids) {
    const { secret } = await addDevice(registry, { id, transport: 'mqtt', patientId: 'alice' }, clock);
    if (secret) secrets.set(id, secret);
    const d = registry.getDevice(id);
    if (secret && d && legacy.includes(id))
      await registry.putDevice({ ...d, secretHash: legacyScryptHash(secret) });
  }
  const journal = new MemoryJournal({ clock });
  const pipeline = new Pipeline({ journal, registry, clock, log: silent });
  await pipeline.start();
  const broker = new EmbeddedBroker(
    { registry, sink: pipeline, log: silent },
    { port: 0, host: '127.0.0.1', ...(authConcurrency !== undefined ? { authConcurrency } : {}) },
  );
  await broker.start();
  return {
    registry,
    broker,
    url: `mqtt://127.0.0.1:${broker.address().port}`,
    secrets,
    async stop() {
      await broker.stop();
      await pipeline.stop();
      journal.close();
    },
  };
}

function device(g: Gateway, id: string, secret = g.secrets.get(id) ?? 'none'): SimulatedMqttDevice {
  const d = new SimulatedMqttDevice({ url: g.url, deviceId: id, secret });
  made.push(d);
  return d;
}

/** The synchronous check must never run in the broker: it would block the event loop. */
function forbidSyncCheck(registry: LowRegistry): void {
  registry.verifyDeviceSecret = () => {
    throw new Error('the broker used the blocking secret check');
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('embedded broker: secret checks off the event loop', () => {
  it('a connected device gets its PUBACK and receipt while another device is still being checked', async () => {
    gw = await startGateway(['bp-1', 'bp-2'], undefined, ['bp-2']);
    const g = gw;
    forbidSyncCheck(g.registry);
    const first = device(g, 'bp-1');
    await first.connect();
    const original = g.registry.verifyDeviceSecretAsync.bind(g.registry);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let checking = false;
    g.registry.verifyDeviceSecretAsync = async (id, secret) => {
      if (id === 'bp-2') {
        checking = true;
        await gate;
      }
      return original(id, secret);
    };
    const second = device(g, 'bp-2');
    let secondConnected = false;
    const connecting = second.connect().then(() => {
      secondConnected = true;
    });
    await until(() => checking);
    const outcome = await first.publish(sampleReading('blood-pressure', 1, Date.now() - 60_000), 'json');
    expect(outcome.acked).toBe(true);
    expect(outcome.receipt?.status).toBe('accepted');
    expect(secondConnected).toBe(false);
    release();
    await connecting;
    const later = await second.publish(sampleReading('glucose', 7, Date.now() - 60_000), 'cbor');
    expect(later.receipt?.status).toBe('accepted');
    expect(g.broker.counters.connections).toBe(2);
  });

  it('runs at most authConcurrency checks at once and lets every right secret in', async () => {
    const ids = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
    gw = await startGateway(ids, 2, ids);
    const g = gw;
    forbidSyncCheck(g.registry);
    const original = g.registry.verifyDeviceSecretAsync.bind(g.registry);
    let running = 0;
    let most = 0;
    let calls = 0;
    g.registry.verifyDeviceSecretAsync = async (id, secret) => {
      calls += 1;
      running += 1;
      most = Math.max(most, running);
      try {
        return await original(id, secret);
      } finally {
        running -= 1;
      }
    };
    await Promise.all(ids.map((id) => device(g, id).connect()));
    expect(calls).toBe(ids.length);
    expect(most).toBe(2);
    expect(g.broker.counters.connections).toBe(ids.length);
    expect(g.broker.counters.secretsMigrated).toBe(ids.length);
  });

  it('a wrong secret and a check that fails are both refused (CONNACK 4), nothing crashes', async () => {
    gw = await startGateway(['bp-1', 'bp-2'], undefined, ['bp-2']);
    const g = gw;
    forbidSyncCheck(g.registry);
    await expect(device(g, 'bp-1', 'not-the-secret').connect()).rejects.toThrow();
    const original = g.registry.verifyDeviceSecretAsync.bind(g.registry);
    g.registry.verifyDeviceSecretAsync = (id, secret) =>
      id === 'bp-2' ? Promise.reject(new Error('thread pool failure')) : original(id, secret);
    const code = await new Promise<number>((resolve) => {
      const c = mqtt.connect(g.url, {
        clientId: 'bp-2',
        username: 'bp-2',
        password: g.secrets.get('bp-2'),
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      c.on('connect', () => {
        c.end(true);
        resolve(0);
      });
      c.on('error', (err) => {
        c.end(true);
        resolve((err as { code?: number }).code ?? -1);
      });
    });
    expect(code).toBe(4);
    expect(g.broker.counters.refused['bad-secret']).toBe(2);
    // the right secret still gets in
    await device(g, 'bp-1').connect();
    expect(g.broker.counters.connections).toBe(1);
  });
});
