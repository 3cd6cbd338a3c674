/**
 * The base of every simulated peripheral: a GATT database (services, characteristics, one CCCD per
 * notifying or indicating characteristic), advertising data, a device clock, and the link to the
 * central that is connected. Subclasses add their services and behaviour.
 *
 * Notify vs indicate follows Core Spec Vol 3 Part G §3.3.3.3: CCCD bit 0 enables notifications and is
 * honoured only on a characteristic with the Notify property, bit 1 enables indications and is honoured
 * only with the Indicate property. Enabling the wrong bit is accepted and delivers nothing.
 */

import type { DeviceDateTime } from '../../drivers/types.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { ByteWriter, encodeBatteryLevel, toDeviceDateTime } from './encode.ts';
import type { SimFaults } from './faults.ts';

export type SimProperty = 'read' | 'write' | 'writeWithoutResponse' | 'notify' | 'indicate';

/** ATT error codes the simulators answer with (Core Spec Vol 3 Part F §3.4.1.1, CSS Part B §1.2). */
export const ATT = {
  READ_NOT_PERMITTED: 0x02,
  WRITE_NOT_PERMITTED: 0x03,
  INVALID_LENGTH: 0x0d,
  PROCEDURE_IN_PROGRESS: 0x80,
  CCCD_IMPROPER: 0xfd,
  OUT_OF_RANGE: 0xff,
} as const;

/** Thrown by a characteristic handler to answer with an ATT error. */
export class AttError extends MedgwError {
  readonly att: number;
  constructor(att: number, what: string) {
    super('MEDGW_ERR_BLE_ATT', `ATT error 0x${att.toString(16).padStart(2, '0').toUpperCase()}: ${what}`, {
      att,
    });
    this.att = att;
  }
}

export interface SimCharacteristic {
  /** 16-bit UUID, lower-case hex as noble writes it (`2a18`). */
  readonly uuid: string;
  readonly properties: readonly SimProperty[];
  read?(): Uint8Array;
  write?(data: Buffer, withoutResponse: boolean): void;
}

export interface SimService {
  readonly uuid: string;
  readonly characteristics: readonly SimCharacteristic[];
}

/** What the radio gives a peripheral while a central is connected. */
export interface SimLink {
  /** Sends a notification or indication; resolves once the central has received it (or the link dropped). */
  send(serviceUuid: string, characteristicUuid: string, data: Buffer): Promise<boolean>;
  /** The peripheral ends the link itself (e.g. "disconnect in the middle of a transfer"). */
  drop(reason: number): void;
  readonly alive: boolean;
}

export interface AdvertisementOptions {
  localName?: string;
  /** Service UUIDs advertised (16-bit, lower-case). Defaults to the device's primary service. */
  serviceUuids?: string[];
  /** Company identifier (uint16) + data, sent as Manufacturer Specific Data. */
  manufacturerData?: Buffer;
  rssi?: number;
  txPowerLevel?: number;
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
  hardware?: string;
  software?: string;
  /**
   * System ID 0x2A23 as printed on a label: the EUI-64, OUI first (`C0-26-DA-FF-FE-00-0E-01`). The device
   * sends it as GSS System ID says: uint40 manufacturer identifier then uint24 OUI, each least significant
   * octet first, i.e. the eight octets reversed.
   */
  systemId?: string;
  /** UDI for Medical Devices 0x2BFF (DIS 1.2) parts; the characteristic exists only when given. */
  udi?: { label?: string; deviceIdentifier?: string; issuer?: string; authority?: string };
}

export interface PeripheralOptions {
  /** Bluetooth address `AA:BB:CC:DD:EE:FF`; noble's id is the address in lower-case without colons. */
  address: string;
  addressType?: 'public' | 'random';
  advertisement?: AdvertisementOptions;
  info?: Partial<DeviceInformation>;
  /** Device clock offset from the radio clock, in minutes east of UTC (local time without zone). Default 60. */
  utcOffsetMinutes?: number;
  /** Whether the Current Time characteristic accepts writes (CTS 0x2A2B Write is optional). */
  ctsWritable?: boolean;
  /**
   * Local Time Information 0x2A0F (CTS 1.1 §3.2, optional) as sent: Time Zone in 15-minute steps
   * (sint8) and DST Offset (uint8: 0 standard, 4 daylight time, 255 unknown). Absent: no such characteristic.
   */
  localTimeInformation?: { timeZone: number; dstOffset: number };
  faults?: SimFaults;
  /**
   * The device ends the connection itself (reason 0x13) once it has pushed its stored readings, as many
   * cuffs, scales and thermometers do (BLS/WSS/HTS devices without RACP).
   */
  disconnectWhenDone?: boolean;
  /**
   * The device's own services need an encrypted link: until the central pairs (noble `pair()`), reads,
   * writes and CCCD writes there are refused with ATT 0x0F "insufficient encryption", as GLS devices do
   * (GLS 1.0.1 §5: bonding mandatory). Bonds persist: a bonded central's links are encrypted at connection.
   * Device Information and Current Time stay open.
   */
  requireBonding?: boolean;
  /** Vendor services added to the standard ones (e.g. a command characteristic written without response). */
  extraServices?: SimService[];
  /** Battery Level in percent (Battery Service 0x180F); default 90; `null`: the device has no Battery Service. */
  batteryPercent?: number | null;
  /**
   * The device switches itself off when a central discovers more than this many services on one
   * connection (a discovery that takes too long: A&D UA-651BLE, andengineering/AndroidSampleCode#1):
   * the link drops and it stops advertising until `switchOn()` (the person presses its button).
   */
  discoveryBudget?: number;
  /**
   * The device refuses a GATT request (ATT 0x0E "unlikely error") that comes sooner than this many ms
   * after the previous one: devices whose stack needs time between operations.
   */
  requestSpacingMs?: number;
}

export type PeripheralEvent = 'connect' | 'disconnect' | 'cccd' | 'write';

/** Base class of the simulated peripherals. */
export abstract class SimPeripheral {
  readonly address: string;
  readonly id: string;
  readonly addressType: 'public' | 'random';
  readonly info: DeviceInformation;
  readonly faults: SimFaults;
  advertisement: AdvertisementOptions;
  /** Whether the device advertises (a device sleeps between measurements on a real bench). */
  advertising = true;
  /** Set by the radio: the radio's clock in ms since the epoch. */
  now: () => number = Date.now;
  /** Device clock: wall-clock ms = radio ms + clockOffsetMs. */
  protected clockOffsetMs: number;
  private readonly tzMs: number;
  protected readonly ctsWritable: boolean;
  protected readonly localTimeInformation: { timeZone: number; dstOffset: number } | undefined;
  protected readonly disconnectWhenDone: boolean;
  readonly requireBonding: boolean;
  private readonly bonds = new Set<string>();
  private readonly cccds = new Map<string, number>();
  private link: SimLink | undefined;
  private services: SimService[] | undefined;
  private readonly extraServices: SimService[];
  /** Battery Level the device reports (0-100), or null without a Battery Service; change it at will. */
  batteryPercent: number | null;
  private notificationsSent = 0;
  private readonly listeners = new Map<PeripheralEvent, Array<(...a: unknown[]) => void>>();
  /** Set by the radio: tells scanning centrals that this peripheral advertises again. */
  onAdvertise: (() => void) | undefined;
  /** The device switched itself off: no link, no advertising until `switchOn()`. */
  off = false;
  /** Times the device switched itself off. */
  switchedOff = 0;
  private readonly discoveryBudget: number | undefined;
  private servicesDiscovered = 0;
  private readonly requestSpacingMs: number;
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  /** GATT requests refused for coming too soon after the previous one. */
  requestsTooSoon = 0;

  protected constructor(
    options: PeripheralOptions,
    defaults: { localName: string; primaryService: string; info: DeviceInformation },
  ) {
    if (!/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/.test(options.address)) {
      throw new MedgwError('MEDGW_ERR_SIM_OPTION', `address "${options.address}" is not AA:BB:CC:DD:EE:FF`);
    }
    this.address = options.address.toLowerCase();
    this.id = this.address.replaceAll(':', '');
    this.addressType = options.addressType ?? 'public';
    // A copy: one-shot faults clear themselves without touching the caller's options.
    this.faults = { ...options.faults };
    this.ctsWritable = options.ctsWritable ?? true;
    this.localTimeInformation = options.localTimeInformation;
    this.extraServices = options.extraServices ?? [];
    this.batteryPercent = options.batteryPercent === undefined ? 90 : options.batteryPercent;
    this.disconnectWhenDone = options.disconnectWhenDone ?? false;
    this.requireBonding = options.requireBonding ?? false;
    this.discoveryBudget = options.discoveryBudget;
    this.requestSpacingMs = options.requestSpacingMs ?? 0;
    this.info = {
      ...defaults.info,
      ...options.info,
      systemId: options.info?.systemId ?? defaultSystemId(this.id),
    };
    this.advertisement = {
      localName: defaults.localName,
      serviceUuids: [defaults.primaryService],
      rssi: -60,
      ...options.advertisement,
    };
    this.tzMs = (options.utcOffsetMinutes ?? 60) * 60_000;
    this.clockOffsetMs = 0;
    this.useClock(Date.now);
  }

  /** Sets the clock the device counts from (the radio's), applying the clock faults against it. */
  useClock(now: () => number): void {
    this.now = now;
    this.clockOffsetMs = this.tzMs + clockFaultOffset(this.faults, now() + this.tzMs);
  }

  /** The services of the device, built once. */
  protected abstract buildServices(): SimService[];

  gatt(): SimService[] {
    this.services ??= [
      ...this.buildServices(),
      ...(this.batteryPercent !== null ? [this.batteryService()] : []),
      ...this.extraServices,
    ];
    return this.services;
  }

  on(event: PeripheralEvent, fn: (...a: unknown[]) => void): this {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return this;
  }

  protected emit(event: PeripheralEvent, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }

  get connected(): boolean {
    return this.link?.alive === true;
  }

  // ---------------------------------------------------------------- device clock
  /** The device's wall clock now (its own sense of time, no zone). */
  deviceNow(): DeviceDateTime {
    return toDeviceDateTime(this.now() + this.clockOffsetMs);
  }

  deviceWallMs(): number {
    return this.now() + this.clockOffsetMs;
  }

  /** Current Time 0x2A2B value: Exact Time 256 + Adjust Reason (org.bluetooth.characteristic.current_time). */
  protected currentTimeValue(adjustReason = 0): Buffer {
    const wall = this.deviceWallMs();
    const d = new Date(wall);
    const dow = ((d.getUTCDay() + 6) % 7) + 1; // 1 = Monday … 7 = Sunday
    const fractions256 = Math.floor(((wall % 1000) * 256) / 1000);
    return new ByteWriter()
      .dateTime(toDeviceDateTime(wall))
      .u8(dow)
      .u8(fractions256)
      .u8(adjustReason)
      .toBuffer();
  }

  /** A Current Time write sets the device clock (CTS: Write is optional; the device may refuse). */
  protected writeCurrentTime(data: Buffer): void {
    if (!this.ctsWritable)
      throw new AttError(ATT.WRITE_NOT_PERMITTED, 'this device does not let its clock be set');
    if (data.length !== 10)
      throw new AttError(ATT.INVALID_LENGTH, `Current Time is 10 bytes, got ${data.length}`);
    const year = data.readUInt16LE(0);
    const [month, day, hours, minutes, seconds] = [data[2]!, data[3]!, data[4]!, data[5]!, data[6]!];
    if (
      year < 1582 ||
      year > 9999 ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > 31 ||
      hours > 23 ||
      minutes > 59 ||
      seconds > 59
    ) {
      // CTS 1.1 §3.1.2.1: a value the server cannot accept is answered with "Data field ignored" (0x80).
      throw new AttError(0x80, 'Current Time value out of range: data field ignored');
    }
    const fractionsMs = Math.floor((data[8]! * 1000) / 256);
    const wall = Date.UTC(year, month - 1, day, hours, minutes, seconds) + fractionsMs;
    this.clockOffsetMs = wall - this.now();
    void this.notify('1805', '2a2b', this.currentTimeValue(0x01));
  }

  /** Moves the device clock (e.g. a clock that drifts, or a battery change that resets it). */
  shiftClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  // ---------------------------------------------------------------- link, CCCDs and sending
  cccd(serviceUuid: string, characteristicUuid: string): number {
    return this.cccds.get(`${serviceUuid}/${characteristicUuid}`) ?? 0;
  }

  /** Called by the radio on a CCCD write. */
  setCccd(serviceUuid: string, characteristicUuid: string, value: number): void {
    this.cccds.set(`${serviceUuid}/${characteristicUuid}`, value);
    this.emit('cccd', serviceUuid, characteristicUuid, value);
    this.onCccd(serviceUuid, characteristicUuid, value);
  }

  /** Called by the radio after a central's write was accepted: observers see (service, characteristic, data). */
  wrote(serviceUuid: string, characteristicUuid: string, data: Buffer, withoutResponse: boolean): void {
    this.emit('write', serviceUuid, characteristicUuid, Buffer.from(data), withoutResponse);
  }

  /** Hook: a central changed a CCCD. */
  protected onCccd(_service: string, _characteristic: string, _value: number): void {}

  /** Whether a notification (or indication) on this characteristic would reach the central now. */
  protected delivering(serviceUuid: string, characteristicUuid: string): boolean {
    if (!this.connected) return false;
    const c = this.findCharacteristic(serviceUuid, characteristicUuid);
    if (!c) return false;
    const v = this.cccd(serviceUuid, characteristicUuid);
    return (
      ((v & 0x0001) !== 0 && c.properties.includes('notify')) ||
      ((v & 0x0002) !== 0 && c.properties.includes('indicate'))
    );
  }

  /**
   * Sends a value to the connected central, as a notification or an indication depending on the CCCD.
   * Resolves true when delivered; false when nothing was enabled or the link dropped.
   */
  protected async notify(serviceUuid: string, characteristicUuid: string, data: Buffer): Promise<boolean> {
    // Let the ATT response of the request that triggered this go out first, as on a real link.
    await Promise.resolve();
    const link = this.link;
    if (!link || !this.delivering(serviceUuid, characteristicUuid)) return false;
    const limit = this.faults.disconnectAfterNotifications;
    if (limit !== undefined && this.notificationsSent >= limit) {
      // One-shot fault: the link is lost in the middle of a transfer, then the fault is cleared.
      this.faults.disconnectAfterNotifications = undefined;
      this.notificationsSent = 0;
      link.drop(0x08);
      return false;
    }
    const ok = await link.send(serviceUuid, characteristicUuid, data);
    if (ok && limit !== undefined) this.notificationsSent++;
    return ok;
  }

  findCharacteristic(serviceUuid: string, characteristicUuid: string): SimCharacteristic | undefined {
    return this.gatt()
      .find((s) => s.uuid === serviceUuid)
      ?.characteristics.find((c) => c.uuid === characteristicUuid);
  }

  /** Called by the radio when a central connects. */
  attach(link: SimLink): void {
    this.link = link;
    this.advertising = false;
    this.servicesDiscovered = 0;
    this.cccds.clear();
    this.emit('connect');
    this.onConnect();
  }

  /** Called by the radio when the link ends, whoever ended it. */
  detach(reason: number | string): void {
    this.link = undefined;
    this.cccds.clear();
    this.emit('disconnect', reason);
    this.onDisconnect();
    if (this.off) return;
    this.advertising = true;
    this.onAdvertise?.();
  }

  /**
   * Called by the radio when a central discovers `count` services; false when that exceeds the
   * device's discovery budget and it switched itself off (the discovery gets no answer).
   */
  discoveringServices(count: number): boolean {
    this.servicesDiscovered += count;
    if (this.discoveryBudget === undefined || this.servicesDiscovered <= this.discoveryBudget) return true;
    this.switchOff();
    return false;
  }

  /**
   * Called by the radio for each GATT request: the refusal when it comes sooner than the device's
   * request spacing after the previous one (measured on the host's monotonic clock), else undefined.
   */
  gattRequest(): AttError | undefined {
    if (this.requestSpacingMs <= 0) return undefined;
    const now = performance.now();
    const early = now - this.lastRequestAt < this.requestSpacingMs;
    this.lastRequestAt = now;
    if (!early) return undefined;
    this.requestsTooSoon += 1;
    return new AttError(0x0e, `request ${Math.round(this.requestSpacingMs)} ms spacing not respected`);
  }

  /** The device powers itself off: the link is lost (supervision timeout, 0x08) and it stops advertising. */
  switchOff(): void {
    this.off = true;
    this.switchedOff += 1;
    this.advertising = false;
    this.link?.drop(0x08);
  }

  /** The person switches the device on again: it advertises. */
  switchOn(): void {
    this.off = false;
    this.advertise();
  }

  /** Hooks for subclasses. */
  protected onConnect(): void {}
  protected onDisconnect(): void {}

  /** The device ends the connection itself (e.g. when its queue is empty). */
  disconnect(reason = 0x13): void {
    this.link?.drop(reason);
  }

  /** Why the device refuses a pairing request now (undefined: it accepts). */
  pairingRefusal(): string | undefined {
    return undefined;
  }

  /** Records a bond with a central (pairing succeeded). */
  bond(centralAddress: string): void {
    this.bonds.add(centralAddress.toLowerCase());
  }

  isBonded(centralAddress: string): boolean {
    return this.bonds.has(centralAddress.toLowerCase());
  }

  /** Forgets every bond (factory reset, or the user removed the pairing on the device). */
  clearBonds(): void {
    this.bonds.clear();
  }

  /** Whether an attribute of this service needs an encrypted link. */
  protects(serviceUuid: string): boolean {
    return this.requireBonding && serviceUuid !== '180a' && serviceUuid !== '1805' && serviceUuid !== '180f';
  }

  /** Stops advertising (the device goes to sleep); a measurement or `advertise()` wakes it. */
  sleep(): void {
    this.advertising = false;
  }

  /** Sends the stored readings; a device that disconnects when done ends the link after a non-empty push. */
  protected async pushThenMaybeDisconnect(flush: () => Promise<number>): Promise<void> {
    const sent = await flush();
    if (sent > 0 && this.disconnectWhenDone && this.connected) this.disconnect(0x13);
  }

  /** Starts advertising again (a real device wakes up after a measurement). */
  advertise(): void {
    if (this.connected) return;
    this.advertising = true;
    this.onAdvertise?.();
  }

  // ---------------------------------------------------------------- shared services
  /** Device Information Service 0x180A (org.bluetooth.service.device_information). */
  protected deviceInformationService(): SimService {
    const text = (s: string) => () => Buffer.from(s, 'utf8');
    return {
      uuid: '180a',
      characteristics: [
        { uuid: '2a29', properties: ['read'], read: text(this.info.manufacturer) },
        { uuid: '2a24', properties: ['read'], read: text(this.info.model) },
        { uuid: '2a25', properties: ['read'], read: text(this.info.serial) },
        { uuid: '2a26', properties: ['read'], read: text(this.info.firmware) },
        ...(this.info.hardware
          ? [{ uuid: '2a27', properties: ['read'] as SimProperty[], read: text(this.info.hardware) }]
          : []),
        ...(this.info.software
          ? [{ uuid: '2a28', properties: ['read'] as SimProperty[], read: text(this.info.software) }]
          : []),
        { uuid: '2a23', properties: ['read'], read: () => encodeSystemId(this.info.systemId ?? '') },
        ...(this.info.udi
          ? [
              {
                uuid: '2bff',
                properties: ['read'] as SimProperty[],
                read: () => encodeUdi(this.info.udi ?? {}),
              },
            ]
          : []),
      ],
    };
  }

  /** Battery Service 0x180F (BAS 1.0 §3.1): Battery Level 0x2A19 is Read (Notify optional). */
  protected batteryService(): SimService {
    return {
      uuid: '180f',
      characteristics: [
        { uuid: '2a19', properties: ['read'], read: () => encodeBatteryLevel(this.batteryPercent ?? 0) },
      ],
    };
  }

  /** Current Time Service 0x1805: Current Time 0x2A2B is Read + Notify, Write optional. */
  protected currentTimeService(): SimService {
    const lti = this.localTimeInformation;
    return {
      uuid: '1805',
      characteristics: [
        {
          uuid: '2a2b',
          properties: this.ctsWritable ? ['read', 'write', 'notify'] : ['read', 'notify'],
          read: () => this.currentTimeValue(),
          write: (data) => this.writeCurrentTime(data),
        },
        ...(lti
          ? [
              {
                uuid: '2a0f',
                properties: ['read' as const],
                read: () => Buffer.from([lti.timeZone & 0xff, lti.dstOffset]),
              },
            ]
          : []),
      ],
    };
  }

  /** Applies the frame faults (reserved flag bits, corrupt or truncated frame) to a measurement frame. */
  protected faultFrame(frame: Buffer, reservedMask: number): Buffer {
    let out = frame;
    if (this.faults.reservedFlags && reservedMask !== 0) {
      out = Buffer.from(out);
      out[0] = out[0]! | reservedMask;
    }
    const mode = this.faults.frame;
    if (mode === 'truncate') out = out.subarray(0, Math.max(1, out.length - 2));
    if (mode === 'corrupt') {
      out = Buffer.from(out);
      // Flags announce every optional field: the frame is now shorter than its flags say.
      out[0] = 0xff;
    }
    return out;
  }
}

/** A stable System ID derived from the address: 40-bit identifier + 24-bit OUI, little-endian. */
/** DIS v1.1 System ID from a Bluetooth address: OUI, then FF-FE, then the company-assigned 24 bits. */
function defaultSystemId(id: string): string {
  const mac = (id.match(/../g) ?? []).map((p) => p.toUpperCase());
  return [...mac.slice(0, 3), 'FF', 'FE', ...mac.slice(3)].join('-');
}

/** The System ID value on the air: the EUI-64 octets least significant first (GSS System ID). */
function encodeSystemId(eui64: string): Buffer {
  const octets = eui64.split('-').filter((p) => p.length > 0);
  return Buffer.from(octets.map((p) => Number.parseInt(p, 16)).reverse());
}

/** UDI for Medical Devices 0x2BFF (DIS 1.2): flags (bit 0 label … bit 3 authority), each part + a null. */
function encodeUdi(udi: NonNullable<DeviceInformation['udi']>): Buffer {
  const parts = [udi.label, udi.deviceIdentifier, udi.issuer, udi.authority];
  let flags = 0;
  const body: Buffer[] = [];
  parts.forEach((p, bit) => {
    if (p === undefined) return;
    flags |= 1 << bit;
    body.push(Buffer.from(p, 'utf8'), Buffer.of(0));
  });
  return Buffer.concat([Buffer.of(flags), ...body]);
}

function clockFaultOffset(faults: SimFaults, wallNow: number): number {
  if (faults.clock === '1970') return Date.UTC(1970, 0, 1) - wallNow;
  if (faults.clock === '2094') return Date.UTC(2094, 0, 1) - wallNow;
  return (faults.clockOffsetMinutes ?? 0) * 60_000;
}

/**
 * Readings a device stored while no central listened, pushed oldest first once one enables indications
 * (BLS, WSS, HTS behaviour: stored measurements are sent as queued indications after reconnection).
 */
export class PendingQueue<T> {
  private readonly items: T[] = [];
  private readonly sent: T[] = [];
  private busy = false;
  private readonly send: (item: T) => Promise<boolean>;

  constructor(send: (item: T) => Promise<boolean>) {
    this.send = send;
  }

  add(item: T): void {
    this.items.push(item);
  }

  get pending(): readonly T[] {
    return this.items;
  }

  /**
   * Sends every pending item that `accept` lets through, in order, removing each once delivered;
   * returns how many were sent.
   * `resend` first sends again that many of the items already delivered (the "re-sent old records" fault).
   */
  async flush(accept: (item: T) => boolean = () => true, resend = 0): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let sent = 0;
    try {
      for (const item of resend > 0 ? this.sent.slice(-resend) : []) {
        if (!accept(item)) continue;
        if (!(await this.send(item))) return sent;
        sent++;
      }
      for (;;) {
        const item = this.items.find(accept);
        if (item === undefined) return sent;
        if (!(await this.send(item))) return sent;
        this.items.splice(this.items.indexOf(item), 1);
        this.sent.push(item);
        sent++;
      }
    } finally {
      this.busy = false;
    }
  }
}
