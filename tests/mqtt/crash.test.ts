import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../../drivers/mqtt/index.ts';
import { readingId } from '../../drivers/reading-id.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { addDevice, addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { encodeReading, type SimReading, sampleReading } from '../../simulators/mqtt/payloads.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-mqtt-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEVICES = ['crash-1', 'crash-2', 'crash-3', 'crash-4'];
const BASE = Date.now() - 48 * 3_600_000;
const reading = (seq: number): SimReading => sampleReading('glucose', seq, BASE + seq * 1_000);

function startChild(): Promise<{ port: number; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['bin/run.mjs', 'tests/mqtt/crash-gateway.ts', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway child exited early (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [tag, port] = line.split(' ');
      if (tag === 'port' && port) {
        resolve({
          port: Number(port),
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
  });
}

describe('crash safety of MQTT ingest', () => {
  it('every PUBACKed reading is in the journal exactly once after repeated SIGKILLs', async () => {
    const registry = await LowRegistry.open(join(dir, 'registry.json'));
    const clock = { now: () => Date.now() };
    await addPatient(registry, { id: 'p-crash', displayName: 'Crash patient' }, clock);
    const secrets = new Map<string, string>();
    for (const id of DEVICES) {
      const { secret } = await addDevice(registry, { id, transport: 'mqtt', patientId: 'p-crash' }, clock);
      if (secret) secrets.set(id, secret);
    }

    const acked = new Map<string, Set<number>>(DEVICES.map((d) => [d, new Set<number>()]));
    const published = new Map<string, Set<number>>(DEVICES.map((d) => [d, new Set<number>()]));
    const next = new Map<string, number>(DEVICES.map((d) => [d, 1]));
    let total = 0;

    for (let round = 0; round < 3; round++) {
      const gw = await startChild();
      const target = total + 120 + round * 37;
      const devices = DEVICES.map(
        (id) =>
          new SimulatedMqttDevice({
            url: `mqtt://127.0.0.1:${gw.port}`,
            deviceId: id,
            secret: secrets.get(id) ?? '',
          }),
      );
      await Promise.all(devices.map((d) => d.connect()));
      let killing: Promise<void> | undefined;
      await Promise.all(
        devices.map(async (d) => {
          for (;;) {
            // a device re-sends what was not acknowledged before it sends anything new
            const seq = next.get(d.id) ?? 1;
            published.get(d.id)?.add(seq);
            try {
              await d.publishRaw(d.measurementTopic('json'), encodeReading('json', reading(seq)));
            } catch {
              return;
            }
            acked.get(d.id)?.add(seq);
            next.set(d.id, seq + 1);
            total += 1;
            if (total >= target) killing ??= gw.kill();
          }
        }),
      );
      await killing;
      await Promise.allSettled(devices.map((d) => d.close()));
    }

    const journal = new SqliteJournal({ path: join(dir, 'journal.db') });
    try {
      const stored = journal.list({ limit: 100_000 });
      const ids = new Set(stored.map((r) => r.id));
      expect(ids.size).toBe(stored.length);
      let ackedCount = 0;
      for (const id of DEVICES) {
        for (const seq of acked.get(id) ?? []) {
          ackedCount += 1;
          const { measurement } = decodePayload('json', encodeReading('json', reading(seq)));
          const rid = readingId({ deviceId: id, kind: 'glucose', measurement });
          expect(journal.get(rid), `${id} seq ${seq} was acknowledged`).toBeDefined();
        }
      }
      expect(ackedCount).toBeGreaterThanOrEqual(120 + 157 + 194);
      // nothing beyond what devices sent, nothing twice: at most one reading per published (device, seq)
      const publishedCount = [...published.values()].reduce((n, s) => n + s.size, 0);
      expect(stored.length).toBeLessThanOrEqual(publishedCount);
      expect(stored.length).toBeGreaterThanOrEqual(ackedCount);
    } finally {
      journal.close();
    }
  }, 60_000);
});
