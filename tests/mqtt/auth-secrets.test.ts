/**
 * Device secrets over the real broker (aedes on TCP, the registry file on disk): a device added with
 * `medgw devices add` connects with the 256-bit secret printed once; the file holds only its SHA-256;
 * a wrong secret and an unknown id get the same answer by the same path; an older scrypt record
 * connects and is rewritten to the fast hash before its CONNACK (a failed rewrite keeps the device in
 * and is logged with its code); no secret and no hash ever reaches a log line.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { createLogger } from '../../gateway/log.ts';
import { EmbeddedBroker } from '../../gateway/mqtt/broker.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { LowRegistry } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { sampleReading } from '../../simulators/mqtt/payloads.ts';
import { ok } from '../cli/helpers.ts';
import { expectedFastHash, legacyScryptHash } from '../registry/legacy-secret.ts';
import { clock } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-auth-secrets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Gateway {
  readonly registry: LowRegistry;
  readonly broker: EmbeddedBroker;
  readonly port: number;
  readonly lines: string[];
  stop(): Promise<void>;
}

let gw: Gateway | undefined;
const made: SimulatedMqttDevice[] = [];
afterEach(async () => {
  await Promise.allSettled(made.splice(0).map((d) => d.close()));
  await gw?.stop();
  gw = undefined;
});

/** A gateway on the registry file of `dir`, every log line (debug and up, redaction on) kept. */
async function gatewayOn(dir: string): Promise<Gateway> {
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    }),
  });
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  const journal = new MemoryJournal({ clock });
  const pipeline = new Pipeline({ journal, registry, clock, log });
  await pipeline.start();
  const broker = new EmbeddedBroker({ registry, sink: pipeline, log }, { port: 0, host: '127.0.0.1' });
  await broker.start();
  return {
    registry,
    broker,
    port: broker.address().port,
    lines,
    async stop() {
      await broker.stop();
      await pipeline.stop();
      journal.close();
    },
  };
}

/** CONNACK return code of one attempt (0 = accepted). */
function connack(port: number, id: string, secret: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId: id,
      username: id,
      password: secret,
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
}

function storedHash(dir: string, id: string): string | undefined {
  const file = JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8')) as {
    devices: Record<string, { secretHash?: string }>;
  };
  return file.devices[id]?.secretHash;
}

/** Counts the registry's queued (slow-path) checks and its cheap ones, by id. */
function spy(registry: LowRegistry): { queued: Map<string, number>; cheap: Map<string, number> } {
  const queued = new Map<string, number>();
  const cheap = new Map<string, number>();
  const verify = registry.verifyDeviceSecretAsync.bind(registry);
  const knows = registry.knowsDeviceSecret.bind(registry);
  registry.verifyDeviceSecretAsync = (id, secret) => {
    queued.set(id, (queued.get(id) ?? 0) + 1);
    return verify(id, secret);
  };
  registry.knowsDeviceSecret = (id, secret) => {
    cheap.set(id, (cheap.get(id) ?? 0) + 1);
    return knows(id, secret);
  };
  return { queued, cheap };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

describe('MQTT device secrets: 256 random bits, SHA-256 at rest', () => {
  it('a device added with medgw devices add connects with its secret; a wrong one and an unknown id get the same answer', async () => {
    const dir = mkdtempSync(join(root, 'new-'));
    await ok(['patients', 'add', '--id', 'alice', '--name', 'Alice Martin', '--data-dir', dir]);
    const added = await ok([
      'devices',
      'add',
      '--transport',
      'mqtt',
      '--id',
      'cuff-1',
      '--patient',
      'alice',
      '--data-dir',
      dir,
    ]);
    const secret = /secret: (\S+)/.exec(added)?.[1] ?? '';
    // 32 random bytes, base64url without padding
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(added).toContain('256-bit');
    // the file holds the SHA-256 of the secret (computed here independently), never the secret
    expect(storedHash(dir, 'cuff-1')).toBe(expectedFastHash(secret));
    expect(readFileSync(join(dir, 'registry.json'), 'utf8')).not.toContain(secret);

    gw = await gatewayOn(dir);
    const g = gw;
    const calls = spy(g.registry);
    const cuff = new SimulatedMqttDevice({ url: `mqtt://127.0.0.1:${g.port}`, deviceId: 'cuff-1', secret });
    made.push(cuff);
    await cuff.connect();
    // in at once: one cheap check, no queued one
    expect(calls.cheap.get('cuff-1')).toBe(1);
    expect(calls.queued.get('cuff-1')).toBeUndefined();
    expect(g.broker.counters.knownSecret).toBe(1);
    const outcome = await cuff.publish(sampleReading('blood-pressure', 1, Date.now() - 60_000), 'json');
    expect(outcome.receipt?.status).toBe('accepted');

    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(await connack(g.port, 'cuff-1', wrong)).toBe(4);
    expect(await connack(g.port, 'no-such-cuff', secret)).toBe(4);
    // the same path for both: one cheap check, then one queued check, then the same refusal
    expect(calls.cheap.get('cuff-1')).toBe(2);
    expect(calls.queued.get('cuff-1')).toBe(1);
    expect(calls.cheap.get('no-such-cuff')).toBe(1);
    expect(calls.queued.get('no-such-cuff')).toBe(1);
    expect(g.broker.counters.refused).toMatchObject({ 'bad-secret': 1, 'unknown-device': 1 });
    expect(g.broker.counters.secretsMigrated).toBe(0);
    // nothing was migrated or rewritten by the refusals
    expect(storedHash(dir, 'cuff-1')).toBe(expectedFastHash(secret));
    const logged = g.lines.join('\n');
    expect(g.lines.some((l) => l.includes('MEDGW_ERR_MQTT_AUTH'))).toBe(true);
    for (const s of [secret, wrong, expectedFastHash(secret).slice('sha256$'.length)])
      expect(logged).not.toContain(s);
  });

  it('an older scrypt record connects and is rewritten to the fast hash before its CONNACK; a wrong secret migrates nothing', async () => {
    const dir = mkdtempSync(join(root, 'legacy-'));
    const secret = 'an older secret, from before the fast hash';
    const legacy = legacyScryptHash(secret);
    // a registry written by an older version: the record holds a salted scrypt hash
    const seed = await LowRegistry.open(join(dir, 'registry.json'));
    await seed.putDevice({ id: 'scale-9', transport: 'mqtt', secretHash: legacy, createdAt: 1 });
    expect(storedHash(dir, 'scale-9')).toBe(legacy);

    gw = await gatewayOn(dir);
    const g = gw;
    const calls = spy(g.registry);
    expect(await connack(g.port, 'scale-9', `${secret}!`)).toBe(4);
    expect(storedHash(dir, 'scale-9')).toBe(legacy);
    expect(await connack(g.port, 'scale-9', secret)).toBe(0);
    // scrypt passed, so the file already holds the fast hash when the CONNACK arrives
    expect(storedHash(dir, 'scale-9')).toBe(expectedFastHash(secret));
    expect(g.broker.counters.secretsMigrated).toBe(1);
    expect(calls.queued.get('scale-9')).toBe(2);
    // the next connection costs one SHA-256: in at once, no queued check
    expect(await connack(g.port, 'scale-9', secret)).toBe(0);
    expect(calls.queued.get('scale-9')).toBe(2);
    expect(g.broker.counters.knownSecret).toBe(1);
    // and after a restart, from the file
    await g.stop();
    gw = await gatewayOn(dir);
    expect(gw.registry.deviceSecretKind('scale-9')).toBe('sha256');
    expect(await connack(gw.port, 'scale-9', secret)).toBe(0);
    expect(await connack(gw.port, 'scale-9', `${secret}!`)).toBe(4);
    const logged = [...g.lines, ...gw.lines].join('\n');
    for (const s of [
      secret,
      legacy.split('$')[5] ?? legacy,
      expectedFastHash(secret).slice('sha256$'.length),
    ])
      expect(logged).not.toContain(s);
  });

  it('a rewrite the registry cannot write keeps the device in, logs MEDGW_ERR_DATADIR and is tried again at the next login', async () => {
    const dir = mkdtempSync(join(root, 'blocked-'));
    const secret = 'another older secret';
    const legacy = legacyScryptHash(secret);
    const seed = await LowRegistry.open(join(dir, 'registry.json'));
    await seed.putDevice({ id: 'cuff-5', transport: 'mqtt', secretHash: legacy, createdAt: 1 });
    gw = await gatewayOn(dir);
    const g = gw;
    // the temporary file cannot be created (as a full disk would refuse it): a directory holds its name
    const blocker = join(dir, `.registry.json.${process.pid}.tmp`);
    mkdirSync(blocker);
    expect(await connack(g.port, 'cuff-5', secret)).toBe(0);
    expect(storedHash(dir, 'cuff-5')).toBe(legacy);
    expect(g.broker.counters.secretsMigrated).toBe(0);
    const warning = g.lines.map((l) => JSON.parse(l)).find((l) => l.msg?.includes('still stored as scrypt'));
    expect(warning).toMatchObject({ code: 'MEDGW_ERR_DATADIR' });
    rmSync(blocker, { recursive: true });
    // proven in this process: in at once, and the rewrite is tried again
    expect(await connack(g.port, 'cuff-5', secret)).toBe(0);
    await until(() => storedHash(dir, 'cuff-5') === expectedFastHash(secret));
    expect(g.broker.counters.secretsMigrated).toBe(1);
    expect(g.lines.join('\n')).not.toContain(secret);
  });
});
