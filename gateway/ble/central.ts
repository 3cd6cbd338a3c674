/**
 * The BLE central: a Component over an injected noble instance. It scans continuously (duplicates
 * allowed, so a device that wakes up and advertises again is seen again), matches advertisements to
 * driver definitions, lists unknown-but-readable devices as `discovered` until they are paired, and
 * runs one Session per connection with at most `maxConnections` at a time; the others wait in a queue
 * (a synced device that lingers gives its slot up as soon as another one waits). A failed connection
 * is retried with exponential backoff and jitter. Every state change is published on `feed`.
 */
import type { Noble, Peripheral } from '@stoprocent/noble';
import {
  type DriverDefinition,
  findDefinition,
  matchAdvertisement,
} from '../../drivers/definitions/index.ts';
import { type ErrorCode, isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { Clock, Component, Journal, ReadingSink, Registry } from '../contracts.ts';
import { type Logger, shortId } from '../log.ts';
import { addDevice } from '../registry/operations.ts';
import type { Sealer } from '../secrets/index.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import type { Bonding } from './bluez/pairing.ts';
import { Session, type SessionCounters, type SessionTiming, short } from './session.ts';
import { type BleState, type BleStateChange, StateFeed } from './states.ts';
import { BleStore, type UdsUser } from './store.ts';

export interface CentralTiming extends SessionTiming {
  /** How long a synced device that pushes readings stays connected for live readings. */
  readonly lingerMs: number;
  /** After a successful sync, advertisements of the device are not answered for this long. */
  readonly cooldownMs: number;
}

export const DEFAULT_TIMING: CentralTiming = {
  connectTimeoutMs: 10_000,
  gattTimeoutMs: 5_000,
  racpIdleTimeoutMs: 10_000,
  quietMs: 1_500,
  lingerMs: 60_000,
  cooldownMs: 30_000,
};

export interface BleCentralOptions {
  /** Builds the noble instance on start (lazily: a machine without Bluetooth starts fine). */
  readonly noble: () => Noble | Promise<Noble>;
  readonly registry: Registry;
  readonly journal: Journal;
  readonly sink: ReadingSink;
  readonly clock: Clock;
  readonly log: Logger;
  readonly maxConnections: number;
  /** Zone of the local time written to device clocks (config `timezone`). */
  readonly timeZone: string;
  /** Seals UDS consent codes (the data directory's, gateway/secrets); a process-only key without. */
  readonly sealer?: Sealer;
  readonly timing?: Partial<CentralTiming>;
  readonly backoff?: Partial<BackoffOptions>;
  readonly random?: () => number;
  /** Addresses paired automatically when first seen (the `sim` demo's configured simulated devices). */
  readonly autoPair?: readonly string[];
  /**
   * `sim` only: UDS users already registered on pre-paired simulated scales (index and the consent code
   * the scale showed), stored at start as `pair({ udsUsers })` would; the simulator is the truth.
   */
  readonly autoPairUsers?: Readonly<Record<string, readonly UdsUser[]>>;
  /**
   * Devices tracked at most (default 512). Beyond, a newly seen device replaces the oldest one that
   * was only seen (not registered, not pairing, not connected), or is only counted when none is.
   */
  readonly maxTracked?: number;
  /** "discovered a device" lines per minute at most (default 20); the rest are counted and summed up. */
  readonly discoveryLogsPerMinute?: number;
  /** Bonding through the Bluetooth stack (`dbus` mode: BlueZ and the gateway's pairing agent). */
  readonly bonding?: Bonding;
}

/** What the admin API and the CLI show for one device. */
export interface BleDeviceStatus {
  readonly deviceId: string;
  readonly state: BleState;
  readonly paired: boolean;
  readonly connected: boolean;
  readonly queued: boolean;
  readonly driver?: string;
  readonly generic?: boolean;
  readonly localName?: string;
  readonly rssi?: number;
  readonly attempt: number;
  readonly lastSeenAt?: number;
  readonly lastSyncAt?: number;
  /** When the state last changed (gateway clock). */
  readonly changedAt: number;
  /** How the device clock was handled on the last connection: set, only read (corrected), or unknown. */
  readonly clock?: 'synced' | 'corrected' | 'untrusted';
  /** Records a glucometer reported holding at the last sync (RACP number of stored records). */
  readonly reportedRecords?: number;
  /** Battery Level read on the last connection (Battery Service 0x180F), percent. */
  readonly batteryPercent?: number;
  readonly lastError?: { readonly code: ErrorCode; readonly message: string };
  readonly retryAt?: number;
  /** Counters of the current or last connection (committed, intermediate values dropped, rejected frames). */
  readonly session?: Readonly<SessionCounters>;
}

interface Tracked {
  readonly deviceId: string;
  peripheral?: Peripheral;
  driver?: DriverDefinition;
  state: BleState;
  /** Consecutive failed attempts. */
  failures: number;
  pairing: boolean;
  queued: boolean;
  session?: Session;
  runDone: boolean;
  timer?: NodeJS.Timeout;
  lingerTimer?: NodeJS.Timeout;
  /** Monotonic ms (performance.now): no connection before this instant (backoff or cooldown). */
  notBefore: number;
  forgetting?: boolean;
  /** Set while `repair` removes the stale bond: no retry and no connection until it pairs anew. */
  held?: boolean;
  retryAt?: number;
  localName?: string;
  rssi?: number;
  lastSeenAt?: number;
  lastSyncAt?: number;
  lastError?: { code: ErrorCode; message: string };
  settled?: Promise<void>;
  counters?: SessionCounters;
  changedAt: number;
  clock?: 'synced' | 'corrected' | 'untrusted';
  reportedRecords?: number;
  batteryPercent?: number;
}

/** `aa:bb:cc:dd:ee:ff`, `AABBCCDDEEFF` → `AA:BB:CC:DD:EE:FF` (the registry id of a BLE device). */
export function bleDeviceId(address: string): string {
  const hex = address.replaceAll(/[:-]/g, '').toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex)) {
    throw new MedgwError('MEDGW_ERR_USAGE', `"${address}" is not a Bluetooth address AA:BB:CC:DD:EE:FF`);
  }
  return hex.match(/../g)!.join(':');
}

export class BleCentral implements Component {
  readonly name = 'ble';
  readonly feed = new StateFeed();
  private readonly log: Logger;
  private readonly timing: CentralTiming;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly store: BleStore;
  private readonly autoPair: ReadonlySet<string>;
  private readonly tracked = new Map<string, Tracked>();
  private readonly queue: string[] = [];
  private noble: Noble | undefined;
  private running = false;
  private available = false;
  private peak = 0;
  /** Devices newly seen (each counted once while tracked), and those dropped or forgotten for the cap. */
  private readonly discovery = { seen: 0, untracked: 0, logWindowStart: 0, logged: 0, unlogged: 0 };
  private readonly onDiscover = (p: Peripheral) => this.discovered(p);
  private readonly onStateChange = (state: string) => this.adapterState(state);

  constructor(private readonly options: BleCentralOptions) {
    this.log = options.log.child({ component: 'ble' });
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.store = new BleStore(options.registry, options.sealer);
    this.autoPair = new Set((options.autoPair ?? []).map(bleDeviceId));
  }

  // ---------------------------------------------------------------- life cycle
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const [address, users] of Object.entries(this.options.autoPairUsers ?? {})) {
      for (const u of users) await this.store.putUdsUser(bleDeviceId(address), u);
    }
    let noble: Noble;
    try {
      noble = await this.options.noble();
    } catch (e) {
      this.log.error(
        { code: 'MEDGW_ERR_BLE_UNAVAILABLE', err: e },
        'Bluetooth is not available: the BLE central stays idle (use --ble off or --ble sim to silence this)',
      );
      return;
    }
    try {
      // Reading the state initializes the bindings now (noble lib/noble.js), so that a failure to
      // open them is caught here rather than thrown later on a tick of its own.
      void noble.state;
    } catch (e) {
      this.log.error(
        { code: 'MEDGW_ERR_BLE_UNAVAILABLE', err: e },
        'the Bluetooth adapter could not be opened: the BLE central stays idle',
      );
      return;
    }
    this.noble = noble;
    noble.on('discover', this.onDiscover);
    noble.on('stateChange', this.onStateChange);
    if (noble.state === 'poweredOn') await this.adapterState('poweredOn');
    else if (noble.state !== 'unsupported' && noble.state !== 'unauthorized') {
      this.log.info({ state: noble.state }, 'waiting for the Bluetooth adapter to power on');
    } else await this.adapterState(noble.state);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.queue.length = 0;
    for (const t of this.tracked.values()) {
      clearTimeout(t.timer);
      clearTimeout(t.lingerTimer);
      t.timer = undefined;
      t.queued = false;
    }
    const noble = this.noble;
    if (noble && this.available) await noble.stopScanningAsync().catch(() => undefined);
    await Promise.all(
      [...this.tracked.values()].map(async (t) => {
        await t.session?.release();
        await t.settled;
      }),
    );
    if (noble) {
      noble.removeListener('discover', this.onDiscover);
      noble.removeListener('stateChange', this.onStateChange);
    }
    this.available = false;
  }

  /** noble's adapter state (`poweredOn`, `poweredOff`, `unsupported`…), `unavailable` without bindings. */
  get adapter(): string {
    if (!this.running) return 'stopped';
    return this.noble?.state ?? 'unavailable';
  }

  /** Whether an adapter is powered on and scanning. */
  get scanning(): boolean {
    return this.available;
  }

  /** Highest number of simultaneous connections seen since start. */
  get peakConnections(): number {
    return this.peak;
  }

  /** Devices newly seen since start, tracked now, and not tracked (or no longer) because of the cap. */
  get discoveryCounters(): { readonly seen: number; readonly tracked: number; readonly untracked: number } {
    return { seen: this.discovery.seen, tracked: this.tracked.size, untracked: this.discovery.untracked };
  }

  /**
   * Room for one more tracked device: at the cap, the oldest entry that was only seen (state
   * `discovered`, not in the registry, no pairing, session or timer) is forgotten. False when none is.
   */
  private roomToTrack(): boolean {
    if (this.tracked.size < (this.options.maxTracked ?? 512)) return true;
    for (const [id, t] of this.tracked) {
      if (t.state !== 'discovered' || t.pairing || t.queued || t.session || t.timer || t.lingerTimer)
        continue;
      if (this.autoPair.has(id) || this.options.registry.getDevice(id)) continue;
      this.tracked.delete(id);
      this.discovery.untracked += 1;
      return true;
    }
    this.discovery.untracked += 1;
    return false;
  }

  /** One line per new device up to the per-minute budget; the rest are summed up in the next window. */
  private logDiscovery(id: string, driver: DriverDefinition): void {
    const d = this.discovery;
    const now = this.options.clock.now();
    if (now - d.logWindowStart >= 60_000) {
      if (d.unlogged > 0) {
        this.log.info(
          { more: d.unlogged, seen: d.seen, tracked: this.tracked.size },
          'more devices discovered than logged one by one in the last minute',
        );
      }
      d.logWindowStart = now;
      d.logged = 0;
      d.unlogged = 0;
    }
    if (d.logged >= (this.options.discoveryLogsPerMinute ?? 20)) {
      d.unlogged += 1;
      return;
    }
    d.logged += 1;
    this.log.info(
      { device: shortId(id), driver: driver.id, generic: driver.generic },
      driver.generic ? `discovered a device read by the ${driver.model}` : 'discovered a device',
    );
  }

  private async adapterState(state: string): Promise<void> {
    if (!this.running || !this.noble) return;
    if (state !== 'poweredOn') {
      if (state === 'unsupported' || state === 'unauthorized') {
        this.log.error(
          { code: 'MEDGW_ERR_BLE_UNAVAILABLE', state },
          `the Bluetooth adapter is ${state}: the BLE central stays idle (use --ble off or --ble sim)`,
        );
      } else if (this.available) {
        this.log.warn({ state }, 'the Bluetooth adapter is no longer powered on');
      }
      this.available = false;
      return;
    }
    if (this.available) return;
    this.available = true;
    try {
      // Duplicates allowed: a paired device that wakes up and advertises again must be seen again.
      await this.noble.startScanningAsync([], true);
      this.log.info('scanning for health devices');
    } catch (e) {
      this.available = false;
      this.log.error({ code: 'MEDGW_ERR_BLE_UNAVAILABLE', err: e }, 'scanning could not start');
    }
  }

  // ---------------------------------------------------------------- what the UI sees
  list(): BleDeviceStatus[] {
    return [...this.tracked.values()].map((t) => this.status(t));
  }

  get(address: string): BleDeviceStatus | undefined {
    const t = this.tracked.get(bleDeviceId(address));
    return t ? this.status(t) : undefined;
  }

  private status(t: Tracked): BleDeviceStatus {
    return {
      deviceId: t.deviceId,
      state: t.state,
      paired: this.paired(t),
      connected: t.session?.connected ?? false,
      queued: t.queued,
      ...(t.driver ? { driver: t.driver.id, generic: t.driver.generic } : {}),
      ...(t.localName !== undefined ? { localName: t.localName } : {}),
      ...(t.rssi !== undefined ? { rssi: t.rssi } : {}),
      attempt: t.failures + 1,
      ...(t.lastSeenAt !== undefined ? { lastSeenAt: t.lastSeenAt } : {}),
      ...(t.lastSyncAt !== undefined ? { lastSyncAt: t.lastSyncAt } : {}),
      changedAt: t.changedAt,
      ...(t.clock ? { clock: t.clock } : {}),
      ...(t.reportedRecords !== undefined ? { reportedRecords: t.reportedRecords } : {}),
      ...(t.batteryPercent !== undefined ? { batteryPercent: t.batteryPercent } : {}),
      ...(t.lastError ? { lastError: t.lastError } : {}),
      ...(t.retryAt !== undefined ? { retryAt: t.retryAt } : {}),
      ...(t.counters ? { session: { ...t.counters } } : {}),
    };
  }

  private setState(t: Tracked, state: BleState, extra: Partial<BleStateChange> = {}): void {
    const previous = t.state;
    t.state = state;
    t.changedAt = this.options.clock.now();
    this.feed.publish({
      deviceId: t.deviceId,
      state,
      previous,
      at: this.options.clock.now(),
      attempt: t.failures + 1,
      ...(t.driver ? { driver: t.driver.id } : {}),
      ...extra,
    });
  }

  // ---------------------------------------------------------------- pairing
  /**
   * Pairs a discovered device (`medgw devices pair <address>`): provisions it in the registry with its
   * driver, then connects, bonds and syncs. `udsUsers` adds consents of household users registered on
   * the scale itself (index and the consent code it showed).
   */
  async pair(
    address: string,
    options: { patientId?: string; name?: string; udsUsers?: readonly UdsUser[] } = {},
  ): Promise<BleDeviceStatus> {
    const id = bleDeviceId(address);
    const t = this.tracked.get(id);
    if (!t?.peripheral || !t.driver) {
      throw new MedgwError(
        'MEDGW_ERR_BLE_NOT_DISCOVERED',
        `${id} has not been seen advertising a health service; wake it up and pair again`,
      );
    }
    const existing = this.options.registry.getDevice(id);
    if (!existing) {
      await addDevice(
        this.options.registry,
        {
          id,
          transport: 'ble',
          driver: t.driver.id,
          patientId: options.patientId,
          name: options.name ?? t.localName,
        },
        this.options.clock,
      );
    } else if (existing.transport !== 'ble') {
      throw new MedgwError('MEDGW_ERR_REGISTRY_EXISTS', `${id} is already provisioned as an MQTT device`);
    }
    for (const u of options.udsUsers ?? []) await this.store.putUdsUser(id, u);
    t.pairing = true;
    t.held = false;
    t.failures = 0;
    t.notBefore = 0;
    clearTimeout(t.timer);
    t.timer = undefined;
    this.log.info({ device: shortId(id), driver: t.driver.id }, 'pairing requested');
    this.consider(t);
    return this.status(t);
  }

  /**
   * Pairs a device again after it forgot the gateway (MEDGW_ERR_BLE_BOND_LOST: reset, pairings cleared on
   * the device): the stale key is removed from the Bluetooth stack, then the device pairs as new. Its
   * registry entry, patient and readings stay.
   */
  async repair(address: string): Promise<BleDeviceStatus> {
    const id = bleDeviceId(address);
    const t = this.tracked.get(id);
    if (t) {
      // No retry and no new connection until the pairing below (pair() lifts the hold). The ending
      // session's failure schedules a retry, and the device's next advertisement would start one:
      // either would race the new pairing on a link BlueZ is about to drop.
      t.held = true;
      await t.session?.release();
      await t.settled;
      clearTimeout(t.timer);
      t.timer = undefined;
    }
    try {
      if (this.options.bonding) {
        // BlueZ drops the device object with its key and lists it again at its next advertisement: a
        // connection before that has no object to talk to, so the pairing waits for the sighting.
        const sighting = this.nextSighting(id, this.timing.connectTimeoutMs);
        await this.options.bonding.unbond(id);
        sighting.arm();
        await sighting.seen;
      }
    } catch (e) {
      if (t) {
        t.held = false;
        this.consider(t);
      }
      throw e;
    }
    this.log.info({ device: shortId(id) }, 'old pairing removed, pairing again');
    return this.pair(address);
  }

  /**
   * The device's next advertisement seen by noble once `arm()` is called (sightings before do not
   * count: the old object may still be listed), or `ms` after arming anyway.
   */
  private nextSighting(id: string, ms: number): { arm(): void; readonly seen: Promise<void> } {
    const noble = this.noble;
    let armed = false;
    let arm: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      if (!noble) {
        arm = () => resolve();
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        noble.removeListener('discover', onDiscover);
        resolve();
      };
      const onDiscover = (p: Peripheral) => {
        if (!armed) return;
        try {
          if (bleDeviceId(p.address || p.id) === id) done();
        } catch {
          // not an address
        }
      };
      noble.on('discover', onDiscover);
      arm = () => {
        armed = true;
        timer = setTimeout(done, ms);
      };
    });
    return { arm: () => arm(), seen };
  }

  /** Forgets a device: disconnects, drops its bond, UDS consents and registry entry. Re-pair to use it again. */
  async forget(address: string): Promise<boolean> {
    const id = bleDeviceId(address);
    const t = this.tracked.get(id);
    const known = this.options.registry.getDevice(id) !== undefined || t !== undefined;
    if (t) {
      t.forgetting = true;
      clearTimeout(t.timer);
      clearTimeout(t.lingerTimer);
      t.timer = undefined;
      t.pairing = false;
      t.queued = false;
      const i = this.queue.indexOf(id);
      if (i >= 0) this.queue.splice(i, 1);
      await t.session?.release();
      await t.settled;
    }
    await this.store.forget(id);
    // The stack's key goes too (BlueZ RemoveDevice): a later pairing starts fresh.
    await this.options.bonding?.unbond(id).catch((e: unknown) => {
      this.log.warn({ device: shortId(id), err: e }, 'the Bluetooth stack kept the old pairing key');
    });
    await this.options.registry.removeDevice(id);
    if (t) {
      t.failures = 0;
      t.notBefore = 0;
      t.lastError = undefined;
      t.retryAt = undefined;
      t.forgetting = false;
      this.setState(t, 'forgotten');
    }
    this.log.info({ device: shortId(id) }, 'device forgotten');
    return known;
  }

  private paired(t: Tracked): boolean {
    const d = this.options.registry.getDevice(t.deviceId);
    return d?.transport === 'ble' && (d.bond === 'bonded' || t.pairing);
  }

  // ---------------------------------------------------------------- scanning
  private discovered(p: Peripheral): void {
    if (!this.running) return;
    let id: string;
    try {
      id = bleDeviceId(p.address || p.id);
    } catch {
      return;
    }
    const adv = p.advertisement ?? { serviceUuids: [] };
    let t = this.tracked.get(id);
    if (!t) {
      const driver = this.driverFor(id, p);
      if (!driver) return;
      this.discovery.seen += 1;
      if (!this.roomToTrack()) return;
      t = {
        deviceId: id,
        driver,
        state: 'discovered',
        failures: 0,
        pairing: false,
        queued: false,
        runDone: true,
        notBefore: 0,
        changedAt: this.options.clock.now(),
      };
      this.tracked.set(id, t);
      t.peripheral = p;
      this.setState(t, 'discovered');
      this.logDiscovery(id, driver);
    } else if (t.state === 'forgotten') {
      t.driver = this.driverFor(id, p) ?? t.driver;
      this.setState(t, 'discovered');
    }
    t.peripheral = p;
    if (adv.localName) t.localName = adv.localName;
    t.rssi = p.rssi;
    t.lastSeenAt = this.options.clock.now();
    if (this.autoPair.has(id) && !this.options.registry.getDevice(id)) {
      void this.autoRegister(t);
      return;
    }
    this.consider(t);
  }

  private driverFor(id: string, p: Peripheral): DriverDefinition | undefined {
    const known = this.options.registry.getDevice(id)?.driver;
    if (known) {
      try {
        return findDefinition(known);
      } catch {
        this.log.warn(
          { device: shortId(id), code: 'MEDGW_ERR_UNKNOWN_DRIVER' },
          'registry names an unknown driver',
        );
      }
    }
    const adv = p.advertisement;
    const m = adv?.manufacturerData;
    return matchAdvertisement({
      ...(adv?.localName ? { localName: adv.localName } : {}),
      serviceUuids: (adv?.serviceUuids ?? []).map(short),
      ...(m && m.length >= 2 ? { manufacturerId: m.readUInt16LE(0) } : {}),
    });
  }

  /** `sim` demo: the configured simulated devices are provisioned as paired (bonded) on first sight. */
  private async autoRegister(t: Tracked): Promise<void> {
    if (!t.driver || this.options.registry.getDevice(t.deviceId)) return;
    try {
      await this.options.registry.putDevice({
        id: t.deviceId,
        transport: 'ble',
        driver: t.driver.id,
        ...(t.localName ? { name: t.localName } : {}),
        bond: 'bonded',
        createdAt: this.options.clock.now(),
      });
      this.log.info({ device: shortId(t.deviceId) }, 'simulated device pre-paired (sim mode)');
    } catch (e) {
      this.log.error({ device: shortId(t.deviceId), err: e }, 'pre-pairing a simulated device failed');
      return;
    }
    this.consider(t);
  }

  // ---------------------------------------------------------------- queue and sessions
  private consider(t: Tracked): void {
    if (!this.running || !this.available || t.held || t.queued || t.session || t.timer) return;
    if (!t.peripheral || !t.driver || !this.paired(t)) return;
    if (performance.now() < t.notBefore) return;
    t.queued = true;
    this.queue.push(t.deviceId);
    this.pump();
  }

  private active(): number {
    let n = 0;
    for (const t of this.tracked.values()) if (t.session) n++;
    return n;
  }

  private pump(): void {
    while (this.running && this.queue.length > 0 && this.active() < this.options.maxConnections) {
      const id = this.queue.shift()!;
      const t = this.tracked.get(id);
      if (!t?.queued) continue;
      t.queued = false;
      this.begin(t);
    }
    if (this.queue.length > 0) {
      // Someone waits for a slot: a synced device that only lingers for live readings gives it up.
      for (const t of this.tracked.values()) {
        if (t.session && t.runDone && t.state === 'synced') void t.session.release();
      }
    }
  }

  private begin(t: Tracked): void {
    const driver = t.driver!;
    const deviceLog = this.log.child({ device: shortId(t.deviceId) });
    const session = new Session({
      deviceId: t.deviceId,
      peripheral: t.peripheral!,
      definition: driver,
      pairing: t.pairing,
      registry: this.options.registry,
      journal: this.options.journal,
      sink: this.options.sink,
      store: this.store,
      clock: this.options.clock,
      log: deviceLog,
      timeZone: this.options.timeZone,
      timing: this.timing,
      random: this.random,
      setState: (s) => this.setState(t, s),
      onLinkEnd: () => this.free(t),
      ...(this.options.bonding ? { bonding: this.options.bonding } : {}),
    });
    t.session = session;
    t.counters = session.counters;
    t.runDone = false;
    t.retryAt = undefined;
    this.peak = Math.max(this.peak, this.active());
    t.settled = this.runSession(t, session, deviceLog);
  }

  private async runSession(t: Tracked, session: Session, log: Logger): Promise<void> {
    try {
      await session.run();
      await this.synced(t, session);
    } catch (e) {
      await session.release();
      await session.drain().catch(() => undefined);
      // A refusal by the pipeline ends the link on purpose: report it rather than the link loss.
      this.failed(t, session, session.refusal ?? e, log);
    } finally {
      t.runDone = true;
      this.free(t);
    }
  }

  private async synced(t: Tracked, session: Session): Promise<void> {
    const d = this.options.registry.getDevice(t.deviceId);
    // A record provisioned without a driver (`devices add --transport ble`, the demo's pre-paired
    // devices) keeps the one this sync worked with, so the registry and `devices list` name it.
    const driver = d?.driver === undefined && t.driver ? { driver: t.driver.id } : {};
    if (d && ((t.pairing && d.bond !== 'bonded') || driver.driver !== undefined)) {
      await this.options.registry.putDevice({ ...d, ...driver, ...(t.pairing ? { bond: 'bonded' } : {}) });
    }
    t.pairing = false;
    t.failures = 0;
    t.lastError = undefined;
    t.lastSyncAt = this.options.clock.now();
    t.clock = session.clockHandling;
    if (session.reportedRecords !== undefined) t.reportedRecords = session.reportedRecords;
    if (session.batteryPercent !== undefined) t.batteryPercent = session.batteryPercent;
    t.notBefore = performance.now() + this.timing.cooldownMs;
    this.setState(t, 'synced', { committed: session.counters.committed });
    // A meter's transfer is complete (RACP or its own record counter): the slot is given back.
    const collect = session.measurementProfile.collect;
    if (collect === 'racp' || collect === 'counter' || this.queue.length > 0) {
      await session.release();
    } else {
      clearTimeout(t.lingerTimer);
      t.lingerTimer = setTimeout(() => void session.release(), this.timing.lingerMs);
      t.lingerTimer.unref?.();
    }
  }

  private failed(t: Tracked, session: Session, e: unknown, log: Logger): void {
    if (!this.running || t.forgetting || this.options.registry.getDevice(t.deviceId) === undefined) {
      return;
    }
    const code = isMedgwError(e) ? e.code : 'MEDGW_ERR_BLE_ATT';
    const message = e instanceof Error ? e.message : String(e);
    t.failures += 1;
    const delay = backoffDelay(t.failures, this.backoff, this.random);
    t.notBefore = performance.now() + delay;
    t.lastError = { code, message };
    const retry = t.failures < this.backoff.maxAttempts;
    t.retryAt = retry ? this.options.clock.now() + delay : undefined;
    log.warn(
      { code, attempt: t.failures, retryInMs: retry ? delay : null, committed: session.counters.committed },
      'connection failed',
    );
    this.setState(t, 'failed', {
      attempt: t.failures,
      code,
      message,
      ...(t.retryAt !== undefined ? { retryAt: t.retryAt } : {}),
    });
    if (retry) {
      t.timer = setTimeout(() => {
        t.timer = undefined;
        // Timers may fire a fraction of a millisecond before performance.now() reaches notBefore.
        t.notBefore = 0;
        this.consider(t);
      }, delay);
      t.timer.unref?.();
    }
  }

  /** Frees the slot once the procedure has finished and the link is down. */
  private free(t: Tracked): void {
    const s = t.session;
    if (!s || !t.runDone || s.connected) return;
    clearTimeout(t.lingerTimer);
    t.session = undefined;
    this.pump();
  }
}
