/**
 * The link: one GATT connection to one device. Every operation is raced against link loss and a
 * timeout (noble errors become coded errors), spaced by the definition's minimum GATT spacing, and
 * counted as activity for idle detection. It connects, bonds, discovers (every service or only the
 * listed ones), reads, writes, writes CCCDs exactly (0x0001 notifications, 0x0002 indications) and
 * routes each notification or indication to a waiting request or to the frame handler. It implements
 * the DeviceLink view that definition hooks receive (drivers/definitions/link.ts).
 */
import type { Characteristic, Peripheral, Service } from '@stoprocent/noble';
import type { DeviceLink } from '../../drivers/definitions/link.ts';
import type { DeviceDateTime } from '../../drivers/types.ts';
import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { Logger } from '../log.ts';

export interface LinkTiming {
  /** Connection establishment. */
  readonly connectTimeoutMs: number;
  /** Any single GATT request (read, write, discovery, CCCD write, a control point's answer). */
  readonly gattTimeoutMs: number;
}

export interface LinkOptions {
  readonly deviceId: string;
  readonly peripheral: Peripheral;
  readonly log: Logger;
  readonly timing: LinkTiming;
  /** Minimum time between two GATT operations (definition `link.gattSpacingMs`). */
  readonly gattSpacingMs?: number;
  /** Every notification or indication no request waits for. */
  readonly onFrame: (uuid: string, data: Buffer) => void;
  /** Called once when the link ends, whoever ended it. */
  readonly onEnd: () => void;
  /** Waits until the device is quiet and what it sent is committed (the session's, for hooks). */
  readonly quiet: () => Promise<void>;
  /** The gateway's local civil time now (the session's clock and zone), for hooks. */
  readonly localTime: () => DeviceDateTime;
  /** A hook set the device clock (the session records the coincident timestamp). */
  readonly clockSet: (device: DeviceDateTime) => void;
  /** A hook read the device clock (the session records the coincident timestamp). */
  readonly clockRead: (device: DeviceDateTime) => void;
}

/** Noble's UUID (`2a18`, or 128-bit without dashes) → the 16-bit upper-case form of the profiles. */
export function short(uuid: string): string {
  const u = uuid.toLowerCase().replaceAll('-', '');
  const m = /^0000([0-9a-f]{4})00001000800000805f9b34fb$/.exec(u);
  return (m ? m[1]! : u).toUpperCase();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Link implements DeviceLink {
  readonly deviceId: string;
  /** performance.now() of the last frame received (or of the last request sent, for idle timeouts). */
  lastFrameAt = performance.now();
  private readonly chars = new Map<string, Characteristic>();
  private readonly services = new Set<string>();
  private readonly listening: Array<[Characteristic, (data: Buffer, isNotification: boolean) => void]> = [];
  private readonly waiters = new Map<string, (data: Buffer) => void>();
  private ended = false;
  private readonly lostLink: Promise<never>;
  private markLost!: (e: MedgwError) => void;
  private nextOpAt = 0;
  private spacingTurns: Promise<void> = Promise.resolve();
  private readonly onDisconnect = () => this.end();

  constructor(private readonly o: LinkOptions) {
    this.deviceId = o.deviceId;
    this.lostLink = new Promise<never>((_, reject) => {
      this.markLost = reject;
    });
    this.lostLink.catch(() => undefined);
  }

  get connected(): boolean {
    return !this.ended;
  }

  /** Rejects with MEDGW_ERR_BLE_LINK_LOST once the link is down. */
  get lost(): Promise<never> {
    return this.lostLink;
  }

  async connect(): Promise<void> {
    this.o.peripheral.on('disconnect', this.onDisconnect);
    await this.step(() => this.o.peripheral.connectAsync(), 'connect', this.o.timing.connectTimeoutMs, false);
  }

  /**
   * Bonds with the device (first pairing). Stacks that bond on the first access to an encrypted attribute
   * instead (BlueZ, the HCI stack: the device's security request starts it) answer "not supported":
   * nothing to do here then. Any other failure is MEDGW_ERR_BLE_BONDING.
   */
  async bond(): Promise<void> {
    try {
      await this.step(() => this.o.peripheral.pairAsync(), 'pairing');
    } catch (e) {
      const msg = (e as Error).message;
      if (/not supported/i.test(msg)) {
        this.o.log.debug('pairing is left to the Bluetooth stack (bond on first encrypted access)');
        return;
      }
      if (isMedgwError(e) && e.code !== 'MEDGW_ERR_BLE_ATT') throw e;
      throw new MedgwError('MEDGW_ERR_BLE_BONDING', `pairing with ${this.deviceId} failed: ${msg}`);
    }
  }

  /**
   * GATT discovery: every service and characteristic, or only the services listed (and all their
   * characteristics). Returns the services found, 16-bit upper-case.
   */
  async discover(only?: readonly string[]): Promise<ReadonlySet<string>> {
    const p = this.o.peripheral;
    let services: Service[];
    if (only || (this.o.gattSpacingMs ?? 0) > 0) {
      // Service by service, so a listed service the device lacks is simply absent (noble's
      // discoverSome… fails the whole discovery then) and the GATT spacing applies between requests
      // (noble's own discovery sends the characteristic requests of every service at once).
      services = await this.step(
        () => p.discoverServicesAsync((only ?? []).map((s) => s.toLowerCase())),
        'service discovery',
      );
      for (const s of services) {
        await this.step(
          () => s.discoverCharacteristicsAsync(),
          `characteristic discovery of 0x${short(s.uuid)}`,
        );
      }
    } else {
      ({ services } = await this.step(
        () => p.discoverAllServicesAndCharacteristicsAsync(),
        'service discovery',
      ));
    }
    for (const s of services) {
      this.services.add(short(s.uuid));
      for (const c of s.characteristics ?? []) this.chars.set(`${short(s.uuid)}/${short(c.uuid)}`, c);
    }
    return this.services;
  }

  hasService(service: string): boolean {
    return this.services.has(service);
  }

  has(service: string, characteristic: string): boolean {
    return this.chars.has(`${service}/${characteristic}`);
  }

  allows(service: string, characteristic: string, property: string): boolean {
    return (
      (this.chars.get(`${service}/${characteristic}`)?.properties as readonly string[] | undefined)?.includes(
        property,
      ) ?? false
    );
  }

  async read(service: string, characteristic: string): Promise<Buffer | undefined> {
    const c = this.chars.get(`${service}/${characteristic}`);
    if (!c?.properties.includes('read')) return undefined;
    return this.step(() => c.readAsync(), `read 0x${characteristic}`);
  }

  async write(
    service: string,
    characteristic: string,
    value: Uint8Array,
    options: { readonly withoutResponse?: boolean } = {},
  ): Promise<void> {
    const c = this.need(service, characteristic);
    await this.step(
      () => c.writeAsync(Buffer.from(value), options.withoutResponse ?? false),
      `write 0x${characteristic}`,
    );
  }

  /**
   * Registers a one-shot wait for the next indication of `characteristic` (before writing its request).
   * `onAnswer` sees the answer the moment it arrives, before any later event of the link (a disconnect
   * read together with it): a collector learns there that it has everything, whatever step then sees
   * the link down.
   */
  expect(characteristic: string, onAnswer?: (data: Buffer) => void): Promise<Buffer> {
    return new Promise<Buffer>((resolve) => {
      this.waiters.set(characteristic, (data) => {
        onAnswer?.(data);
        resolve(data);
      });
    });
  }

  async request(service: string, characteristic: string, value: Uint8Array, what: string): Promise<Buffer> {
    const answer = this.expect(characteristic);
    const c = this.need(service, characteristic);
    await this.step(() => c.writeAsync(Buffer.from(value), false), what);
    return this.step(() => answer, `${what} response`, undefined, false);
  }

  quiet(): Promise<void> {
    return this.o.quiet();
  }

  localTime(): DeviceDateTime {
    return this.o.localTime();
  }

  clockSet(device: DeviceDateTime): void {
    this.o.clockSet(device);
  }

  clockRead(device: DeviceDateTime): void {
    this.o.clockRead(device);
  }

  /**
   * Enables notifications (0x0001) or indications (0x0002) with a CCCD write of exactly that value;
   * frames arrive through `onFrame` (or resolve a waiting request).
   */
  async subscribe(service: string, characteristic: string, value: 0x0001 | 0x0002): Promise<void> {
    const c = this.chars.get(`${service}/${characteristic}`);
    if (!c) return;
    const fn = (data: Buffer, isNotification: boolean) => {
      if (isNotification) this.frame(characteristic, data);
    };
    c.on('data', fn);
    this.listening.push([c, fn]);
    const descriptors = await this.step(
      () => c.discoverDescriptorsAsync(),
      `descriptors of 0x${characteristic}`,
    );
    const cccd = descriptors.find((d) => short(d.uuid) === '2902');
    if (!cccd) {
      // No Client Characteristic Configuration descriptor reported: let the stack pick the bit.
      await this.step(() => c.subscribeAsync(), `subscribe 0x${characteristic}`);
      return;
    }
    const v = Buffer.alloc(2);
    v.writeUInt16LE(value);
    try {
      await this.step(() => cccd.writeValueAsync(v), `CCCD of 0x${characteristic}`);
    } catch (e) {
      // BlueZ never lets a client write a CCCD over D-Bus (src/gatt-client.c descriptor_write_value:
      // org.bluez.Error.NotPermitted "Write not permitted"; StartNotify does it): the stack picks the
      // bit, notifications when the characteristic has them, else indications, as the profiles want.
      if (!(isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_ATT' && /write not permitted/i.test(e.message)))
        throw e;
      await this.step(() => c.subscribeAsync(), `subscribe 0x${characteristic}`);
    }
  }

  /** Resolves with `answer`, failing after `idleMs` without any frame from the device. */
  async idle<T>(answer: Promise<T>, idleMs: number, what: string): Promise<T> {
    let settled = false;
    const result = answer.finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([result, this.lostLink, sleep(Math.min(250, idleMs / 4))]);
      if (!settled && performance.now() - this.lastFrameAt > idleMs) {
        throw new MedgwError('MEDGW_ERR_BLE_TIMEOUT', `${what} stalled: nothing received for ${idleMs} ms`);
      }
    }
    return result;
  }

  /** Ends the connection (the gateway's side); resolves once the link is down or after a timeout. */
  async release(): Promise<void> {
    if (this.ended) return;
    try {
      await this.step(() => this.o.peripheral.disconnectAsync(), 'disconnect', undefined, false);
    } catch {
      // The link may already be gone; `disconnect` or the timeout ends the session either way.
    }
    this.end();
  }

  /**
   * A GATT step raced against link loss and a timeout; noble errors become coded errors. A GATT
   * operation (`gatt`) starts only once its spacing slot comes.
   */
  async step<T>(
    op: () => Promise<T>,
    what: string,
    ms = this.o.timing.gattTimeoutMs,
    gatt = true,
  ): Promise<T> {
    if (this.ended && what !== 'disconnect') {
      throw new MedgwError('MEDGW_ERR_BLE_LINK_LOST', `${what}: the link to ${this.deviceId} is down`);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      if (gatt) await this.spacing();
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new MedgwError('MEDGW_ERR_BLE_TIMEOUT', `${what} got no answer within ${ms} ms`)),
          ms,
        );
      });
      return await Promise.race([op(), this.lostLink, timeout]);
    } catch (e) {
      // The answer to a request may overtake the disconnect event of the same link loss.
      if (this.ended || (isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_NOT_CONNECTED')) {
        throw new MedgwError('MEDGW_ERR_BLE_LINK_LOST', `${what}: the link to ${this.deviceId} was lost`);
      }
      if (isMedgwError(e)) throw e;
      // noble's D-Bus bindings reject a connection the device dropped while BlueZ set it up (its own
      // service discovery included) with "disconnected: <reason>": a lost link, not an ATT error.
      if (what === 'connect' && /^disconnected\b/.test((e as Error).message)) {
        throw new MedgwError(
          'MEDGW_ERR_BLE_LINK_LOST',
          `connect: ${this.deviceId} dropped the link while connecting`,
        );
      }
      throw new MedgwError('MEDGW_ERR_BLE_ATT', `${what} failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits for this operation's turn: GATT operations start at least `gattSpacingMs` apart, in call
   * order, measured from when the previous one really started (a late timer never shortens the gap).
   */
  private spacing(): Promise<void> {
    const gap = this.o.gattSpacingMs ?? 0;
    if (gap <= 0) return Promise.resolve();
    const turn = this.spacingTurns.then(async () => {
      const wait = this.nextOpAt - performance.now();
      if (wait > 0) await Promise.race([sleep(wait), this.lostLink]);
      this.nextOpAt = performance.now() + gap;
    });
    this.spacingTurns = turn.catch(() => undefined);
    return turn;
  }

  private need(service: string, characteristic: string): Characteristic {
    const c = this.chars.get(`${service}/${characteristic}`);
    if (!c) {
      throw new MedgwError(
        'MEDGW_ERR_BLE_PROFILE',
        `${this.deviceId} has no 0x${characteristic} in service 0x${service}`,
      );
    }
    return c;
  }

  private frame(uuid: string, data: Buffer): void {
    this.lastFrameAt = performance.now();
    const waiter = this.waiters.get(uuid);
    if (waiter) {
      this.waiters.delete(uuid);
      waiter(data);
      return;
    }
    this.o.onFrame(uuid, data);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.o.peripheral.removeListener('disconnect', this.onDisconnect);
    for (const [c, fn] of this.listening) c.removeListener('data', fn);
    this.listening.length = 0;
    this.waiters.clear();
    this.markLost(new MedgwError('MEDGW_ERR_BLE_LINK_LOST', `the link to ${this.deviceId} ended`));
    this.o.onEnd();
  }
}
