/**
 * Chaos (not timed): 20 SIGKILLs of a gateway started by the real start path under QoS 1 load from
 * four MQTT devices, each followed at once by a restart on the same data directory. Every restart
 * must succeed (the lock of the killed process is taken over, the registry and the journal open),
 * every PUBACKed reading must be in the journal exactly once, and the audit chain must verify.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { decodePayload } from '../../drivers/mqtt/index.ts';
import { readingId } from '../../drivers/reading-id.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { encodeReading, type SimReading, sampleReading } from '../../simulators/mqtt/payloads.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-chaos-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const KILLS = 20;
const DEVICES = ['chaos-1', 'chaos-2', 'chaos-3', 'chaos-4'];
const BASE = Date.now() - 48 * 3_600_000;
const reading = (seq: number): SimReading => sampleReading('glucose', seq, BASE + seq * 1_000);

/** Starts the gateway child; resolves with its MQTT port, rejects with what it said if it did not start. */
function start(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/run.mjs', 'tests/start/chaos-gateway.ts', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let said = '';
  child.stderr?.on('data', (b: Buffer) => {
    said += b.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`the restart failed (${code ?? signal}): ${said}`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      said += `${line}\n`;
      const [tag, port] = line.split(' ');
      if (tag === 'port' && port) resolve({ port: Number(port), child });
    });
  });
}

it(`every PUBACKed reading is stored exactly once over ${KILLS} SIGKILLs with immediate restarts`, async () => {
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  const clock = { now: () => Date.now() };
  await addPatient(registry, { id: 'p-chaos', displayName: 'Chaos patient' }, clock);
  const secrets = new Map<string, string>();
  for (const id of DEVICES) {
    const { secret } = await addDevice(registry, { id, transport: 'mqtt', patientId: 'p-chaos' }, clock);
    if (secret) secrets.set(id, secret);
  }
  const acked = new Map<string, Set<number>>(DEVICES.map((d) => [d, new Set<number>()]));
  const published = new Map<string, Set<number>>(DEVICES.map((d) => [d, new Set<number>()]));
  const next = new Map<string, number>(DEVICES.map((d) => [d, 1]));
  let restarts = 0;

  let gw = await start();
  for (let kill = 0; kill < KILLS; kill++) {
    // a different moment each round: after 0 (right after start) to about 150 acknowledgements
    const quota = (kill * 37) % 151;
    let round = 0;
    const devices = DEVICES.map(
      (id) =>
        new SimulatedMqttDevice({
          url: `mqtt://127.0.0.1:${gw.port}`,
          deviceId: id,
          secret: secrets.get(id) ?? '',
        }),
    );
    await Promise.all(devices.map((d) => d.connect()));
    let killed: Promise<void> | undefined;
    const killNow = () => {
      killed ??= (async () => {
        gw.child.kill('SIGKILL');
        // the restart is immediate: it does not wait for the killed process to be reaped
        gw = await start();
        restarts += 1;
      })();
    };
    if (quota === 0) killNow();
    await Promise.all(
      devices.map(async (d) => {
        for (;;) {
          // a device sends again what was not acknowledged before anything new (QoS 1)
          const seq = next.get(d.id) ?? 1;
          published.get(d.id)?.add(seq);
          try {
            await d.publishRaw(d.measurementTopic('json'), encodeReading('json', reading(seq)));
          } catch {
            return;
          }
          acked.get(d.id)?.add(seq);
          next.set(d.id, seq + 1);
          if (++round >= quota) killNow();
        }
      }),
    );
    await Promise.allSettled(devices.map((d) => d.close()));
    await killed;
  }
  expect(restarts).toBe(KILLS);
  gw.child.kill('SIGKILL');
  await new Promise((r) => gw.child.once('exit', r));

  const journal = new SqliteJournal({ path: join(dir, 'journal.db') });
  try {
    const stored = journal.list({ limit: 1_000_000 });
    expect(new Set(stored.map((r) => r.id)).size).toBe(stored.length);
    let ackedCount = 0;
    for (const id of DEVICES) {
      for (const seq of acked.get(id) ?? []) {
        ackedCount += 1;
        const { measurement } = decodePayload('json', encodeReading('json', reading(seq)));
        const rid = readingId({ deviceId: id, kind: 'glucose', measurement });
        expect(journal.get(rid), `${id} seq ${seq} was acknowledged`).toBeDefined();
      }
    }
    expect(ackedCount).toBeGreaterThan(KILLS * 50);
    // exactly once: one stored reading per (device, sequence) sent, whatever was sent again
    const publishedCount = [...published.values()].reduce((n, s) => n + s.size, 0);
    expect(stored.length).toBeLessThanOrEqual(publishedCount);
    expect(stored.length).toBeGreaterThanOrEqual(ackedCount);
    expect(journal.auditVerify()).toBeUndefined();
  } finally {
    journal.close();
  }
}, 300_000);
