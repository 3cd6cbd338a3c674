/**
 * The BLE central as the local web pages drive it (gateway/web/deps.ts WebBluetooth): nearby devices,
 * pairing with live progress, forget, and per-device health (last sync, how the clock was handled).
 * The BLE component offers only its central (and, in dbus mode, the pairing agent); this adapter is
 * the pages' side of it. gateway/web/component.ts wires it from the `ble` and `blePairing` services.
 */
import { MedgwError } from '../../kernel/errors.ts';
import type { BluezPairing } from '../ble/bluez/pairing.ts';
import type { BleCentral, BleDeviceStatus } from '../ble/central.ts';
import type { BleStateChange } from '../ble/states.ts';
import type { DeviceHealth, NearbyDevice, PairingProgress, WebBluetooth } from './deps.ts';

export function webBluetooth(central: BleCentral, pairing?: BluezPairing): WebBluetooth {
  const listeners = new Map<(p: PairingProgress) => void, (c: BleStateChange) => void>();
  const promptListeners = new Map<(p: PairingProgress) => void, (e: { deviceId: string }) => void>();
  const progressOf = (d: BleDeviceStatus): PairingProgress | undefined => {
    if (d.state === 'forgotten') return undefined;
    return {
      address: d.deviceId,
      deviceId: d.deviceId,
      ...(d.localName !== undefined ? { name: d.localName } : {}),
      state: d.state,
      ...(d.state === 'failed' && d.lastError
        ? { code: d.lastError.code, message: d.lastError.message }
        : {}),
      at: d.changedAt,
    };
  };
  return {
    adapterState: () => central.adapter,
    nearby: (): NearbyDevice[] =>
      central.list().map((d) => ({
        address: d.deviceId,
        ...(d.localName !== undefined ? { name: d.localName } : {}),
        rssi: d.rssi ?? -127,
        seenAt: d.lastSeenAt ?? d.changedAt,
        ...(d.driver !== undefined ? { driver: d.driver } : {}),
      })),
    pair: async (address) => {
      await central.pair(address);
    },
    pairings: () =>
      central
        .list()
        .filter((d) => d.paired || d.state !== 'discovered')
        .map(progressOf)
        .filter((p): p is PairingProgress => p !== undefined),
    forget: async (deviceId) => {
      await central.forget(deviceId);
    },
    health: (deviceId): DeviceHealth | undefined => {
      const d = central.get(deviceId);
      if (!d) return undefined;
      return {
        ...(d.lastSyncAt !== undefined ? { lastSyncAt: d.lastSyncAt } : {}),
        ...(d.clock ? { clock: d.clock } : {}),
        ...(d.reportedRecords !== undefined ? { reportedRecords: d.reportedRecords } : {}),
        ...(d.batteryPercent !== undefined ? { batteryPercent: d.batteryPercent } : {}),
      };
    },
    question: (address) => {
      const p = pairing?.prompts.get(address.toUpperCase());
      return p
        ? { kind: p.kind, ...(p.passkey !== undefined ? { passkey: p.passkey } : {}), expiresAt: p.expiresAt }
        : undefined;
    },
    answer: async (address, answer) => {
      if (!pairing) {
        throw new MedgwError('MEDGW_ERR_BLE_NO_PROMPT', `${address} is not waiting for a pairing code`);
      }
      pairing.prompts.answer(address.toUpperCase(), answer);
    },
    repair: async (address) => {
      await central.repair(address);
    },
    on: (event, listener) => {
      if (event !== 'progress') return undefined;
      if (pairing) {
        // a question asked or settled changes what the pairing list shows: refresh it like a state change
        const onPrompt = (e: { deviceId: string }) => {
          const d = central.get(e.deviceId);
          const p = d ? progressOf(d) : undefined;
          if (p) listener(p);
        };
        promptListeners.set(listener, onPrompt);
        pairing.prompts.on('prompt', onPrompt);
        pairing.prompts.on('settled', onPrompt);
      }
      const fn = (c: BleStateChange) => {
        if (c.state === 'forgotten') return;
        const d = central.get(c.deviceId);
        listener({
          address: c.deviceId,
          deviceId: c.deviceId,
          ...(d?.localName !== undefined ? { name: d.localName } : {}),
          state: c.state,
          ...(c.code !== undefined ? { code: c.code } : {}),
          ...(c.message !== undefined ? { message: c.message } : {}),
          at: c.at,
        });
      };
      listeners.set(listener, fn);
      central.feed.on('state', fn);
      return undefined;
    },
    off: (event, listener) => {
      const onPrompt = promptListeners.get(listener);
      if (onPrompt && pairing) {
        promptListeners.delete(listener);
        pairing.prompts.off('prompt', onPrompt);
        pairing.prompts.off('settled', onPrompt);
      }
      const fn = listeners.get(listener);
      if (event !== 'progress' || !fn) return undefined;
      listeners.delete(listener);
      central.feed.off('state', fn);
      return undefined;
    },
  };
}
