/**
 * The D-Bus interfaces of the fake BlueZ, as dbus-next exported interfaces (configured without
 * decorators). Names, signatures and error names follow the BlueZ D-Bus API documentation
 * (doc/org.bluez.Adapter.rst, org.bluez.Device.rst, org.bluez.GattService.rst,
 * org.bluez.GattCharacteristic.rst, org.bluez.GattDescriptor.rst, org.bluez.AgentManager.rst;
 * man pages org.bluez.Device(5) etc., https://man.archlinux.org/man/extra/bluez-utils/org.bluez.Device.5.en).
 * The behaviour behind each method lives in fake-bluez.ts; these classes only forward to it.
 */
import { createRequire } from 'node:module';
import type DBus from 'dbus-next';

const require = createRequire(import.meta.url);
export const dbus = require('dbus-next') as typeof DBus;
const { Interface } = dbus.interface;
type Props = Record<string, DBus.Variant>;

/** org.bluez error names (src/error.h). */
export function bluezError(name: string, text: string): DBus.DBusError {
  return new dbus.DBusError(`org.bluez.Error.${name}`, text);
}

/** The properties of an exported interface as variants (for GetManagedObjects / InterfacesAdded). */
export function variants(iface: DBus.interface.Interface): Props {
  const out: Props = {};
  const props =
    (iface as unknown as { $properties?: Record<string, { signature: string }> }).$properties ?? {};
  for (const [name, p] of Object.entries(props)) {
    const value = (iface as unknown as Record<string, unknown>)[name];
    if (value === undefined) continue;
    out[name] = new dbus.Variant(p.signature, value);
  }
  return out;
}

export function changed(iface: DBus.interface.Interface, props: Record<string, unknown>): void {
  Interface.emitPropertiesChanged(iface, props, []);
}

// ------------------------------------------------------------------ ObjectManager at /
export interface ObjectManagerBackend {
  managedObjects(): Record<string, Record<string, Props>>;
}

export class ObjectManagerIface extends Interface {
  constructor(private readonly backend: ObjectManagerBackend) {
    super('org.freedesktop.DBus.ObjectManager');
  }
  GetManagedObjects() {
    return this.backend.managedObjects();
  }
  InterfacesAdded(path: string, interfaces: Record<string, Props>) {
    return [path, interfaces];
  }
  InterfacesRemoved(path: string, interfaces: string[]) {
    return [path, interfaces];
  }
}
// The signals are declared so that introspection lists them: dbus-next proxies (noble's bindings)
// subscribe only to signals the introspection data names.
ObjectManagerIface.configureMembers({
  methods: { GetManagedObjects: { inSignature: '', outSignature: 'a{oa{sa{sv}}}' } },
  signals: {
    InterfacesAdded: { signature: 'oa{sa{sv}}' },
    InterfacesRemoved: { signature: 'oas' },
  },
});

// ------------------------------------------------------------------ AgentManager1 at /org/bluez
export interface AgentManagerBackend {
  registerAgent(path: string, capability: string): void;
  unregisterAgent(path: string): void;
  requestDefaultAgent(path: string): void;
}

export class AgentManagerIface extends Interface {
  constructor(private readonly backend: AgentManagerBackend) {
    super('org.bluez.AgentManager1');
  }
  RegisterAgent(path: string, capability: string) {
    this.backend.registerAgent(path, capability);
  }
  UnregisterAgent(path: string) {
    this.backend.unregisterAgent(path);
  }
  RequestDefaultAgent(path: string) {
    this.backend.requestDefaultAgent(path);
  }
}
AgentManagerIface.configureMembers({
  methods: {
    RegisterAgent: { inSignature: 'os', outSignature: '' },
    UnregisterAgent: { inSignature: 'o', outSignature: '' },
    RequestDefaultAgent: { inSignature: 'o', outSignature: '' },
  },
});

// ------------------------------------------------------------------ Adapter1
export interface AdapterBackend {
  startDiscovery(): void;
  stopDiscovery(): void;
  removeDevice(path: string): void;
  setPowered(on: boolean): void;
}

export class AdapterIface extends Interface {
  Address: string;
  AddressType = 'public';
  Name = 'medgw-fake';
  Alias = 'medgw-fake';
  Class = 0;
  Discoverable = false;
  Pairable = true;
  Discovering = false;
  UUIDs: string[] = [];
  Roles = ['central'];
  filter: Record<string, unknown> = {};
  private powered = true;

  constructor(
    address: string,
    private readonly backend: AdapterBackend,
  ) {
    super('org.bluez.Adapter1');
    this.Address = address.toUpperCase();
  }
  get Powered(): boolean {
    return this.powered;
  }
  set Powered(on: boolean) {
    this.powered = on;
    this.backend.setPowered(on);
  }
  /** Sets the property without calling back (the backend's own changes). */
  setPoweredQuietly(on: boolean): void {
    this.powered = on;
  }
  StartDiscovery() {
    this.backend.startDiscovery();
  }
  StopDiscovery() {
    this.backend.stopDiscovery();
  }
  SetDiscoveryFilter(filter: Record<string, DBus.Variant>) {
    this.filter = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v.value]));
  }
  GetDiscoveryFilters() {
    return ['UUIDs', 'RSSI', 'Pathloss', 'Transport', 'DuplicateData'];
  }
  RemoveDevice(path: string) {
    this.backend.removeDevice(path);
  }
}
AdapterIface.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    AddressType: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    Alias: { signature: 's', access: 'readwrite' },
    Class: { signature: 'u', access: 'read' },
    Powered: { signature: 'b', access: 'readwrite' },
    Discoverable: { signature: 'b', access: 'readwrite' },
    Pairable: { signature: 'b', access: 'readwrite' },
    Discovering: { signature: 'b', access: 'read' },
    UUIDs: { signature: 'as', access: 'read' },
    Roles: { signature: 'as', access: 'read' },
  },
  methods: {
    StartDiscovery: { inSignature: '', outSignature: '' },
    StopDiscovery: { inSignature: '', outSignature: '' },
    SetDiscoveryFilter: { inSignature: 'a{sv}', outSignature: '' },
    GetDiscoveryFilters: { inSignature: '', outSignature: 'as' },
    RemoveDevice: { inSignature: 'o', outSignature: '' },
  },
});

// ------------------------------------------------------------------ Device1
export interface DeviceBackend {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  pair(): Promise<void>;
  cancelPairing(): void;
  trusted(on: boolean): void;
}

export class DeviceIface extends Interface {
  Address: string;
  AddressType: string;
  Name: string | undefined;
  Alias: string;
  Paired = false;
  Bonded = false;
  private trustedValue = false;
  Blocked = false;
  LegacyPairing = false;
  Connected = false;
  ServicesResolved = false;
  RSSI = -60;
  UUIDs: string[] = [];
  /** Keyed by the company id in decimal (see the signature below). */
  ManufacturerData: Record<string, DBus.Variant> = {};
  ServiceData: Record<string, DBus.Variant> = {};
  Adapter: string;

  constructor(
    init: { address: string; addressType: string; name?: string; adapter: string },
    private readonly backend: DeviceBackend,
  ) {
    super('org.bluez.Device1');
    this.Address = init.address.toUpperCase();
    this.AddressType = init.addressType;
    this.Name = init.name;
    this.Alias = init.name ?? this.Address.replaceAll(':', '-');
    this.Adapter = init.adapter;
  }
  get Trusted(): boolean {
    return this.trustedValue;
  }
  set Trusted(on: boolean) {
    this.trustedValue = on;
    this.backend.trusted(on);
  }
  Connect() {
    return this.backend.connect();
  }
  Disconnect() {
    return this.backend.disconnect();
  }
  Pair() {
    return this.backend.pair();
  }
  CancelPairing() {
    this.backend.cancelPairing();
  }
  /** BlueZ 5.79+: why a connection ended (org.bluez.Reason.Timeout, .Local, .Remote, .Authentication…). */
  Disconnected(reason: string, message: string) {
    return [reason, message];
  }
}
DeviceIface.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    AddressType: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    Alias: { signature: 's', access: 'readwrite' },
    Paired: { signature: 'b', access: 'read' },
    Bonded: { signature: 'b', access: 'read' },
    Trusted: { signature: 'b', access: 'readwrite' },
    Blocked: { signature: 'b', access: 'readwrite' },
    LegacyPairing: { signature: 'b', access: 'read' },
    Connected: { signature: 'b', access: 'read' },
    ServicesResolved: { signature: 'b', access: 'read' },
    RSSI: { signature: 'n', access: 'read' },
    UUIDs: { signature: 'as', access: 'read' },
    // BlueZ's signature is a{qv}; dbus-next cannot marshal integer dictionary keys (it takes keys from
    // Object.keys, strings, and refuses them for 'q'), so the fake serves the same dictionary as a{sv}
    // with the company id in decimal: a client reading it as noble does (Number(key)) sees no difference.
    ManufacturerData: { signature: 'a{sv}', access: 'read' },
    ServiceData: { signature: 'a{sv}', access: 'read' },
    Adapter: { signature: 'o', access: 'read' },
  },
  methods: {
    Connect: { inSignature: '', outSignature: '' },
    Disconnect: { inSignature: '', outSignature: '' },
    Pair: { inSignature: '', outSignature: '' },
    CancelPairing: { inSignature: '', outSignature: '' },
  },
  signals: { Disconnected: { signature: 'ss' } },
});

// ------------------------------------------------------------------ GATT
export class GattServiceIface extends Interface {
  constructor(
    readonly UUID: string,
    readonly Device: string,
    readonly Primary = true,
  ) {
    super('org.bluez.GattService1');
  }
}
GattServiceIface.configureMembers({
  properties: {
    UUID: { signature: 's', access: 'read' },
    Device: { signature: 'o', access: 'read' },
    Primary: { signature: 'b', access: 'read' },
  },
});

export interface CharacteristicBackend {
  read(): Buffer;
  write(data: Buffer, withoutResponse: boolean): void;
  startNotify(): void;
  stopNotify(): void;
}

export class GattCharacteristicIface extends Interface {
  Value: Buffer = Buffer.alloc(0);
  Notifying = false;
  constructor(
    readonly UUID: string,
    readonly Service: string,
    readonly Flags: string[],
    private readonly backend: CharacteristicBackend,
  ) {
    super('org.bluez.GattCharacteristic1');
  }
  ReadValue(_options: Record<string, DBus.Variant>) {
    return this.backend.read();
  }
  WriteValue(value: Buffer, options: Record<string, DBus.Variant>) {
    this.backend.write(Buffer.from(value), options.type?.value === 'command');
  }
  StartNotify() {
    this.backend.startNotify();
  }
  StopNotify() {
    this.backend.stopNotify();
  }
}
GattCharacteristicIface.configureMembers({
  properties: {
    UUID: { signature: 's', access: 'read' },
    Service: { signature: 'o', access: 'read' },
    Value: { signature: 'ay', access: 'read' },
    Notifying: { signature: 'b', access: 'read' },
    Flags: { signature: 'as', access: 'read' },
  },
  methods: {
    ReadValue: { inSignature: 'a{sv}', outSignature: 'ay' },
    WriteValue: { inSignature: 'aya{sv}', outSignature: '' },
    StartNotify: { inSignature: '', outSignature: '' },
    StopNotify: { inSignature: '', outSignature: '' },
  },
});

export interface DescriptorBackend {
  read(): Buffer;
}

export class GattDescriptorIface extends Interface {
  Value: Buffer = Buffer.alloc(0);
  constructor(
    readonly UUID: string,
    readonly Characteristic: string,
    private readonly backend: DescriptorBackend,
  ) {
    super('org.bluez.GattDescriptor1');
  }
  ReadValue(_options: Record<string, DBus.Variant>) {
    this.Value = this.backend.read();
    return this.Value;
  }
  WriteValue(_value: Buffer, _options: Record<string, DBus.Variant>) {
    // BlueZ src/gatt-client.c descriptor_write_value: the Client Characteristic Configuration
    // descriptor is never written over D-Bus ("We achieve this through the StartNotify and
    // StopNotify methods on GattCharacteristic1"): org.bluez.Error.NotPermitted "Write not permitted".
    throw bluezError('NotPermitted', 'Write not permitted');
  }
}
GattDescriptorIface.configureMembers({
  properties: {
    UUID: { signature: 's', access: 'read' },
    Characteristic: { signature: 'o', access: 'read' },
    Value: { signature: 'ay', access: 'read' },
  },
  methods: {
    ReadValue: { inSignature: 'a{sv}', outSignature: 'ay' },
    WriteValue: { inSignature: 'aya{sv}', outSignature: '' },
  },
});

/** `2a18` → `00002a18-0000-1000-8000-00805f9b34fb` (BlueZ names every UUID in its 128-bit form). */
export function uuid128(uuid: string): string {
  const u = uuid.toLowerCase().replaceAll('-', '');
  if (u.length === 4) return `0000${u}-0000-1000-8000-00805f9b34fb`;
  if (u.length === 8) return `${u}-0000-1000-8000-00805f9b34fb`;
  return `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
}
