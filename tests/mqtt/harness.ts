/**
 * A gateway in one process for MQTT tests: real registry (lowdb in memory), a journal (memory by
 * default), the pipeline and the embedded aedes broker on a free loopback port.
 */
import pino, { type Logger } from 'pino';
import type { Journal } from '../../gateway/contracts.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { type BrokerOptions, EmbeddedBroker } from '../../gateway/mqtt/broker.ts';
import { type Committer, Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addDevice, addPatient, assignDevice, LowRegistry } from '../../gateway/registry/index.ts';
import { type SimDeviceOptions, SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { legacyScryptHash } from '../registry/legacy-secret.ts';

export const clock = { now: () => Date.now() };
export const silent = pino({ level: 'silent' });

export interface Harness {
  readonly registry: LowRegistry;
  readonly journal: Journal;
  readonly pipeline: Pipeline;
  readonly broker: EmbeddedBroker;
  readonly url: string;
  readonly secrets: Map<string, string>;
  device(id: string, extra?: Partial<SimDeviceOptions>): SimulatedMqttDevice;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly journal?: Journal;
  /** The commit path of the pipeline (to delay commits). */
  readonly commits?: (journal: Journal) => Committer;
  /** Devices to provision: id → patient (or users map for a household device). */
  readonly devices?: Record<string, { patient?: string; users?: Record<string, string>; legacy?: boolean }>;
  /** Window of the aggregated audit of refused inputs (default: the pipeline's). */
  readonly rejectionWindowMs?: number;
  /** The broker's logger (default: silent). */
  readonly log?: Logger;
  /** Broker options besides port and host (rate limit, authentication limits). */
  readonly broker?: Partial<BrokerOptions>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const registry = await LowRegistry.memory();
  const secrets = new Map<string, string>();
  const devices = options.devices ?? { 'bp-1': { patient: 'alice' }, 'bp-2': { patient: 'bob' } };
  const patients = new Set<string>();
  for (const d of Object.values(devices)) {
    if (d.patient) patients.add(d.patient);
    for (const p of Object.values(d.users ?? {})) patients.add(p);
  }
  for (const p of patients) await addPatient(registry, { id: p, displayName: `Patient ${p}` }, clock);
  for (const [id, d] of Object.entries(devices)) {
    const { secret } = await addDevice(registry, { id, transport: 'mqtt', patientId: d.patient }, clock);
    if (secret) secrets.set(id, secret);
    if (d.users) await assignDevice(registry, id, { users: d.users });
    // a record as older versions stored it (scrypt): its check waits in the broker's queue
    if (d.legacy && secret) {
      const device = registry.getDevice(id);
      if (device) await registry.putDevice({ ...device, secretHash: legacyScryptHash(secret) });
    }
  }
  const journal = options.journal ?? new MemoryJournal({ clock });
  const pipeline = new Pipeline({
    journal,
    registry,
    clock,
    log: silent,
    ...(options.commits ? { commits: options.commits(journal) } : {}),
    ...(options.rejectionWindowMs !== undefined ? { rejectionWindowMs: options.rejectionWindowMs } : {}),
  });
  await pipeline.start();
  const broker = new EmbeddedBroker(
    { registry, sink: pipeline, log: options.log ?? silent },
    { ...options.broker, port: 0, host: '127.0.0.1' },
  );
  await broker.start();
  const url = `mqtt://127.0.0.1:${broker.address().port}`;
  const made: SimulatedMqttDevice[] = [];
  return {
    registry,
    journal,
    pipeline,
    broker,
    url,
    secrets,
    device(id, extra = {}) {
      const d = new SimulatedMqttDevice({ url, deviceId: id, secret: secrets.get(id) ?? 'none', ...extra });
      made.push(d);
      return d;
    },
    async stop() {
      await Promise.allSettled(made.map((d) => d.close()));
      await broker.stop();
      await pipeline.stop();
      journal.close();
    },
  };
}
