/**
 * Authentication under abuse: an unknown device id takes the same path as a wrong secret for a known
 * one (the secret check, against a dummy hash) and gets the same answer; wrong secrets back off per
 * device id and per remote address (exponentially, without a secret check while backing off); the
 * queue of waiting checks is bounded; a device with its right secret (one SHA-256) gets in at once,
 * back-off or not. Behaviour only: the figures are in bench/abuse-auth-flood.ts.
 */
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FailureBackoff } from '../../gateway/mqtt/limits.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** CONNACK return code of one attempt (0 = accepted), optionally from another loopback address. */
function connack(port: number, id: string, secret: string, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const c = new MqttClient(() => createConnection({ port, host: '127.0.0.1', localAddress }), {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      protocolVersion: 4,
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

/** Counts the slow secret checks the broker asks the registry for, by id. */
function countChecks(h: Harness): Map<string, number> {
  const calls = new Map<string, number>();
  const original = h.registry.verifyDeviceSecretAsync.bind(h.registry);
  h.registry.verifyDeviceSecretAsync = (id, secret) => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    return original(id, secret);
  };
  return calls;
}

describe('MQTT authentication under abuse', () => {
  it('an unknown id goes through the same secret check as a wrong secret and gets the same answer', async () => {
    h = await startHarness();
    const port = h.broker.address().port;
    const checks = countChecks(h);
    expect(await connack(port, 'bp-1', 'wrong-secret')).toBe(4);
    expect(await connack(port, 'no-such-device', 'wrong-secret')).toBe(4);
    expect(checks.get('bp-1')).toBe(1);
    expect(checks.get('no-such-device')).toBe(1);
    expect(h.broker.counters.refused).toMatchObject({ 'bad-secret': 1, 'unknown-device': 1 });
    // the registry's answer for an unknown id comes from a full check, not a shortcut
    expect(await h.registry.verifyDeviceSecretAsync('no-such-device', 'x')).toBe(false);
    expect(h.registry.knowsDeviceSecret('no-such-device', 'x')).toBe(false);
  });

  it('wrong secrets back off per id (no secret check meanwhile, doubling); the proven device still gets in at once', async () => {
    let now = Date.now();
    h = await startHarness({
      broker: {
        now: () => now,
        authLimits: { failuresBeforeBackoff: 3, backoffSeconds: 60, maxBackoffSeconds: 600 },
      },
    });
    const port = h.broker.address().port;
    const secret = h.secrets.get('bp-1') ?? '';
    // the device proves its secret once
    expect(await connack(port, 'bp-1', secret)).toBe(0);
    const checks = countChecks(h);
    for (let i = 0; i < 3; i++) expect(await connack(port, 'bp-1', `guess-${i}`, '127.0.0.2')).toBe(4);
    expect(checks.get('bp-1')).toBe(3);
    // backing off: refused at once (CONNACK 3), no secret check
    expect(await connack(port, 'bp-1', 'guess-3', '127.0.0.3')).toBe(3);
    expect(checks.get('bp-1')).toBe(3);
    expect(h.broker.counters.refused['auth-backoff']).toBe(1);
    // the device with its right secret: in at once, without a queued check (both of its connections)
    expect(await connack(port, 'bp-1', secret)).toBe(0);
    expect(checks.get('bp-1')).toBe(3);
    expect(h.broker.counters.knownSecret).toBe(2);
    // after the back-off one more wrong secret doubles it (120 s)
    now += 61_000;
    expect(await connack(port, 'bp-1', 'guess-4', '127.0.0.3')).toBe(4);
    now += 61_000;
    expect(await connack(port, 'bp-1', 'guess-5', '127.0.0.3')).toBe(3);
    now += 60_000;
    expect(await connack(port, 'bp-1', 'guess-6', '127.0.0.3')).toBe(4);
  });

  it('wrong secrets back off per address: that address waits, another one does not', async () => {
    let now = Date.now();
    h = await startHarness({
      broker: { now: () => now, authLimits: { failuresBeforeBackoff: 3, backoffSeconds: 30 } },
    });
    const port = h.broker.address().port;
    // three different (unknown) ids from one address
    for (const id of ['x-1', 'x-2', 'x-3']) expect(await connack(port, id, 'guess', '127.0.0.2')).toBe(4);
    // that address backs off, even for a real device it did not try yet: a guess waits
    expect(await connack(port, 'bp-2', 'guess', '127.0.0.2')).toBe(3);
    // the right secret is no guess: in at once (a device behind the same NAT is not locked out)
    expect(await connack(port, 'bp-2', h.secrets.get('bp-2') ?? '', '127.0.0.2')).toBe(0);
    // another address is not concerned
    expect(await connack(port, 'x-4', 'guess', '127.0.0.4')).toBe(4);
    now += 31_000;
    expect(await connack(port, 'x-5', 'guess', '127.0.0.2')).toBe(4);
  });

  it('the queue of secret checks is bounded: beyond it a connection is refused at once (CONNACK 3)', async () => {
    // older scrypt records: their right secret waits in the queue as a wrong one does
    h = await startHarness({
      devices: { 'bp-1': { patient: 'alice', legacy: true }, 'bp-2': { patient: 'bob', legacy: true } },
      broker: { authConcurrency: 1, authLimits: { maxPending: 2 } },
    });
    const port = h.broker.address().port;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const original = h.registry.verifyDeviceSecretAsync.bind(h.registry);
    let started = 0;
    h.registry.verifyDeviceSecretAsync = async (id, secret) => {
      started += 1;
      await gate;
      return original(id, secret);
    };
    const secret = h.secrets.get('bp-1') ?? '';
    // one check running, two waiting
    const held = [connack(port, 'bp-1', secret), connack(port, 'bp-2', h.secrets.get('bp-2') ?? '')];
    held.push(connack(port, 'bp-1', secret));
    while (started < 1) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    expect(await connack(port, 'bp-2', 'whatever')).toBe(3);
    expect(h.broker.counters.refused['auth-busy']).toBe(1);
    release();
    expect(await Promise.all(held)).toEqual([0, 0, 0]);
  });

  it('a flood of refusals is counted, not logged line by line', async () => {
    const lines: { msg?: string; reason?: string; unlogged?: number }[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    h = await startHarness({ log, broker: { authLimits: { failuresBeforeBackoff: 1_000 } } });
    const port = h.broker.address().port;
    for (let i = 0; i < 12; i++) expect(await connack(port, 'bp-1', `guess-${i}`)).toBe(4);
    expect(h.broker.counters.refused['bad-secret']).toBe(12);
    const refusals = lines.filter((l) => l.msg === 'MQTT request refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.reason).toBe('bad-secret');
  });

  it('failure records are bounded and forgiven after a quiet time', () => {
    let now = 0;
    const limits = { maxPending: 1, failuresBeforeBackoff: 2, backoffSeconds: 1, maxBackoffSeconds: 4 };
    const b = new FailureBackoff(limits, () => now, 3);
    for (const k of ['a', 'b', 'c', 'd']) {
      b.fail(k);
      b.fail(k);
    }
    // 'a' was the oldest of four with room for three: forgotten
    expect(b.blockedFor('a')).toBe(0);
    expect(b.blockedFor('d')).toBe(1_000);
    b.fail('d');
    expect(b.blockedFor('d')).toBe(2_000);
    b.fail('d');
    b.fail('d');
    b.fail('d');
    expect(b.blockedFor('d')).toBe(4_000);
    now += 10_000;
    b.fail('d');
    expect(b.blockedFor('d')).toBe(0);
    for (const key of ['__proto__', 'constructor', 'toString']) {
      b.fail(key);
      b.fail(key);
      expect(b.blockedFor(key)).toBe(1_000);
    }
  });
});
