/**
 * The BLE central under test: real noble over the virtual radio, the real pipeline, the SQLite
 * journal and the lowdb registry in a temp directory. Timings are short so retries and quiet periods
 * pass quickly; nothing here replaces a code path of the product.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  BleCentral,
  type BleCentralOptions,
  type BleState,
  type BleStateChange,
} from '../../gateway/ble/index.ts';
import type { DeviceRecord } from '../../gateway/contracts.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import type { SimPeripheral } from '../../simulators/ble/peripheral.ts';
import { createSimNoble, createVirtualRadio, type VirtualRadio } from '../../simulators/ble/radio.ts';

export const clock = { now: () => Date.now() };

export interface Harness {
  readonly dir: string;
  readonly registry: LowRegistry;
  readonly journal: SqliteJournal;
  readonly pipeline: Pipeline;
  readonly radio: VirtualRadio;
  readonly central: BleCentral;
  readonly changes: BleStateChange[];
  /** Waits for the `n`-th (1-based) change of a device into `state`, returns it. */
  waitState(deviceId: string, state: BleState, n?: number, timeoutMs?: number): Promise<BleStateChange>;
  /** Provisions a BLE device directly in the registry (as a pairing done earlier would have). */
  provision(device: Partial<DeviceRecord> & { id: string }): Promise<void>;
  close(): Promise<void>;
}

export async function harness(
  devices: SimPeripheral[],
  options: Partial<BleCentralOptions> = {},
  patients: readonly string[] = ['alice', 'bob', 'carol'],
  limits: { maxReadings?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'medgw-ble-'));
  const registry = await LowRegistry.open(join(dir, 'registry.json'));
  for (const id of patients) await addPatient(registry, { id, displayName: `Patient ${id}` }, clock);
  const journal = new SqliteJournal({ path: join(dir, 'journal.db'), clock, ...limits });
  const log = pino({ level: 'silent' });
  // The zone the central writes into device clocks is the one the pipeline reads them with (config timezone).
  const pipeline = new Pipeline({
    journal,
    registry,
    clock,
    log,
    timeZone: options.timeZone ?? 'Europe/Paris',
  });
  await pipeline.start();
  const radio = createVirtualRadio();
  for (const d of devices) radio.add(d);
  const central = new BleCentral({
    noble: () => createSimNoble(radio),
    registry,
    journal,
    sink: pipeline,
    clock,
    log,
    maxConnections: 3,
    timeZone: 'Europe/Paris',
    ...options,
    timing: {
      connectTimeoutMs: 2_000,
      gattTimeoutMs: 2_000,
      racpIdleTimeoutMs: 2_000,
      quietMs: 120,
      lingerMs: 60_000,
      cooldownMs: 60_000,
      ...options.timing,
    },
    backoff: { baseMs: 20, maxMs: 200, maxAttempts: 10, ...options.backoff },
  });
  const changes: BleStateChange[] = [];
  central.feed.on('state', (c) => changes.push(c));

  const waitState = async (deviceId: string, state: BleState, n = 1, timeoutMs = 10_000) => {
    const start = Date.now();
    for (;;) {
      const hits = changes.filter((c) => c.deviceId === deviceId && c.state === state);
      if (hits.length >= n) return hits[n - 1]!;
      const failed = changes.filter((c) => c.deviceId === deviceId && c.state === 'failed').at(-1);
      if (Date.now() - start > timeoutMs) {
        throw new Error(
          `timed out waiting for ${deviceId} → ${state} #${n}; last failure: ${failed?.code ?? 'none'} ${failed?.message ?? ''}; states: ${changes
            .filter((c) => c.deviceId === deviceId)
            .map((c) => c.state)
            .join(' ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  return {
    dir,
    registry,
    journal,
    pipeline,
    radio,
    central,
    changes,
    waitState,
    provision: (d) =>
      registry.putDevice({ transport: 'ble', bond: 'bonded', createdAt: clock.now(), ...d } as DeviceRecord),
    close: async () => {
      await central.stop();
      await pipeline.stop();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `predicate` holds (polling), or throws after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
