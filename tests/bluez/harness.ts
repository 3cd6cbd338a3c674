/**
 * A private dbus-daemon, the fake BlueZ on it (backed by simulated peripherals), and the gateway's
 * side pointed at it: noble's own D-Bus bindings (DBUS_SYSTEM_BUS_ADDRESS, read by dbus-next's
 * systemBus()) and the pairing agent. Nothing touches the machine's system bus. A missing
 * dbus-daemon fails with the package to install, never a skip.
 */
import type { Noble } from '@stoprocent/noble';
import pino from 'pino';
import { adapterNoble } from '../../gateway/ble/bindings.ts';
import { BluezPairing } from '../../gateway/ble/bluez/pairing.ts';
import type { PairingPrompt } from '../../gateway/ble/bluez/prompts.ts';
import { type PrivateBus, startPrivateBus } from '../../simulators/bluez/daemon.ts';
import { FakeBluez } from '../../simulators/bluez/fake-bluez.ts';

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
  options: { promptTimeoutMs?: number; advertisingIntervalMs?: number } = {},
): Promise<BluezBench> {
  const bus = await startPrivateBus();
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  let bluez: FakeBluez | undefined;
  let pairing: BluezPairing | undefined;
  let noble: Noble | undefined;
  try {
    bluez = await FakeBluez.start({
      busAddress: bus.address,
      ...(options.advertisingIntervalMs !== undefined
        ? { advertisingIntervalMs: options.advertisingIntervalMs }
        : {}),
    });
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

/** Resolves when `predicate` holds (polling), or throws after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
