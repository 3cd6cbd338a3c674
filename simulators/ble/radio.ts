/**
 * The virtual radio: hosts simulated peripherals and gives each central a bindings object that
 * implements the interface @stoprocent/noble 2.8 expects from its HCI / D-Bus bindings
 * (node_modules/@stoprocent/noble/lib/noble.js `_registerListeners` lists the events). The real noble
 * `Noble`, `Peripheral`, `Characteristic` and `Descriptor` code runs on top of it.
 *
 * Every event to the central goes through one FIFO per central, flushed on `setImmediate`, so
 * responses and notifications arrive asynchronously and in order, as over the air.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Noble } from '@stoprocent/noble';
import { MedgwError } from '../../kernel/errors.ts';
import { AttError, type SimLink, type SimPeripheral } from './peripheral.ts';

/** HCI disconnect reasons (Core Spec Vol 1 Part F §2). */
export const HCI_REASON = {
  CONNECTION_TIMEOUT: 0x08,
  REMOTE_USER_TERMINATED: 0x13,
  LOCAL_HOST_TERMINATED: 0x16,
} as const;

export interface VirtualRadioOptions {
  /** The clock the peripherals count from (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  /** The central's own address, reported through `addressChange`. */
  centralAddress?: string;
  /**
   * When set, advertising peripherals are seen again every this many ms by a central scanning with
   * `allowDuplicates` (as real devices advertise every 20 ms - 10 s). Without it, a peripheral is seen
   * when the scan starts, when it is added and whenever it starts advertising again.
   */
  advertisingIntervalMs?: number;
}

export class VirtualRadio {
  readonly now: () => number;
  readonly centralAddress: string;
  readonly advertisingIntervalMs: number | undefined;
  private readonly devices = new Map<string, SimPeripheral>();
  private readonly centrals = new Set<VirtualBindings>();
  private on = true;

  constructor(options: VirtualRadioOptions = {}) {
    this.now = options.now ?? Date.now;
    this.centralAddress = options.centralAddress ?? '00:1a:7d:da:71:13';
    this.advertisingIntervalMs = options.advertisingIntervalMs;
  }

  /** Puts a simulated peripheral in range; it advertises at once. */
  add<P extends SimPeripheral>(peripheral: P): P {
    if (this.devices.has(peripheral.id)) {
      throw new MedgwError(
        'MEDGW_ERR_SIM_OPTION',
        `a peripheral with address ${peripheral.address} is already on the radio`,
      );
    }
    peripheral.useClock(this.now);
    peripheral.onAdvertise = () => this.advertised(peripheral);
    this.devices.set(peripheral.id, peripheral);
    this.advertised(peripheral);
    return peripheral;
  }

  /** Takes a peripheral out of range (its link, if any, is lost). */
  remove(idOrAddress: string): void {
    const p = this.get(idOrAddress);
    if (!p) return;
    this.linkLoss(p.id);
    p.onAdvertise = undefined;
    this.devices.delete(p.id);
  }

  get(idOrAddress: string): SimPeripheral | undefined {
    return this.devices.get(idOrAddress.toLowerCase().replaceAll(':', ''));
  }

  peripherals(): SimPeripheral[] {
    return [...this.devices.values()];
  }

  get powered(): boolean {
    return this.on;
  }

  /** Spontaneous link loss (supervision timeout): the central sees `disconnect` with reason 0x08. */
  linkLoss(idOrAddress: string): void {
    const p = this.get(idOrAddress);
    if (!p) return;
    for (const c of this.centrals) c.dropLink(p.id, HCI_REASON.CONNECTION_TIMEOUT);
  }

  /** The adapter is switched off: every link drops, scanning stops, centrals see `poweredOff`. */
  powerOff(): void {
    if (!this.on) return;
    this.on = false;
    for (const c of this.centrals) c.adapterState('poweredOff');
  }

  powerOn(): void {
    if (this.on) return;
    this.on = true;
    for (const c of this.centrals) c.adapterState('poweredOn');
  }

  /** A new bindings object (one central) on this radio. */
  createBindings(): VirtualBindings {
    const b = new VirtualBindings(this);
    this.centrals.add(b);
    return b;
  }

  private advertised(p: SimPeripheral): void {
    for (const c of this.centrals) c.seeAdvertisement(p);
  }
}

interface Link extends SimLink {
  alive: boolean;
  /** Encrypted with a bond (pairing done now or on an earlier connection). */
  encrypted: boolean;
}

type Event = () => void;

/** One central's view of the radio, shaped like noble's bindings. */
export class VirtualBindings extends EventEmitter {
  private readonly radio: VirtualRadio;
  private started = false;
  private scanning = false;
  private scanFilter: string[] = [];
  private repeat: NodeJS.Timeout | undefined;
  private readonly links = new Map<string, Link>();
  private readonly queue: Event[] = [];
  private flushing = false;

  constructor(radio: VirtualRadio) {
    super();
    this.radio = radio;
  }

  // ------------------------------------------------------------------ ordered delivery
  private post(event: Event): void {
    this.queue.push(event);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.queue.length);
    for (const e of batch) e();
    if (this.queue.length > 0) setImmediate(() => this.flush());
    else this.flushing = false;
  }

  // ------------------------------------------------------------------ adapter
  start(): void {
    this.started = true;
    this.post(() => this.emit('stateChange', this.radio.powered ? 'poweredOn' : 'poweredOff'));
    this.post(() => this.emit('addressChange', this.radio.centralAddress));
  }

  stop(): void {
    this.scanning = false;
    this.stopRepeat();
    for (const id of [...this.links.keys()]) this.dropLink(id, HCI_REASON.LOCAL_HOST_TERMINATED);
  }

  reset(): void {
    this.stop();
  }

  /** Called by the radio on power changes. */
  adapterState(state: 'poweredOn' | 'poweredOff'): void {
    if (state === 'poweredOff') {
      for (const id of [...this.links.keys()]) this.dropLink(id, HCI_REASON.LOCAL_HOST_TERMINATED);
      this.stopRepeat();
      if (this.scanning) {
        this.scanning = false;
        this.post(() => this.emit('scanStop'));
      }
    }
    if (this.started) this.post(() => this.emit('stateChange', state));
  }

  setScanParameters(_interval: number, _window: number): void {
    this.post(() => this.emit('scanParametersSet'));
  }

  setAddress(_address: string): void {}

  addressToId(address: string): string {
    return address.replace(/:/g, '').toLowerCase();
  }

  // ------------------------------------------------------------------ scanning
  startScanning(serviceUuids?: string[], allowDuplicates?: boolean): void {
    if (!this.radio.powered) {
      this.post(() => this.emit('scanStop'));
      return;
    }
    this.scanning = true;
    this.scanFilter = (serviceUuids ?? []).map((u) => u.toLowerCase());
    this.post(() => this.emit('scanStart', !allowDuplicates));
    for (const p of this.radio.peripherals()) this.seeAdvertisement(p);
    this.stopRepeat();
    const every = this.radio.advertisingIntervalMs;
    if (allowDuplicates && every !== undefined && every > 0) {
      this.repeat = setInterval(() => {
        for (const p of this.radio.peripherals()) this.seeAdvertisement(p);
      }, every);
      this.repeat.unref();
    }
  }

  stopScanning(): void {
    this.scanning = false;
    this.stopRepeat();
    this.post(() => this.emit('scanStop'));
  }

  private stopRepeat(): void {
    if (this.repeat) clearInterval(this.repeat);
    this.repeat = undefined;
  }

  /** Called by the radio when a peripheral advertises. Applies the scan filter like the HCI bindings. */
  seeAdvertisement(p: SimPeripheral): void {
    if (!this.scanning || !this.radio.powered || !p.advertising || p.connected) return;
    const ad = p.advertisement;
    const uuids = ad.serviceUuids ?? [];
    if (this.scanFilter.length > 0 && !uuids.some((u) => this.scanFilter.includes(u.toLowerCase()))) return;
    this.post(() => this.emitDiscover(p));
  }

  private emitDiscover(p: SimPeripheral): void {
    const ad = p.advertisement;
    this.emit(
      'discover',
      p.id,
      p.address,
      p.addressType,
      true,
      {
        localName: ad.localName,
        txPowerLevel: ad.txPowerLevel,
        manufacturerData: ad.manufacturerData ? Buffer.from(ad.manufacturerData) : undefined,
        serviceData: [],
        serviceUuids: [...(ad.serviceUuids ?? [])],
        solicitationServiceUuids: [],
        serviceSolicitationUuids: [],
      },
      ad.rssi ?? -60,
      true,
    );
  }

  // ------------------------------------------------------------------ connections
  connect(id: string, _parameters?: unknown): void {
    if (!this.radio.powered) {
      this.post(() => this.emit('connect', id, new MedgwError('MEDGW_ERR_BLE_ADAPTER_OFF')));
      return;
    }
    const p = this.radio.get(id);
    if (!p?.advertising || p.connected) {
      const why = !p ? 'not in range' : p.connected ? 'already connected' : 'not advertising';
      this.post(() =>
        this.emit('connect', id, new MedgwError('MEDGW_ERR_BLE_UNREACHABLE', `peripheral ${id} is ${why}`)),
      );
      return;
    }
    const link: Link = {
      alive: true,
      encrypted: p.isBonded(this.radio.centralAddress),
      send: (serviceUuid, characteristicUuid, data) =>
        new Promise<boolean>((resolve) => {
          this.post(() => {
            if (!link.alive) return resolve(false);
            this.emit('read', p.id, serviceUuid, characteristicUuid, Buffer.from(data), true);
            resolve(true);
          });
        }),
      drop: (reason) => this.dropLink(p.id, reason),
    };
    this.links.set(p.id, link);
    this.post(() => this.emit('connect', p.id, null));
    p.attach(link);
  }

  cancelConnect(_id: string): void {}

  disconnect(id: string): void {
    if (!this.links.has(id)) {
      this.post(() => this.emit('disconnect', id, HCI_REASON.LOCAL_HOST_TERMINATED));
      return;
    }
    this.dropLink(id, HCI_REASON.LOCAL_HOST_TERMINATED);
  }

  /** Ends a link, whoever asked; the central sees `disconnect` with the reason. */
  dropLink(id: string, reason: number): void {
    const link = this.links.get(id);
    if (!link) return;
    link.alive = false;
    this.links.delete(id);
    this.post(() => this.emit('disconnect', id, reason));
    this.radio.get(id)?.detach(reason);
  }

  updateRssi(id: string): void {
    const p = this.radio.get(id);
    this.post(() => this.emit('rssiUpdate', id, p?.advertisement.rssi ?? -127));
  }

  pair(id: string): void {
    // The simulated devices pair "Just Works": pairing succeeds on a live link and creates a bond, unless
    // the device refuses pairing now (a meter that pairs only in its pairing mode).
    const link = this.links.get(id);
    const alive = link?.alive === true;
    const refusal = alive ? this.radio.get(id)?.pairingRefusal() : undefined;
    const ok = alive && refusal === undefined;
    if (link && ok) {
      link.encrypted = true;
      this.radio.get(id)?.bond(this.radio.centralAddress);
    }
    const error = ok
      ? undefined
      : new MedgwError(
          refusal ? 'MEDGW_ERR_BLE_BONDING' : 'MEDGW_ERR_BLE_NOT_CONNECTED',
          refusal ?? undefined,
        );
    this.post(() => this.emit('pair', id, ok, error));
  }

  // ------------------------------------------------------------------ GATT
  private connected(id: string): SimPeripheral | undefined {
    return this.links.get(id)?.alive ? this.radio.get(id) : undefined;
  }

  /** ATT 0x0F when the attribute needs encryption and the link is not encrypted. */
  private insecure(id: string, p: SimPeripheral, serviceUuid: string): AttError | undefined {
    if (!p.protects(serviceUuid) || this.links.get(id)?.encrypted) return undefined;
    return new AttError(0x0f, `insufficient encryption: pair with ${p.address} first`);
  }

  private notConnected(id: string): MedgwError {
    return new MedgwError('MEDGW_ERR_BLE_NOT_CONNECTED', `peripheral ${id} is not connected`);
  }

  discoverServices(id: string, uuids?: string[]) {
    const p = this.connected(id);
    if (!p) return this.post(() => this.emit('servicesDiscover', id, [], this.notConnected(id)));
    const wanted = (uuids ?? []).map((u) => u.toLowerCase());
    const found = p
      .gatt()
      .map((s) => s.uuid)
      .filter((u) => wanted.length === 0 || wanted.includes(u));
    // A device that switches itself off on a long discovery never answers it: the link drops.
    if (!p.discoveringServices(found.length)) return;
    this.post(() => this.emit('servicesDiscover', id, found));
  }

  discoverIncludedServices(id: string, serviceUuid: string, _uuids?: string[]): void {
    this.post(() => this.emit('includedServicesDiscover', id, serviceUuid, []));
  }

  discoverCharacteristics(id: string, serviceUuid: string, uuids?: string[]) {
    const p = this.connected(id);
    if (!p)
      return this.post(() =>
        this.emit('characteristicsDiscover', id, serviceUuid, [], this.notConnected(id)),
      );
    const early = p.gattRequest();
    if (early) return this.post(() => this.emit('characteristicsDiscover', id, serviceUuid, [], early));
    const wanted = (uuids ?? []).map((u) => u.toLowerCase());
    const chars = (p.gatt().find((s) => s.uuid === serviceUuid)?.characteristics ?? [])
      .filter((c) => wanted.length === 0 || wanted.includes(c.uuid))
      .map((c) => ({ uuid: c.uuid, properties: [...c.properties] }));
    this.post(() => this.emit('characteristicsDiscover', id, serviceUuid, chars));
  }

  read(id: string, serviceUuid: string, characteristicUuid: string) {
    const reply = (data: Buffer, error?: Error) =>
      this.post(() => this.emit('read', id, serviceUuid, characteristicUuid, data, false, error));
    const p = this.connected(id);
    if (!p) return reply(Buffer.alloc(0), this.notConnected(id));
    const early = p.gattRequest();
    if (early) return reply(Buffer.alloc(0), early);
    const c = p.findCharacteristic(serviceUuid, characteristicUuid);
    if (!c?.read || !c.properties.includes('read')) {
      return reply(Buffer.alloc(0), new AttError(0x02, `${characteristicUuid} is not readable`));
    }
    const locked = this.insecure(id, p, serviceUuid);
    if (locked) return reply(Buffer.alloc(0), locked);
    try {
      reply(Buffer.from(c.read()));
    } catch (e) {
      reply(Buffer.alloc(0), toError(e));
    }
  }

  write(id: string, serviceUuid: string, characteristicUuid: string, data: Buffer, withoutResponse: boolean) {
    // noble waits for `write` even after a write without response, so it is always emitted.
    const reply = (error?: Error) =>
      this.post(() => this.emit('write', id, serviceUuid, characteristicUuid, error));
    const p = this.connected(id);
    if (!p) return reply(this.notConnected(id));
    const early = withoutResponse ? undefined : p.gattRequest();
    if (early) return reply(early);
    const c = p.findCharacteristic(serviceUuid, characteristicUuid);
    const allowed = withoutResponse ? 'writeWithoutResponse' : 'write';
    if (!c?.write || !c.properties.includes(allowed)) {
      return reply(new AttError(0x03, `${characteristicUuid} does not allow ${allowed}`));
    }
    const locked = this.insecure(id, p, serviceUuid);
    if (locked) return reply(withoutResponse ? undefined : locked);
    try {
      c.write(Buffer.from(data), withoutResponse);
      reply();
      p.wrote(serviceUuid, characteristicUuid, data, withoutResponse);
    } catch (e) {
      // A write without response never reports an error to the central (no ATT response exists).
      reply(withoutResponse ? undefined : toError(e));
    }
  }

  broadcast(id: string, serviceUuid: string, characteristicUuid: string, _broadcast: boolean): void {
    this.post(() => this.emit('broadcast', id, serviceUuid, characteristicUuid, false));
  }

  /** subscribe/unsubscribe: sets CCCD bit 0 on a Notify characteristic, else bit 1 on an Indicate one (as the HCI gatt does). */
  notify(id: string, serviceUuid: string, characteristicUuid: string, enable: boolean) {
    const p = this.connected(id);
    if (!p)
      return this.post(() =>
        this.emit('notify', id, serviceUuid, characteristicUuid, false, this.notConnected(id)),
      );
    const c = p.findCharacteristic(serviceUuid, characteristicUuid);
    const bit = c?.properties.includes('notify') ? 0x0001 : c?.properties.includes('indicate') ? 0x0002 : 0;
    if (!c || bit === 0) {
      const error = new AttError(0x03, `${characteristicUuid} has no CCCD (neither notify nor indicate)`);
      return this.post(() => this.emit('notify', id, serviceUuid, characteristicUuid, false, error));
    }
    const locked = this.insecure(id, p, serviceUuid);
    if (locked)
      return this.post(() => this.emit('notify', id, serviceUuid, characteristicUuid, false, locked));
    const current = p.cccd(serviceUuid, characteristicUuid);
    p.setCccd(serviceUuid, characteristicUuid, enable ? current | bit : current & ~bit);
    this.post(() => this.emit('notify', id, serviceUuid, characteristicUuid, enable));
  }

  discoverDescriptors(id: string, serviceUuid: string, characteristicUuid: string) {
    const p = this.connected(id);
    if (!p) {
      return this.post(() =>
        this.emit('descriptorsDiscover', id, serviceUuid, characteristicUuid, [], this.notConnected(id)),
      );
    }
    const early = p.gattRequest();
    if (early) {
      return this.post(() =>
        this.emit('descriptorsDiscover', id, serviceUuid, characteristicUuid, [], early),
      );
    }
    const c = p.findCharacteristic(serviceUuid, characteristicUuid);
    const hasCccd = c?.properties.some((x) => x === 'notify' || x === 'indicate') ?? false;
    this.post(() =>
      this.emit('descriptorsDiscover', id, serviceUuid, characteristicUuid, hasCccd ? ['2902'] : []),
    );
  }

  readValue(id: string, serviceUuid: string, characteristicUuid: string, descriptorUuid: string) {
    const p = this.connected(id);
    const reply = (data: Buffer, error?: Error) =>
      this.post(() =>
        this.emit('valueRead', id, serviceUuid, characteristicUuid, descriptorUuid, data, error),
      );
    if (!p) return reply(Buffer.alloc(0), this.notConnected(id));
    if (descriptorUuid !== '2902' || !p.findCharacteristic(serviceUuid, characteristicUuid)) {
      return reply(Buffer.alloc(0), new AttError(0x0a, `descriptor ${descriptorUuid} not found`));
    }
    const v = Buffer.alloc(2);
    v.writeUInt16LE(p.cccd(serviceUuid, characteristicUuid));
    reply(v);
  }

  /** A raw CCCD write: the value is stored as written; a bit the characteristic does not support delivers nothing. */
  writeValue(
    id: string,
    serviceUuid: string,
    characteristicUuid: string,
    descriptorUuid: string,
    data: Buffer,
  ) {
    const p = this.connected(id);
    const reply = (error?: Error) =>
      this.post(() => this.emit('valueWrite', id, serviceUuid, characteristicUuid, descriptorUuid, error));
    if (!p) return reply(this.notConnected(id));
    if (descriptorUuid !== '2902' || !p.findCharacteristic(serviceUuid, characteristicUuid)) {
      return reply(new AttError(0x0a, `descriptor ${descriptorUuid} not found`));
    }
    const early = p.gattRequest();
    if (early) return reply(early);
    if (data.length !== 2) return reply(new AttError(0x0d, `a CCCD value is 2 bytes, got ${data.length}`));
    const locked = this.insecure(id, p, serviceUuid);
    if (locked) return reply(locked);
    p.setCccd(serviceUuid, characteristicUuid, data.readUInt16LE(0));
    reply();
  }

  readHandle(id: string, handle: number): void {
    const error = new AttError(0x01, 'the virtual radio addresses attributes by UUID only, not by handle');
    this.post(() => this.emit('handleRead', id, handle, Buffer.alloc(0), error));
  }

  writeHandle(id: string, handle: number, _data: Buffer, _withoutResponse: boolean): void {
    const error = new AttError(0x01, 'the virtual radio addresses attributes by UUID only, not by handle');
    this.post(() => this.emit('handleWrite', id, handle, error));
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new MedgwError('MEDGW_ERR_BLE_ATT', String(e));
}

const require = createRequire(import.meta.url);

/** A real @stoprocent/noble instance whose bindings are a central on the virtual radio. */
export function createSimNoble(radio: VirtualRadio): Noble {
  // The Noble class itself (lib/noble.js); the package index would also build the OS bindings.
  const NobleClass = require('@stoprocent/noble/lib/noble.js') as new (bindings: unknown) => Noble;
  return new NobleClass(radio.createBindings());
}

export function createVirtualRadio(options?: VirtualRadioOptions): VirtualRadio {
  return new VirtualRadio(options);
}
