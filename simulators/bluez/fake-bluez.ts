/**
 * A fake BlueZ: the `org.bluez` object tree served with dbus-next on a (private) D-Bus, backed by the
 * same simulated peripherals as the virtual radio (simulators/ble). Any BlueZ client — noble's D-Bus
 * bindings, the gateway's pairing agent, `busctl` — talks to it as it would to bluetoothd:
 *
 * - `/` ObjectManager (GetManagedObjects, InterfacesAdded / InterfacesRemoved);
 * - `/org/bluez` AgentManager1 (RegisterAgent, RequestDefaultAgent, UnregisterAgent);
 * - `/org/bluez/hci0` Adapter1 (StartDiscovery, StopDiscovery, SetDiscoveryFilter, RemoveDevice, Powered);
 * - `/org/bluez/hci0/dev_XX_…` Device1 (Connect, Disconnect, Pair, CancelPairing; Paired, Bonded,
 *   Trusted, Connected, ServicesResolved, RSSI, ManufacturerData, UUIDs…), created when a discovery
 *   sees the peripheral advertise;
 * - `…/serviceNNNN`, `…/charNNNN`, `…/descNNNN` GattService1, GattCharacteristic1 (ReadValue,
 *   WriteValue, StartNotify, StopNotify, notifications as PropertiesChanged of Value), and the Client
 *   Characteristic Configuration GattDescriptor1 (readable; writes refused, as BlueZ refuses them).
 *
 * Pairing, per simulated device (`add(p, { pairing })`), calls the registered org.bluez.Agent1 the way
 * bluetoothd does for an LE pairing the central starts:
 * - `just-works`: no agent call;
 * - `passkey-entry`: the device displays a passkey (`displayedPasskey`), the agent's RequestPasskey
 *   answers what the person typed, a different number fails with AuthenticationFailed;
 * - `passkey-display`: the agent's DisplayPasskey shows the gateway's passkey and the person types it
 *   on the device (`typeOnDevice`, default: types what was shown);
 * - `numeric-comparison`: the agent's RequestConfirmation must accept the number both sides show.
 * A device that pairs only with LE legacy pairing (`legacyPairing`) pairs the same way (the agent calls are
 * the same: Just Works asks nothing, Passkey Entry asks RequestPasskey; org.bluez.Agent(5) keeps
 * RequestPinCode for BR/EDR devices older than Secure Simple Pairing), unless the adapter runs in Secure
 * Connections Only mode (main.conf `SecureConnections = only`): the pairing then fails with
 * AuthenticationFailed (SMP "Authentication Requirements", Core Vol 3 Part H §3.5.5).
 * A device whose own `pairingRefusal()` gives a reason (not in pairing mode) rejects Pair() with
 * AuthenticationRejected.
 *
 * Service discovery is bluetoothd's, not the client's: at a device's first connection it discovers every
 * service, characteristic and descriptor before ServicesResolved turns true, and keeps the attribute
 * database (main.conf [GATT] `Cache = always`, the default) for the device object's life, so later
 * connections discover nothing. A client over D-Bus cannot narrow that discovery (org.bluez.Device(5) has
 * no such method). The fake counts the ATT requests of that discovery (one per service, characteristic and
 * descriptor, plus the closing one) at one connection interval each (`connectionIntervalMs`, main.conf
 * [LE] `MaxConnectionInterval`); a device with `switchesOffAfterDiscoveryMs` that a longer discovery
 * keeps busy switches itself off (A&D UA-651BLE): Connect() fails, nothing is cached.
 * A device with `requireBonding` (SimPeripheral option) answers its own services with ATT 0x0F until
 * bonded: BlueZ turns that into org.bluez.Error.NotPermitted "Not paired" (src/gatt-client.c,
 * create_gatt_dbus_error). A device that forgot the bond (`peripheral.clearBonds()`, a reset) while
 * BlueZ keeps its key: the first encrypted access fails the same way and the link drops with reason
 * 0x05 (authentication failure), Paired staying true on BlueZ's side.
 */
import type DBus from 'dbus-next';
import type { SimLink, SimPeripheral } from '../ble/peripheral.ts';
import {
  AdapterIface,
  AgentManagerIface,
  bluezError,
  changed,
  DeviceIface,
  dbus,
  GattCharacteristicIface,
  GattDescriptorIface,
  GattServiceIface,
  ObjectManagerIface,
  uuid128,
  variants,
} from './objects.ts';

export type PairingMethod = 'just-works' | 'passkey-entry' | 'passkey-display' | 'numeric-comparison';

export interface FakeDeviceOptions {
  /** How the device pairs (its IO capabilities against the gateway's KeyboardDisplay). Default just-works. */
  pairing?: PairingMethod;
  /** The device is not in pairing mode: every Pair() is rejected (AuthenticationRejected). */
  refusePairing?: boolean;
  /** passkey-display: what the person types on the device given the passkey shown by the gateway. */
  typeOnDevice?: (shown: number) => number;
  /** The passkeys the device generates, in turn (default: random 6-digit numbers). */
  passkeys?: () => number;
  /** The device pairs only with LE legacy pairing (no LE Secure Connections). */
  legacyPairing?: boolean;
  /** The device switches itself off when bluetoothd's service discovery takes longer than this. */
  switchesOffAfterDiscoveryMs?: number;
}

export interface FakeBluezOptions {
  /** The bus address (a private dbus-daemon: simulators/bluez/daemon.ts). */
  busAddress: string;
  adapterAddress?: string;
  /** The clock the peripherals count from. */
  now?: () => number;
  /** How long a Connect() to a device that does not advertise takes to fail. Default 50 ms. */
  connectFailMs?: number;
  /**
   * While discovering, advertising devices are seen again every this many ms (RSSI refreshed, as
   * BlueZ does with DuplicateData). Without it, a device is seen when discovery starts, when it is
   * added and whenever it starts advertising again.
   */
  advertisingIntervalMs?: number;
  /**
   * main.conf [General] `SecureConnections`: `on` (default: LE Secure Connections when both sides have
   * it, legacy pairing otherwise) or `only` (legacy pairing refused).
   */
  secureConnections?: 'on' | 'only';
  /**
   * The LE connection interval bluetoothd's discovery runs at, in ms (main.conf [LE]
   * `MinConnectionInterval`/`MaxConnectionInterval`, in units of 1.25 ms; Linux's default maximum is
   * 0x0028 = 50 ms). Default 50.
   */
  connectionIntervalMs?: number;
  /**
   * How long after a device decides to end the link BlueZ reports it (default: one connection interval).
   * 0 reports it at once, on the heels of the device's last value: a client then reads BlueZ's reply, the
   * value and the disconnect together, as it does on a busy host.
   */
  deviceDropDelayMs?: number;
}

/** One agent interaction, as the fake saw it (tests read them). */
export interface AgentCall {
  readonly method: string;
  readonly device: string;
  readonly passkey?: number;
  readonly answer?: number | string;
  readonly error?: string;
}

interface Link extends SimLink {
  alive: boolean;
  encrypted: boolean;
  /** BlueZ holds a key for the device, the device no longer holds ours. */
  keyMissing: boolean;
}

interface Char {
  readonly path: string;
  readonly service: string;
  readonly uuid: string;
  readonly iface: GattCharacteristicIface;
}

interface Dev {
  readonly p: SimPeripheral;
  readonly path: string;
  readonly iface: DeviceIface;
  readonly options: FakeDeviceOptions;
  exported: boolean;
  link?: Link;
  chars: Char[];
  gattPaths: string[];
  pairing?: { cancel: () => void };
  displayedPasskey?: number;
  /** How the last pairing went: LE legacy pairing or LE Secure Connections. */
  pairedWith?: 'legacy' | 'secure-connections';
  /** bluetoothd's service discoveries of the device (a cached database needs none). */
  discoveries: { requests: number; ms: number }[];
}

const ADAPTER_PATH = '/org/bluez/hci0';
const HCI_AUTH_FAILURE = 0x05;
const HCI_CONNECTION_TIMEOUT = 0x08;
const HCI_LOCAL_HOST_TERMINATED = 0x16;

/** HCI reason → Device1.Disconnected arguments (src/device.c, doc/org.bluez.Device.rst "Disconnected"). */
function DISCONNECT_REASONS(reason: number): [string, string] {
  if (reason === HCI_CONNECTION_TIMEOUT) return ['org.bluez.Reason.Timeout', 'Connection timeout'];
  if (reason === HCI_LOCAL_HOST_TERMINATED)
    return ['org.bluez.Reason.Local', 'Connection terminated by local host'];
  if (reason === HCI_AUTH_FAILURE)
    return ['org.bluez.Reason.Authentication', 'Connection terminated due to authentication failure'];
  return ['org.bluez.Reason.Remote', 'Connection terminated by remote user'];
}

export class FakeBluez {
  readonly agentCalls: AgentCall[] = [];
  private readonly bus: DBus.MessageBus;
  private readonly adapter: AdapterIface;
  private readonly objectManager = new ObjectManagerIface({ managedObjects: () => this.managedObjects() });
  private readonly devices = new Map<string, Dev>();
  private readonly agents = new Map<string, { owner: string; capability: string }>();
  private defaultAgent: string | undefined;
  private sender = '';
  private discovering = false;
  private readonly now: () => number;
  private readonly connectFailMs: number;
  private readonly advertisingIntervalMs: number | undefined;
  private readonly secureConnections: 'on' | 'only';
  private readonly connectionIntervalMs: number;
  private readonly deviceDropDelayMs: number;
  private repeat: NodeJS.Timeout | undefined;

  private constructor(bus: DBus.MessageBus, options: FakeBluezOptions) {
    this.bus = bus;
    this.now = options.now ?? Date.now;
    this.connectFailMs = options.connectFailMs ?? 50;
    this.advertisingIntervalMs = options.advertisingIntervalMs;
    this.secureConnections = options.secureConnections ?? 'on';
    this.connectionIntervalMs = options.connectionIntervalMs ?? 50;
    this.deviceDropDelayMs = options.deviceDropDelayMs ?? this.connectionIntervalMs;
    this.adapter = new AdapterIface(options.adapterAddress ?? '00:1A:7D:DA:71:13', {
      startDiscovery: () => this.startDiscovery(),
      stopDiscovery: () => this.stopDiscovery(),
      removeDevice: (path) => this.removeDevice(path),
      setPowered: (on) => this.powered(on),
    });
  }

  /** Connects to the bus, owns org.bluez and exports the adapter. */
  static async start(options: FakeBluezOptions): Promise<FakeBluez> {
    const bus = dbus.sessionBus({ busAddress: options.busAddress });
    const fake = new FakeBluez(bus, options);
    // dbus-next does not hand the message to an exported method: note the caller first.
    bus.addMethodHandler((msg: DBus.Message) => {
      fake.sender = msg.sender;
      return false;
    });
    bus.export('/', fake.objectManager);
    bus.export(
      '/org/bluez',
      new AgentManagerIface({
        registerAgent: (path, capability) => fake.registerAgent(path, capability),
        unregisterAgent: (path) => fake.unregisterAgent(path),
        requestDefaultAgent: (path) => fake.requestDefaultAgent(path),
      }),
    );
    bus.export(ADAPTER_PATH, fake.adapter);
    const reply = await bus.requestName('org.bluez', dbus.NameFlag.DO_NOT_QUEUE);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER) {
      bus.disconnect();
      throw new Error(`could not own org.bluez on ${options.busAddress} (reply ${reply})`);
    }
    return fake;
  }

  get adapterAddress(): string {
    return this.adapter.Address;
  }

  /** Puts a simulated peripheral in range; it is seen at the next discovery or advertisement. */
  add<P extends SimPeripheral>(p: P, options: FakeDeviceOptions = {}): P {
    const address = p.address.toUpperCase();
    const path = `${ADAPTER_PATH}/dev_${address.replaceAll(':', '_')}`;
    p.useClock(this.now);
    const dev: Dev = {
      p,
      path,
      options,
      exported: false,
      chars: [],
      gattPaths: [],
      discoveries: [],
      iface: new DeviceIface(
        { address, addressType: p.addressType, name: p.advertisement.localName, adapter: ADAPTER_PATH },
        {
          connect: () => this.connect(dev),
          disconnect: async () => this.drop(dev, HCI_LOCAL_HOST_TERMINATED),
          pair: () => this.pair(dev),
          cancelPairing: () => dev.pairing?.cancel(),
          trusted: () => changed(dev.iface, { Trusted: dev.iface.Trusted }),
        },
      ),
    };
    this.devices.set(address, dev);
    p.onAdvertise = () => this.seen(dev);
    this.seen(dev);
    return p;
  }

  /** The device state BlueZ holds (paired, trusted, connected…), and what the device's screen shows. */
  device(address: string) {
    const dev = this.devices.get(address.toUpperCase());
    if (!dev) return undefined;
    const i = dev.iface;
    return {
      path: dev.path,
      known: dev.exported,
      paired: i.Paired,
      bonded: i.Bonded,
      trusted: i.Trusted,
      connected: i.Connected,
      displayedPasskey: dev.displayedPasskey,
      pairedWith: dev.pairedWith,
      discoveries: dev.discoveries,
    };
  }

  /** Spontaneous link loss (supervision timeout, reason 0x08). */
  linkLoss(address: string): void {
    const dev = this.devices.get(address.toUpperCase());
    if (dev) this.drop(dev, HCI_CONNECTION_TIMEOUT);
  }

  /** The agent Pair() falls back on (AgentManager1.RequestDefaultAgent), if any. */
  get defaultAgentPath(): string | undefined {
    return this.defaultAgent;
  }

  private stopped = false;

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.repeat);
    this.repeat = undefined;
    for (const dev of this.devices.values()) {
      this.drop(dev, HCI_LOCAL_HOST_TERMINATED);
      dev.p.onAdvertise = undefined;
    }
    try {
      await this.bus.releaseName('org.bluez');
    } catch {
      // the bus may already be gone
    }
    this.bus.disconnect();
  }

  // ------------------------------------------------------------------ object tree
  private managedObjects(): Record<string, Record<string, Record<string, DBus.Variant>>> {
    const out: Record<string, Record<string, Record<string, DBus.Variant>>> = {
      '/org/bluez': { 'org.bluez.AgentManager1': {} },
      [ADAPTER_PATH]: { 'org.bluez.Adapter1': variants(this.adapter) },
    };
    for (const dev of this.devices.values()) {
      if (!dev.exported) continue;
      out[dev.path] = { 'org.bluez.Device1': variants(dev.iface) };
      for (const path of dev.gattPaths) Object.assign(out, this.gattObject(dev, path));
    }
    return out;
  }

  private readonly gattIfaces = new Map<string, DBus.interface.Interface>();

  private gattObject(_dev: Dev, path: string): Record<string, Record<string, Record<string, DBus.Variant>>> {
    const iface = this.gattIfaces.get(path);
    if (!iface) return {};
    return { [path]: { [(iface as unknown as { $name: string }).$name]: variants(iface) } };
  }

  private interfacesAdded(path: string, iface: DBus.interface.Interface): void {
    const name = (iface as unknown as { $name: string }).$name;
    this.objectManager.InterfacesAdded(path, { [name]: variants(iface) });
  }

  private interfacesRemoved(path: string, names: string[]): void {
    this.objectManager.InterfacesRemoved(path, names);
  }

  // ------------------------------------------------------------------ discovery
  private startDiscovery(): void {
    if (!this.adapter.Powered) throw bluezError('NotReady', 'Resource Not Ready');
    this.discovering = true;
    changed(this.adapter, { Discovering: true });
    for (const dev of this.devices.values()) this.seen(dev);
    const every = this.advertisingIntervalMs;
    if (every !== undefined && every > 0 && !this.repeat) {
      this.repeat = setInterval(() => {
        for (const dev of this.devices.values()) this.seen(dev);
      }, every);
      this.repeat.unref();
    }
  }

  private stopDiscovery(): void {
    clearInterval(this.repeat);
    this.repeat = undefined;
    this.discovering = false;
    changed(this.adapter, { Discovering: false });
  }

  /** An advertisement: the device object appears (InterfacesAdded) or its RSSI is refreshed. */
  private seen(dev: Dev): void {
    if (!this.discovering || !this.adapter.Powered || !dev.p.advertising || dev.p.connected) return;
    const ad = dev.p.advertisement;
    const i = dev.iface;
    i.RSSI = ad.rssi ?? -60;
    i.UUIDs = (ad.serviceUuids ?? []).map(uuid128);
    if (ad.localName) i.Name = ad.localName;
    const m = ad.manufacturerData;
    i.ManufacturerData =
      m && m.length >= 2
        ? { [String(m.readUInt16LE(0))]: new dbus.Variant('ay', Buffer.from(m.subarray(2))) }
        : {};
    if (!dev.exported) {
      dev.exported = true;
      this.bus.export(dev.path, i);
      this.interfacesAdded(dev.path, i);
      return;
    }
    // DuplicateData: every advertisement refreshes RSSI (and what it carries).
    changed(i, { RSSI: i.RSSI, UUIDs: i.UUIDs, ManufacturerData: i.ManufacturerData });
  }

  private removeDevice(path: string): void {
    const dev = [...this.devices.values()].find((d) => d.path === path && d.exported);
    if (!dev) throw bluezError('DoesNotExist', 'Does Not Exist');
    this.drop(dev, HCI_LOCAL_HOST_TERMINATED);
    for (const p of dev.gattPaths.slice().reverse()) {
      const iface = this.gattIfaces.get(p);
      if (!iface) continue;
      this.bus.unexport(p, iface);
      this.gattIfaces.delete(p);
      this.interfacesRemoved(p, [(iface as unknown as { $name: string }).$name]);
    }
    dev.gattPaths = [];
    dev.chars = [];
    this.bus.unexport(dev.path, dev.iface);
    dev.exported = false;
    // The key and the trust go with the object (src/adapter.c: RemoveDevice removes the bonding).
    dev.iface.Paired = false;
    dev.iface.Bonded = false;
    (dev.iface as unknown as { trustedValue: boolean }).trustedValue = false;
    this.interfacesRemoved(dev.path, ['org.bluez.Device1']);
    // The device still advertises: its next advertisement brings the object back.
    setTimeout(() => this.seen(dev), 10).unref();
  }

  private powered(on: boolean): void {
    changed(this.adapter, { Powered: on });
    if (!on) {
      for (const dev of this.devices.values()) this.drop(dev, HCI_LOCAL_HOST_TERMINATED);
      if (this.discovering) this.stopDiscovery();
    }
  }

  // ------------------------------------------------------------------ connection
  private async connect(dev: Dev): Promise<void> {
    if (!this.adapter.Powered) throw bluezError('NotReady', 'Resource Not Ready');
    if (dev.link?.alive) return;
    if (!dev.p.advertising) {
      await new Promise((r) => setTimeout(r, this.connectFailMs));
      throw bluezError('Failed', 'le-connection-abort-by-local');
    }
    const i = dev.iface;
    const bonded = i.Paired && dev.p.isBonded(this.adapter.Address);
    const link: Link = {
      alive: true,
      encrypted: bonded,
      keyMissing: i.Paired && !bonded,
      send: async (serviceUuid, characteristicUuid, data) => {
        await new Promise((r) => setImmediate(r));
        if (!link.alive) return false;
        const c = dev.chars.find((x) => x.service === serviceUuid && x.uuid === characteristicUuid);
        if (!c?.iface.Notifying) return false;
        c.iface.Value = Buffer.from(data);
        changed(c.iface, { Value: c.iface.Value });
        return true;
      },
      // The device ends the link: on air that takes at least one connection event after what it sent
      // last (an indication waits for its confirmation), so BlueZ's replies and values come first.
      drop: (reason) => {
        if (this.deviceDropDelayMs <= 0) return this.drop(dev, reason);
        setTimeout(() => {
          if (dev.link === link) this.drop(dev, reason);
        }, this.deviceDropDelayMs).unref();
      },
    };
    dev.link = link;
    dev.p.attach(link);
    i.Connected = true;
    changed(i, { Connected: true });
    if (dev.gattPaths.length === 0) {
      // bluetoothd's own discovery of the whole database (no cache yet for this device)
      const requests = this.discoveryRequests(dev.p);
      const ms = requests * this.connectionIntervalMs;
      dev.discoveries.push({ requests, ms });
      const tolerance = dev.options.switchesOffAfterDiscoveryMs;
      if (tolerance !== undefined && ms > tolerance) {
        // the device gives up in the middle of the discovery: the link drops, nothing is cached
        dev.p.switchOff();
        this.drop(dev, HCI_CONNECTION_TIMEOUT);
        throw bluezError('Failed', 'Software caused connection abort');
      }
      this.exportGatt(dev);
    }
    i.ServicesResolved = true;
    changed(i, { ServicesResolved: true });
  }

  private drop(dev: Dev, reason: number): void {
    const link = dev.link;
    dev.pairing?.cancel();
    if (!link?.alive) return;
    link.alive = false;
    dev.link = undefined;
    for (const c of dev.chars) {
      if (!c.iface.Notifying) continue;
      c.iface.Notifying = false;
      changed(c.iface, { Notifying: false });
    }
    const i = dev.iface;
    i.ServicesResolved = false;
    i.Connected = false;
    changed(i, { ServicesResolved: false, Connected: false });
    i.Disconnected(...DISCONNECT_REASONS(reason));
    dev.p.detach(reason);
  }

  /** ATT requests of a full discovery: one per service, characteristic and CCCD, plus the closing one. */
  private discoveryRequests(p: SimPeripheral): number {
    let n = 1;
    for (const s of p.gatt()) {
      n += 1 + s.characteristics.length;
      for (const c of s.characteristics)
        if (c.properties.includes('notify') || c.properties.includes('indicate')) n += 1;
    }
    return n;
  }

  private exportGatt(dev: Dev): void {
    let handle = 0x0001;
    const next = () => {
      const h = handle.toString(16).padStart(4, '0');
      handle += 1;
      return h;
    };
    for (const s of dev.p.gatt()) {
      const sPath = `${dev.path}/service${next()}`;
      const sIface = new GattServiceIface(uuid128(s.uuid), dev.path);
      this.exportOne(dev, sPath, sIface);
      for (const c of s.characteristics) {
        const cPath = `${sPath}/char${next()}`;
        const flags = c.properties.map((x) => (x === 'writeWithoutResponse' ? 'write-without-response' : x));
        const cIface: GattCharacteristicIface = new GattCharacteristicIface(uuid128(c.uuid), sPath, flags, {
          read: () => this.read(dev, s.uuid, c.uuid, cIface),
          write: (data, withoutResponse) => this.write(dev, s.uuid, c.uuid, data, withoutResponse),
          startNotify: () => this.setNotify(dev, s.uuid, c.uuid, cIface, true),
          stopNotify: () => this.setNotify(dev, s.uuid, c.uuid, cIface, false),
        });
        this.exportOne(dev, cPath, cIface);
        dev.chars.push({ path: cPath, service: s.uuid, uuid: c.uuid, iface: cIface });
        if (c.properties.includes('notify') || c.properties.includes('indicate')) {
          const dIface = new GattDescriptorIface(uuid128('2902'), cPath, {
            read: () => {
              const v = Buffer.alloc(2);
              v.writeUInt16LE(dev.p.cccd(s.uuid, c.uuid));
              return v;
            },
          });
          this.exportOne(dev, `${cPath}/desc${next()}`, dIface);
        }
      }
    }
  }

  private exportOne(dev: Dev, path: string, iface: DBus.interface.Interface): void {
    this.bus.export(path, iface);
    this.gattIfaces.set(path, iface);
    dev.gattPaths.push(path);
    this.interfacesAdded(path, iface);
  }

  // ------------------------------------------------------------------ GATT operations
  private live(dev: Dev): Link {
    const link = dev.link;
    if (!link?.alive) throw bluezError('Failed', 'Not connected');
    return link;
  }

  /** Security of a protected attribute: "Not paired" until bonded; a lost bond also ends the link. */
  private guard(dev: Dev, link: Link, serviceUuid: string): void {
    if (!dev.p.protects(serviceUuid) || link.encrypted) return;
    if (link.keyMissing) {
      // The device answers our encryption request with "PIN or Key Missing": the link goes down.
      setImmediate(() => this.drop(dev, HCI_AUTH_FAILURE));
    }
    throw bluezError('NotPermitted', 'Not paired');
  }

  private read(dev: Dev, s: string, c: string, iface: GattCharacteristicIface): Buffer {
    const link = this.live(dev);
    const ch = dev.p.findCharacteristic(s, c);
    if (!ch?.read || !ch.properties.includes('read')) throw bluezError('NotPermitted', 'Read not permitted');
    this.guard(dev, link, s);
    const value = Buffer.from(ch.read());
    // BlueZ caches what it read in Value and signals it (src/gatt-client.c read_op_cb).
    iface.Value = value;
    changed(iface, { Value: value });
    return value;
  }

  private write(dev: Dev, s: string, c: string, data: Buffer, withoutResponse: boolean): void {
    const link = this.live(dev);
    const ch = dev.p.findCharacteristic(s, c);
    const allowed = withoutResponse ? 'writeWithoutResponse' : 'write';
    if (!ch?.write || !ch.properties.includes(allowed))
      throw bluezError('NotPermitted', 'Write not permitted');
    this.guard(dev, link, s);
    try {
      ch.write(data, withoutResponse);
    } catch (e) {
      if (withoutResponse) return;
      const att = (e as { att?: number }).att;
      throw bluezError(
        'Failed',
        `Operation failed with ATT error: 0x${(att ?? 0x0e).toString(16).padStart(2, '0')}`,
      );
    }
    dev.p.wrote(s, c, data, withoutResponse);
  }

  /** StartNotify writes the CCCD bit BlueZ picks: notifications when the characteristic has them, else indications. */
  private setNotify(dev: Dev, s: string, c: string, iface: GattCharacteristicIface, on: boolean): void {
    const link = this.live(dev);
    const ch = dev.p.findCharacteristic(s, c);
    const bit = ch?.properties.includes('notify') ? 0x0001 : ch?.properties.includes('indicate') ? 0x0002 : 0;
    if (bit === 0) throw bluezError('NotSupported', 'Operation is not supported');
    if (on && iface.Notifying) return;
    this.guard(dev, link, s);
    const current = dev.p.cccd(s, c);
    iface.Notifying = on;
    changed(iface, { Notifying: on });
    dev.p.setCccd(s, c, on ? current | bit : current & ~bit);
  }

  // ------------------------------------------------------------------ agents and pairing
  private registerAgent(path: string, capability: string): void {
    if (this.agents.has(path)) throw bluezError('AlreadyExists', 'Already Exists');
    this.agents.set(path, { owner: this.sender, capability });
  }

  private unregisterAgent(path: string): void {
    if (!this.agents.delete(path)) throw bluezError('DoesNotExist', 'Does Not Exist');
    if (this.defaultAgent === path) this.defaultAgent = undefined;
  }

  private requestDefaultAgent(path: string): void {
    if (!this.agents.has(path)) throw bluezError('DoesNotExist', 'Does Not Exist');
    this.defaultAgent = path;
  }

  /** The agent of the caller of Pair() if it registered one, else the default agent (org.bluez.Device Pair). */
  private agentFor(caller: string): { path: string; owner: string } | undefined {
    for (const [path, a] of this.agents) if (a.owner === caller) return { path, owner: a.owner };
    const d = this.defaultAgent;
    const a = d ? this.agents.get(d) : undefined;
    return d && a ? { path: d, owner: a.owner } : undefined;
  }

  private async callAgent(
    agent: { path: string; owner: string },
    member: string,
    signature: string,
    body: unknown[],
  ): Promise<unknown> {
    const reply = await this.bus.call(
      new dbus.Message({
        destination: agent.owner,
        path: agent.path,
        interface: 'org.bluez.Agent1',
        member,
        signature,
        body,
      }),
    );
    return reply?.body[0];
  }

  private passkey(dev: Dev): number {
    return dev.options.passkeys?.() ?? Math.floor(Math.random() * 1_000_000);
  }

  private async pair(dev: Dev): Promise<void> {
    const caller = this.sender;
    const i = dev.iface;
    if (i.Paired) throw bluezError('AlreadyExists', 'Already Exists');
    if (dev.pairing) throw bluezError('InProgress', 'In Progress');
    // Pair() connects first when needed (org.bluez.Device: "This method will connect to the remote device").
    if (!dev.link?.alive) {
      try {
        await this.connect(dev);
      } catch {
        throw bluezError('ConnectionAttemptFailed', 'Page Timeout');
      }
    }
    let cancelled = false;
    dev.pairing = {
      cancel: () => {
        cancelled = true;
      },
    };
    const agent = this.agentFor(caller);
    const method = dev.options.pairing ?? 'just-works';
    const log = (call: AgentCall) => this.agentCalls.push(call);
    const device = dev.path;
    try {
      if (dev.options.refusePairing || dev.p.pairingRefusal() !== undefined)
        throw bluezError('AuthenticationRejected', 'Authentication Rejected');
      const legacy = dev.options.legacyPairing === true;
      // SMP Pairing Failed, reason Authentication Requirements: the adapter accepts LE Secure Connections only
      if (legacy && this.secureConnections === 'only')
        throw bluezError('AuthenticationFailed', 'Authentication Failed');
      if (method !== 'just-works' && !agent)
        throw bluezError('AuthenticationFailed', 'Authentication Failed');
      const viaAgent = async (member: string, signature: string, body: unknown[], passkey?: number) => {
        try {
          const answer = await this.callAgent(agent!, member, signature, body);
          log({
            method: member,
            device,
            ...(passkey !== undefined ? { passkey } : {}),
            ...(typeof answer === 'number' || typeof answer === 'string' ? { answer } : {}),
          });
          return answer;
        } catch (e) {
          const name = (e as { type?: string }).type ?? 'org.freedesktop.DBus.Error.Failed';
          log({ method: member, device, ...(passkey !== undefined ? { passkey } : {}), error: name });
          // The agent refused or gave up: bluetoothd cancels the pairing (src/agent.c → mgmt neg reply).
          if (name === 'org.bluez.Error.Rejected')
            throw bluezError('AuthenticationRejected', 'Authentication Rejected');
          throw bluezError('AuthenticationCanceled', 'Authentication Canceled');
        }
      };
      if (method === 'passkey-entry') {
        const shown = this.passkey(dev);
        dev.displayedPasskey = shown;
        const typed = await viaAgent('RequestPasskey', 'o', [device]);
        if (typed !== shown) throw bluezError('AuthenticationFailed', 'Authentication Failed');
      } else if (method === 'passkey-display') {
        const shown = this.passkey(dev);
        await viaAgent('DisplayPasskey', 'ouq', [device, shown, 0], shown);
        const typed = (dev.options.typeOnDevice ?? ((n: number) => n))(shown);
        if (typed !== shown) throw bluezError('AuthenticationFailed', 'Authentication Failed');
      } else if (method === 'numeric-comparison') {
        const shown = this.passkey(dev);
        dev.displayedPasskey = shown;
        await viaAgent('RequestConfirmation', 'ou', [device, shown], shown);
      }
      if (cancelled || !dev.link?.alive)
        throw bluezError('AuthenticationCanceled', 'Authentication Canceled');
      dev.p.bond(this.adapter.Address);
      dev.pairedWith = legacy ? 'legacy' : 'secure-connections';
      dev.link.encrypted = true;
      dev.link.keyMissing = false;
      i.Paired = true;
      i.Bonded = true;
      changed(i, { Paired: true, Bonded: true });
    } finally {
      dev.pairing = undefined;
      dev.displayedPasskey = undefined;
    }
  }
}
