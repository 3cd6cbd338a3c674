/**
 * `ble.mode: auto`: a real adapter when one is present and usable, the virtual radio otherwise.
 * Present: the kernel lists it (/sys/class/bluetooth/hciN). Usable: BlueZ answers on the system
 * D-Bus with an org.bluez.Adapter1 (→ `dbus`, preferred: it shares the adapter with the operating
 * system), or else a raw HCI socket binds to it (→ `hci`, needs CAP_NET_RAW and BlueZ not holding
 * it). The probe is injected so the decision is tested without hardware.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';

export type ProbeResult =
  | { readonly ok: true; readonly detail: string }
  | { readonly ok: false; readonly reason: string };

export interface AdapterProbe {
  /** Adapters the kernel knows (`hci0`…), empty without Bluetooth. */
  adapters(): string[];
  /** Does BlueZ answer on the system bus with an adapter? */
  bluez(timeoutMs: number): Promise<ProbeResult>;
  /** Does a raw HCI socket bind to adapter `devId`? */
  hciSocket(devId: number): ProbeResult;
}

export interface BleModeDecision {
  readonly mode: 'sim' | 'hci' | 'dbus';
  /** Why, in one phrase for the log line. */
  readonly reason: string;
  readonly adapters: readonly string[];
}

export async function decideBleMode(probe: AdapterProbe, timeoutMs = 2000): Promise<BleModeDecision> {
  const adapters = probe.adapters();
  if (adapters.length === 0) {
    return { mode: 'sim', reason: 'no Bluetooth adapter on this machine', adapters };
  }
  const bluez = await probe.bluez(timeoutMs);
  if (bluez.ok) return { mode: 'dbus', reason: `BlueZ answers with adapter ${bluez.detail}`, adapters };
  const devId = Number(adapters[0]!.slice(3));
  const hci = probe.hciSocket(devId);
  if (hci.ok)
    return { mode: 'hci', reason: `a raw HCI socket opens on ${adapters[0]} (${hci.detail})`, adapters };
  return {
    mode: 'sim',
    reason: `${adapters.join(', ')} present but not usable: BlueZ ${bluez.reason}; HCI socket ${hci.reason}`,
    adapters,
  };
}

const require = createRequire(import.meta.url);

/** Bluetooth adapters the kernel knows (Linux sysfs); empty elsewhere or without Bluetooth. */
export function kernelAdapters(dir = '/sys/class/bluetooth'): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^hci[0-9]+$/.test(n))
      .sort();
  } catch {
    return [];
  }
}

interface DbusBus {
  getProxyObject(name: string, path: string): Promise<{ getInterface(name: string): unknown }>;
  disconnect(): void;
  on(event: 'error', cb: (e: Error) => void): void;
}

/** The probe of this machine: sysfs, the system D-Bus (dbus-next) and the HCI socket module of noble. */
export const systemProbe: AdapterProbe = {
  adapters: () => kernelAdapters(),

  async bluez(timeoutMs) {
    let bus: DbusBus | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const dbus = require('dbus-next') as { systemBus(): DbusBus };
      bus = dbus.systemBus();
      const failed = new Promise<never>((_, reject) => {
        bus!.on('error', reject);
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      const ask = (async () => {
        const root = await bus!.getProxyObject('org.bluez', '/');
        const om = root.getInterface('org.freedesktop.DBus.ObjectManager') as {
          GetManagedObjects(): Promise<Record<string, Record<string, unknown>>>;
        };
        return om.GetManagedObjects();
      })();
      const objects = await Promise.race([ask, failed]);
      const adapter = Object.entries(objects).find(([, ifaces]) => 'org.bluez.Adapter1' in ifaces)?.[0];
      return adapter
        ? { ok: true, detail: adapter.split('/').pop() ?? adapter }
        : { ok: false, reason: 'answers but lists no adapter' };
    } catch (e) {
      return { ok: false, reason: `does not answer (${(e as Error).message})` };
    } finally {
      clearTimeout(timer);
      try {
        bus?.disconnect();
      } catch {
        // the connection never opened
      }
    }
  },

  hciSocket(devId) {
    try {
      const Socket = require('@stoprocent/bluetooth-hci-socket') as new () => {
        bindRaw(devId: number): number;
        isDevUp(): boolean;
        stop(): void;
      };
      const socket = new Socket();
      socket.bindRaw(devId);
      const up = socket.isDevUp();
      socket.stop();
      return { ok: true, detail: up ? 'adapter up' : 'adapter down' };
    } catch (e) {
      return { ok: false, reason: `refused (${(e as Error).message})` };
    }
  },
};
