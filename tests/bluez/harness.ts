/**
 * A private dbus-daemon, the fake BlueZ on it (backed by simulated peripherals), and the gateway's
 * side pointed at it: noble's own D-Bus bindings (DBUS_SYSTEM_BUS_ADDRESS, read by dbus-next's
 * systemBus()) and the pairing agent. Nothing touches the machine's system bus. A missing
 * dbus-daemon fails with the package to install, never a skip.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Noble } from '@stoprocent/noble';
import pino from 'pino';
import { type Gateway, startGateway } from '../../gateway/app.ts';
import { adapterNoble } from '../../gateway/ble/bindings.ts';
import { BluezPairing } from '../../gateway/ble/bluez/pairing.ts';
import type { PairingPrompt } from '../../gateway/ble/bluez/prompts.ts';
import { bleComponent } from '../../gateway/ble/component.ts';
import type { BleCentralOptions } from '../../gateway/ble/index.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { pipelineComponent } from '../../gateway/mqtt/components.ts';
import { addPatient } from '../../gateway/registry/index.ts';
import { webComponent } from '../../gateway/web/component.ts';
import type { SimPeripheral } from '../../simulators/ble/peripheral.ts';
import { type PrivateBus, startPrivateBus } from '../../simulators/bluez/daemon.ts';
import {
  FakeBluez,
  type FakeBluezOptions,
  type FakeDeviceOptions,
} from '../../simulators/bluez/fake-bluez.ts';
import { type Harness, harness } from '../ble-central/harness.ts';
import { medgw } from '../cli/helpers.ts';

export interface BluezBench {
  readonly bus: PrivateBus;
  readonly bluez: FakeBluez;
  readonly pairing: BluezPairing;
  /** noble on the D-Bus bindings (started lazily, stopped at close). */
  noble(): Noble;
  /** Resolves with the next prompt of the pairing agent for `deviceId`. */
  nextPrompt(deviceId: string): Promise<PairingPrompt>;
  close(): Promise<void>;
}

export async function bluezBench(
  options: { promptTimeoutMs?: number } & Omit<FakeBluezOptions, 'busAddress'> = {},
): Promise<BluezBench> {
  const { promptTimeoutMs: _, ...fake } = options;
  const bus = await startPrivateBus();
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  let bluez: FakeBluez | undefined;
  let pairing: BluezPairing | undefined;
  let noble: Noble | undefined;
  try {
    bluez = await FakeBluez.start({ ...fake, busAddress: bus.address });
    pairing = new BluezPairing({
      log: pino({ level: 'silent' }),
      ...(options.promptTimeoutMs !== undefined ? { promptTimeoutMs: options.promptTimeoutMs } : {}),
    });
    await pairing.start();
  } catch (e) {
    await bluez?.stop().catch(() => undefined);
    await bus.stop();
    throw e;
  }
  const p = pairing;
  return {
    bus,
    bluez,
    pairing: p,
    noble: () => {
      noble ??= adapterNoble('dbus');
      return noble;
    },
    nextPrompt: (deviceId) =>
      new Promise((resolve) => {
        const now = p.prompts.get(deviceId);
        if (now) return resolve(now);
        const fn = (prompt: PairingPrompt) => {
          if (prompt.deviceId !== deviceId) return;
          p.prompts.off('prompt', fn);
          resolve(prompt);
        };
        p.prompts.on('prompt', fn);
      }),
    close: async () => {
      if (noble) {
        noble.removeAllListeners();
        await noble.stopScanningAsync().catch(() => undefined);
        (noble as unknown as { _bindings: { stop(): void } })._bindings.stop();
      }
      await p.stop();
      await bluez.stop();
      await bus.stop();
      delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    },
  };
}

/** A device model on the fake BlueZ, with the gateway's BLE central (D-Bus bindings + agent) on it. */
export interface ModelBench<P extends SimPeripheral> {
  readonly b: BluezBench;
  readonly h: Harness;
  readonly device: P;
  /** The device's BlueZ-side state (paired, trusted, discoveries…). */
  bluez(): NonNullable<ReturnType<FakeBluez['device']>>;
  /** Whether the simulated device holds a bond with the fake adapter. */
  bonded(): boolean;
  /** Pairs the device for `patientId` (as the pair page or `medgw pair` asks the central). */
  pair(patientId?: string): Promise<void>;
  /** The number of `synced` changes of the device so far. */
  syncs(): number;
  close(): Promise<void>;
}

/**
 * Puts `device` on a fake BlueZ (private dbus-daemon) and starts the real BLE central of the test
 * harness (tests/ble-central/harness.ts: pipeline, SQLite journal, lowdb registry) on noble's D-Bus
 * bindings with the gateway's pairing agent. Call `h.central.start()` when the test is ready.
 */
export async function modelOverBluez<P extends SimPeripheral>(
  device: P,
  options: {
    fake?: FakeDeviceOptions;
    bluez?: Omit<FakeBluezOptions, 'busAddress'>;
    central?: Partial<BleCentralOptions>;
  } = {},
): Promise<ModelBench<P>> {
  const b = await bluezBench({ advertisingIntervalMs: 50, ...options.bluez });
  let h: Harness;
  try {
    b.bluez.add(device, options.fake);
    h = await harness([], { ...options.central, noble: () => b.noble(), bonding: b.pairing });
  } catch (e) {
    await b.close();
    throw e;
  }
  const id = device.address.toUpperCase();
  return {
    b,
    h,
    device,
    bluez: () => b.bluez.device(id)!,
    bonded: () => device.isBonded(b.bluez.adapterAddress),
    pair: (patientId = 'alice') => h.central.pair(id, { patientId }).then(() => undefined),
    syncs: () => h.changes.filter((c) => c.deviceId === id && c.state === 'synced').length,
    close: async () => {
      await h.close();
      await b.close();
    },
  };
}

/** A `medgw start`-like gateway in `ble.mode: dbus` on a fake BlueZ: what `medgw pair` talks to. */
export interface GatewayOverBluez {
  readonly bus: PrivateBus;
  readonly bluez: FakeBluez;
  readonly gw: Gateway;
  readonly dataDir: string;
  /** The web pages' base URL and the admin password (with `web: true`). */
  readonly url: string;
  readonly password: string;
  /** Runs the real `medgw` bin against this gateway's data directory. */
  medgw(args: string[], input?: string): ReturnType<typeof medgw>;
  /** Waits until `medgw devices discovered` lists `address`. */
  discovered(address: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A private dbus-daemon, the fake BlueZ on it, and a gateway whose BLE component is the one `medgw start`
 * builds (noble's D-Bus bindings and the pairing agent), with the pipeline and patient `alice`. Put devices
 * on it with `bluez.add` before or after.
 */
export async function gatewayOverBluez(
  fake: Omit<FakeBluezOptions, 'busAddress'> = {},
  options: { web?: boolean } = {},
): Promise<GatewayOverBluez> {
  const root = mkdtempSync(join(tmpdir(), 'medgw-gw-bluez-'));
  const bus = await startPrivateBus();
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  let bluez: FakeBluez | undefined;
  let gw: Gateway | undefined;
  const dataDir = join(root, 'gw');
  const close = async () => {
    await gw?.stop();
    await bluez?.stop();
    await bus.stop();
    delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    rmSync(root, { recursive: true, force: true });
  };
  try {
    bluez = await FakeBluez.start({ advertisingIntervalMs: 50, ...fake, busAddress: bus.address });
    const config = loadConfig({
      overrides: { dataDir, 'http.port': 0, 'ble.mode': 'dbus', timezone: 'Europe/Paris' },
    });
    gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, bleComponent, ...(options.web ? [webComponent] : [])],
    });
    await addPatient(gw.ctx.registry, { id: 'alice', displayName: 'Alice' }, gw.ctx.clock);
  } catch (e) {
    await close();
    throw e;
  }
  const url = gw.endpoints().find((e) => e.url.startsWith('http'))?.url ?? '';
  const password = options.web
    ? (readFileSync(join(dataDir, 'admin-password.txt'), 'utf8').split('\n')[0] ?? '')
    : '';
  const run = (args: string[], input = '') => medgw([...args, '--data-dir', dataDir], input);
  return {
    bus,
    bluez,
    gw,
    dataDir,
    url,
    password,
    medgw: run,
    discovered: async (address) => {
      let listed = '';
      for (let i = 0; i < 100 && !listed.includes(address); i++)
        listed = (await run(['devices', 'discovered'])).stdout;
      if (!listed.includes(address))
        throw new Error(`medgw devices discovered never listed ${address}:\n${listed}`);
    },
    close,
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
