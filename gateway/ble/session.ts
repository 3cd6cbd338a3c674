/**
 * One connection to one BLE device, as its driver definition's profiles say: connect, bond (first
 * pairing), discover, read Device Information and the device clock (coincident timestamp, Current
 * Time write where allowed), enable notifications (CCCD 0x0001) or indications (0x0002) exactly as each
 * profile lists them, then collect: records after the stored cursor through the RACP (GLP v1.0.1
 * collector procedure), or the readings the device pushes (BLS/WSS/HTS), after a User Data Service
 * consent on multi-user scales. Every final reading goes to the ReadingSink; the RACP cursor travels
 * with the readings it covers, so it only advances with committed records.
 */
import type { Characteristic, Peripheral } from '@stoprocent/noble';
import { decodeCurrentTime } from '../../drivers/codecs/current-time.ts';
import { decodeGlucoseContext, mergeGlucoseContext } from '../../drivers/codecs/glucose-context.ts';
import { decodeLocalTimeInformation } from '../../drivers/codecs/local-time-information.ts';
import { decodeRacp, encodeRacpRequest, racpReportAfter } from '../../drivers/codecs/racp.ts';
import { decodeSystemId } from '../../drivers/codecs/system-id.ts';
import { decodeUdi } from '../../drivers/codecs/udi.ts';
import {
  encodeConsent,
  encodeRegisterNewUser,
  type UserControlPointFields,
  userControlPoint,
} from '../../drivers/codecs/user-control-point.ts';
import { decodeFrame } from '../../drivers/decode.ts';
import type { DriverDefinition } from '../../drivers/definitions/index.ts';
import { ERROR_CATALOGUE, type ErrorCode, isMedgwError, MedgwError } from '../../drivers/errors.ts';
import type { DeviceProfile } from '../../drivers/profiles/index.ts';
import type { CoincidentTime, DeviceUdi, Measurement } from '../../drivers/types.ts';
import type { Clock, DeviceIdentity, Journal, ReadingSink, Registry } from '../contracts.ts';
import type { Logger } from '../log.ts';
import type { BleState } from './states.ts';
import type { BleStore } from './store.ts';
import { coincidentFor, currentTimeFor, type SessionTimes } from './time.ts';

export interface SessionTiming {
  /** Connection establishment. */
  readonly connectTimeoutMs: number;
  /** Any single GATT request (read, write, discovery, CCCD write). */
  readonly gattTimeoutMs: number;
  /** Longest silence in the middle of a RACP transfer. */
  readonly racpIdleTimeoutMs: number;
  /** Silence after which a pushing device is considered to have sent its stored readings. */
  readonly quietMs: number;
}

export interface SessionContext {
  readonly deviceId: string;
  readonly peripheral: Peripheral;
  readonly definition: DriverDefinition;
  /** First connection after `pair`: bond, register UDS users, fetch every stored record. */
  readonly pairing: boolean;
  readonly registry: Registry;
  readonly journal: Journal;
  readonly sink: ReadingSink;
  readonly store: BleStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timeZone: string;
  readonly timing: SessionTiming;
  readonly random: () => number;
  readonly setState: (state: BleState) => void;
  /** Called once when the link ends, whoever ended it. */
  readonly onLinkEnd: () => void;
}

export interface SessionCounters {
  /** Final readings handed to the pipeline and committed (new or collapsed duplicates). */
  committed: number;
  /** Intermediate values (cuff pressure while inflating, unstable weights): shown, never forwarded. */
  intermediate: number;
  /** Frames that could not be decoded (counted and audited by the pipeline with their code). */
  rejected: number;
  /** Weighings the scale reported as unsuccessful (weight 0xFFFF): no reading, never forwarded. */
  unsuccessful: number;
}

/**
 * WSS 1.0, Weight Measurement, Weight field: 0xFFFF is "Measurement Unsuccessful" (the scale found
 * no stable weight); it is not a reading of the person, so it is counted and logged, never forwarded.
 */
export function isUnsuccessfulWeighing(m: Measurement): boolean {
  return (
    m.source === '2A9D' &&
    m.components.some((c) => c.name === 'weight' && 'absent' in c.value && c.value.raw === 0xffff)
  );
}

const RACP_UUID = '2A52';
const UCP_UUID = '2A9F';
const GLUCOSE_UUID = '2A18';
const CONTEXT_UUID = '2A34';

/** Noble's UUID (`2a18`, or 128-bit without dashes) → the 16-bit upper-case form of the profiles. */
export function short(uuid: string): string {
  const u = uuid.toLowerCase().replaceAll('-', '');
  const m = /^0000([0-9a-f]{4})00001000800000805f9b34fb$/.exec(u);
  return (m ? m[1]! : u).toUpperCase();
}

/** A commit goes once this many readings wait, or after GATHER_MS without reaching it. */
const BATCH = 64;
const GATHER_MS = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Session {
  readonly counters: SessionCounters = { committed: 0, intermediate: 0, rejected: 0, unsuccessful: 0 };
  /** Records the meter said it holds (RACP number of stored records) on this connection. */
  reportedRecords: number | undefined;
  /** Battery Level read on this connection (Battery Service 0x180F), percent. */
  batteryPercent: number | undefined;
  private readonly chars = new Map<string, Characteristic>();
  private readonly listening: Array<[Characteristic, (data: Buffer, isNotification: boolean) => void]> = [];
  private times: SessionTimes = {};
  private linkEnded = false;
  private readonly lost: Promise<never>;
  private markLost!: (e: MedgwError) => void;
  private lastFrameAt = performance.now();
  /** Final readings received and not yet handed to the pipeline, in arrival order. */
  private ready: Measurement[] = [];
  /** A glucose record whose context (0x2A34) was announced and has not arrived yet. */
  private pendingGlucose: Measurement | undefined;
  private commits: Promise<void> = Promise.resolve();
  private commitQueued = false;
  private gather: NodeJS.Timeout | undefined;
  private failure: MedgwError | undefined;
  /** Highest RACP sequence number committed (the cursor); undefined on a pairing session until the first. */
  private cursor: number | undefined;
  private racpAnswer: ((f: ReturnType<typeof decodeRacp>) => void) | undefined;
  private ucpAnswer: ((f: UserControlPointFields) => void) | undefined;
  private readonly onDisconnect = () => this.linkEnd();

  constructor(private readonly ctx: SessionContext) {
    this.lost = new Promise<never>((_, reject) => {
      this.markLost = reject;
    });
    this.lost.catch(() => undefined);
  }

  get connected(): boolean {
    return !this.linkEnded;
  }

  /** Why the pipeline refused readings on this link, if it did (journal full, gateway stopping). */
  get refusal(): MedgwError | undefined {
    return this.failure;
  }

  /** `synced` when the gateway set the device clock, `corrected` when it could only read it. */
  get clockHandling(): 'synced' | 'corrected' | 'untrusted' {
    if (this.times.after) return 'synced';
    return this.times.before ? 'corrected' : 'untrusted';
  }

  get measurementProfile(): DeviceProfile {
    const p = this.ctx.definition.profiles[0];
    if (!p) {
      throw new MedgwError('MEDGW_ERR_BLE_PROFILE', `driver ${this.ctx.definition.id} lists no profile`);
    }
    return p;
  }

  /** Runs the connection procedure up to `synced`; throws a MedgwError with the failing step's code. */
  async run(): Promise<void> {
    const { ctx } = this;
    const p = ctx.peripheral;
    p.on('disconnect', this.onDisconnect);
    ctx.setState('connecting');
    await this.step(p.connectAsync(), 'connect', ctx.timing.connectTimeoutMs);
    ctx.setState('bonding');
    if (ctx.pairing) await this.bond();
    ctx.setState('discovering');
    await this.discover();
    await this.readIdentity();
    await this.readTime();
    await this.readBattery();
    ctx.setState('subscribing');
    await this.subscribe();
    ctx.setState('syncing');
    const method = this.measurementProfile.collect;
    if (method === 'racp') await this.collectRacp();
    else if (method === 'push') await this.collectPushed();
    await this.drain();
  }

  /** Ends the connection (the gateway's side); resolves once the link is down or after a timeout. */
  async release(): Promise<void> {
    if (this.linkEnded) return;
    try {
      await this.step(this.ctx.peripheral.disconnectAsync(), 'disconnect');
    } catch {
      // The link may already be gone; `disconnect` or the timeout ends the session either way.
    }
    this.linkEnd();
  }

  /** Waits until every reading received so far is committed. */
  async drain(): Promise<void> {
    for (;;) {
      this.kick(true);
      const pending = this.commits;
      await pending;
      if (pending === this.commits && this.ready.length === 0) break;
    }
    if (this.failure) throw this.failure;
  }

  // ---------------------------------------------------------------- link and steps
  private linkEnd(): void {
    if (this.linkEnded) return;
    this.linkEnded = true;
    this.ctx.peripheral.removeListener('disconnect', this.onDisconnect);
    for (const [c, fn] of this.listening) c.removeListener('data', fn);
    this.listening.length = 0;
    this.markLost(new MedgwError('MEDGW_ERR_BLE_LINK_LOST', `the link to ${this.ctx.deviceId} ended`));
    // A glucose record still waiting for its context is not complete: the cursor does not cover it,
    // so it is fetched again next time. Complete readings already received are committed.
    this.pendingGlucose = undefined;
    this.kick(true);
    this.ctx.onLinkEnd();
  }

  /** A GATT step raced against link loss and a timeout; noble errors become coded errors. */
  private async step<T>(op: Promise<T>, what: string, ms = this.ctx.timing.gattTimeoutMs): Promise<T> {
    if (this.linkEnded && what !== 'disconnect') {
      throw new MedgwError('MEDGW_ERR_BLE_LINK_LOST', `${what}: the link to ${this.ctx.deviceId} is down`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new MedgwError('MEDGW_ERR_BLE_TIMEOUT', `${what} got no answer within ${ms} ms`)),
        ms,
      );
    });
    try {
      return await Promise.race([op, this.lost, timeout]);
    } catch (e) {
      // The answer to a request may overtake the disconnect event of the same link loss.
      if (this.linkEnded || (isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_NOT_CONNECTED')) {
        throw new MedgwError('MEDGW_ERR_BLE_LINK_LOST', `${what}: the link to ${this.ctx.deviceId} was lost`);
      }
      if (isMedgwError(e)) throw e;
      throw new MedgwError('MEDGW_ERR_BLE_ATT', `${what} failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(code: ErrorCode, message: string): never {
    throw new MedgwError(code, message);
  }

  // ---------------------------------------------------------------- procedure steps
  private async bond(): Promise<void> {
    try {
      await this.step(this.ctx.peripheral.pairAsync(), 'pairing');
    } catch (e) {
      const msg = (e as Error).message;
      // BlueZ and the HCI stack bond on the first access to an encrypted attribute instead (GLS 1.0.1
      // requires bonding; the meter's security request starts it): nothing to do here.
      if (/not supported/i.test(msg)) {
        this.ctx.log.debug('pairing is left to the Bluetooth stack (bond on first encrypted access)');
        return;
      }
      if (isMedgwError(e) && e.code !== 'MEDGW_ERR_BLE_ATT') throw e;
      this.fail('MEDGW_ERR_BLE_BONDING', `pairing with ${this.ctx.deviceId} failed: ${msg}`);
    }
  }

  private async discover(): Promise<void> {
    const { services } = await this.step(
      this.ctx.peripheral.discoverAllServicesAndCharacteristicsAsync(),
      'service discovery',
    );
    for (const s of services) {
      for (const c of s.characteristics ?? []) this.chars.set(`${short(s.uuid)}/${short(c.uuid)}`, c);
    }
    const profile = this.measurementProfile;
    if (!services.some((s) => short(s.uuid) === profile.service)) {
      this.fail(
        'MEDGW_ERR_BLE_PROFILE',
        `${this.ctx.deviceId} has no ${profile.name} service 0x${profile.service}`,
      );
    }
    const all = [...profile.notify, ...profile.indicate, ...profile.readOnce, ...profile.write];
    for (const ch of all) {
      if (ch.required && !this.char(profile.service, ch.uuid)) {
        this.fail(
          'MEDGW_ERR_BLE_PROFILE',
          `${this.ctx.deviceId} lacks ${ch.name} 0x${ch.uuid}, mandatory in ${profile.name} (${profile.spec})`,
        );
      }
    }
  }

  private char(service: string, uuid: string): Characteristic | undefined {
    return this.chars.get(`${service}/${uuid}`);
  }

  private async read(service: string, uuid: string): Promise<Buffer | undefined> {
    const c = this.char(service, uuid);
    if (!c?.properties.includes('read')) return undefined;
    return this.step(c.readAsync(), `read 0x${uuid}`);
  }

  /**
   * Device Information (DIS v1.1, and UDI from DIS v1.2) → the registry identity. The System ID becomes
   * the canonical EUI-64 (drivers/codecs/system-id.ts); the system id keys the reading ids.
   */
  private async readIdentity(): Promise<void> {
    const text = async (uuid: string) => {
      const b = await this.read('180A', uuid);
      const s = b?.toString('utf8').replace(/\0+$/, '').trim();
      return s ? s : undefined;
    };
    const found: DeviceIdentity = {
      address: this.ctx.peripheral.address || this.ctx.deviceId,
      ...opt('manufacturer', await text('2A29')),
      ...opt('model', await text('2A24')),
      ...opt('serial', await text('2A25')),
      ...opt('firmware', await text('2A26')),
      ...opt('hardware', await text('2A27')),
      ...opt('software', await text('2A28')),
      ...opt(
        'systemId',
        this.decodeIdentity('2A23', await this.read('180A', '2A23'), (b) =>
          decodeSystemId(b, new Set(this.ctx.definition.quirks)),
        )?.eui64,
      ),
      ...optUdi(this.decodeIdentity('2BFF', await this.read('180A', '2BFF'), decodeUdi)),
    };
    const device = this.ctx.registry.getDevice(this.ctx.deviceId);
    if (!device) {
      this.fail(
        'MEDGW_ERR_REGISTRY_UNKNOWN',
        `device ${this.ctx.deviceId} left the registry while connected`,
      );
    }
    const identity = { ...device.identity, ...found };
    if (JSON.stringify(identity) !== JSON.stringify(device.identity ?? {})) {
      await this.ctx.registry.putDevice({ ...device, identity });
    }
  }

  /** A Device Information value the device sent malformed is left out (logged with its code, never its value). */
  private decodeIdentity<T>(
    uuid: string,
    bytes: Buffer | undefined,
    decode: (b: Uint8Array) => T,
  ): T | undefined {
    if (!bytes || bytes.length === 0) return undefined;
    try {
      return decode(bytes);
    } catch (e) {
      if (!isMedgwError(e)) throw e;
      this.ctx.log.warn(
        { code: e.code },
        `the device sent a Device Information 0x${uuid} the gateway cannot use: left out`,
      );
      return undefined;
    }
  }

  /**
   * Battery Level 0x2A19 of the Battery Service 0x180F when the device has it (BAS 1.0 §3.1: uint8,
   * percent, 101-255 reserved). A missing service, a refused read or a reserved value leaves it unknown.
   */
  private async readBattery(): Promise<void> {
    let b: Buffer | undefined;
    try {
      b = await this.read('180F', '2A19');
    } catch (e) {
      if (isMedgwError(e) && e.code !== 'MEDGW_ERR_BLE_ATT') throw e;
      this.ctx.log.info({ code: 'MEDGW_ERR_BLE_ATT' }, 'the device refused the Battery Level read');
      return;
    }
    if (!b || b.length < 1) return;
    const percent = b.readUInt8(0);
    if (percent > 100) {
      this.ctx.log.warn('the device sent a reserved Battery Level value (above 100 %): ignored');
      return;
    }
    this.batteryPercent = percent;
  }

  /**
   * Local Time Information 0x2A0F (CTS v1.1 §3.2, optional): a known DST offset says the device keeps
   * summer time itself, so its stored times are civil times of their date (drivers/normalize/time.ts).
   */
  private async readDstOffset(): Promise<number | undefined> {
    try {
      const b = await this.read('1805', '2A0F');
      return b ? decodeLocalTimeInformation(b).dstOffsetMinutes : undefined;
    } catch (e) {
      if (isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_ATT') return undefined;
      // A link failure (any BLE-area code) ends the session; a malformed value is only ignored.
      if (!isMedgwError(e) || ERROR_CATALOGUE[e.code].area === 'ble') throw e;
      this.ctx.log.warn({ code: e.code }, 'unreadable Local Time Information value: ignored');
      return undefined;
    }
  }

  /** Current Time (CTS v1.1): read beside the gateway clock, write the gateway time, read again. */
  private async readTime(): Promise<void> {
    const dstOffsetMinutes = await this.readDstOffset();
    const keepsSummerTime = dstOffsetMinutes !== undefined ? { dstOffsetMinutes } : {};
    const readNow = async (): Promise<CoincidentTime | undefined> => {
      const b = await this.read('1805', '2A2B');
      if (!b) return undefined;
      const gatewayMs = this.ctx.clock.now();
      try {
        return { device: decodeCurrentTime(b).dateTime, gatewayMs, ...keepsSummerTime };
      } catch (e) {
        this.ctx.log.warn({ code: isMedgwError(e) ? e.code : 'unexpected' }, 'unreadable Current Time value');
        return undefined;
      }
    };
    const before = await readNow();
    this.times = before ? { before } : {};
    const c = this.char('1805', '2A2B');
    if (!c?.properties.includes('write')) {
      this.ctx.log.info(
        'the device clock cannot be set (Current Time is not writable): readings are corrected',
      );
      return;
    }
    try {
      const value = Buffer.from(currentTimeFor(this.ctx.clock.now(), this.ctx.timeZone));
      await this.step(c.writeAsync(value, false), 'write Current Time 0x2A2B');
    } catch (e) {
      if (isMedgwError(e) && e.code !== 'MEDGW_ERR_BLE_ATT') throw e;
      this.ctx.log.warn({ code: 'MEDGW_ERR_BLE_ATT' }, 'the device refused the Current Time write');
      return;
    }
    const after = await readNow();
    if (after) this.times = { ...this.times, after: { ...after, deviceClockSet: true } };
  }

  /** CCCD writes exactly as each profile lists them: 0x0001 notifications, 0x0002 indications. */
  private async subscribe(): Promise<void> {
    for (const profile of this.ctx.definition.profiles) {
      for (const [list, value] of [
        [profile.notify, 0x0001],
        [profile.indicate, 0x0002],
      ] as const) {
        for (const ch of list) {
          const c = this.char(profile.service, ch.uuid);
          if (!c) continue;
          const uuid = ch.uuid;
          const fn = (data: Buffer, isNotification: boolean) => {
            if (isNotification) this.frame(uuid, data);
          };
          c.on('data', fn);
          this.listening.push([c, fn]);
          await this.enable(c, value);
        }
      }
    }
    this.lastFrameAt = performance.now();
  }

  private async enable(c: Characteristic, value: number): Promise<void> {
    const descriptors = await this.step(c.discoverDescriptorsAsync(), `descriptors of 0x${short(c.uuid)}`);
    const cccd = descriptors.find((d) => short(d.uuid) === '2902');
    if (!cccd) {
      // No Client Characteristic Configuration descriptor reported: let the stack pick the bit.
      await this.step(c.subscribeAsync(), `subscribe 0x${short(c.uuid)}`);
      return;
    }
    const v = Buffer.alloc(2);
    v.writeUInt16LE(value);
    await this.step(cccd.writeValueAsync(v), `CCCD of 0x${short(c.uuid)}`);
  }

  // ---------------------------------------------------------------- collection
  private async collectRacp(): Promise<void> {
    const racp = this.char(this.measurementProfile.service, RACP_UUID);
    if (!racp) this.fail('MEDGW_ERR_BLE_PROFILE', `${this.ctx.deviceId} has no RACP 0x2A52`);
    this.reportedRecords = await this.countRecords(racp);
    const stored = this.ctx.journal.cursor(this.ctx.deviceId);
    // A fresh pairing (the meter may have been reset) fetches everything: re-sent records collapse.
    this.cursor = this.ctx.pairing ? undefined : stored;
    const request = this.ctx.pairing
      ? encodeRacpRequest({ op: 'report-stored-records', operator: 'all-records' })
      : racpReportAfter(stored);
    const answer = new Promise<ReturnType<typeof decodeRacp>>((resolve) => {
      this.racpAnswer = resolve;
    });
    await this.step(racp.writeAsync(Buffer.from(request), false), 'RACP request');
    this.lastFrameAt = performance.now();
    const done = await this.idle(answer, this.ctx.timing.racpIdleTimeoutMs, 'the RACP transfer');
    if (done.opCode !== 'response-code') return;
    if (this.pendingGlucose) {
      // The transfer ended without the announced context: the record stands on its own.
      this.ready.push(this.pendingGlucose);
      this.pendingGlucose = undefined;
      this.kick();
    }
    const code = done.responseCodeValue;
    if (code !== 'success' && code !== 'no-records-found') {
      this.fail('MEDGW_ERR_BLE_RACP', `the meter answered the record request with "${code}"`);
    }
  }

  /** "Report number of stored records: all" (GLS RACP), for the completeness ledger; undefined if refused. */
  private async countRecords(racp: Characteristic): Promise<number | undefined> {
    const answer = new Promise<ReturnType<typeof decodeRacp>>((resolve) => {
      this.racpAnswer = resolve;
    });
    const request = encodeRacpRequest({ op: 'report-number-of-stored-records', operator: 'all-records' });
    await this.step(racp.writeAsync(Buffer.from(request), false), 'RACP count request');
    const f = await this.step(answer, 'RACP count response');
    return f.opCode === 'number-of-stored-records-response' ? f.numberOfStoredRecords : undefined;
  }

  private async collectPushed(): Promise<void> {
    await this.quiet();
    const uds = this.ctx.definition.profiles.some((p) => p.id === 'user-data');
    if (uds && this.char('181C', UCP_UUID)) await this.consentUsers();
  }

  /** UDS v1.0: register once (consent code kept sealed), then consent on every connection, user by user. */
  private async consentUsers(): Promise<void> {
    let users = this.ctx.store.udsUsers(this.ctx.deviceId);
    if (users.length === 0) {
      const consentCode = Math.floor(this.ctx.random() * 10_000);
      const answer = await this.ucp(encodeRegisterNewUser(consentCode), 'Register New User');
      if (answer.responseValue !== 'success' || answer.userIndex === undefined) {
        this.fail(
          'MEDGW_ERR_BLE_UDS_CONSENT',
          `the scale refused to register a user (${answer.responseValue})`,
        );
      }
      await this.ctx.store.putUdsUser(this.ctx.deviceId, { index: answer.userIndex, consentCode });
      await this.mapOwner(answer.userIndex);
      this.ctx.log.info({ userIndex: answer.userIndex }, 'registered a User Data Service user on the scale');
      users = this.ctx.store.udsUsers(this.ctx.deviceId);
    }
    for (const user of users) {
      const answer = await this.ucp(encodeConsent(user.index, user.consentCode), 'Consent');
      if (answer.responseValue !== 'success') {
        this.fail(
          'MEDGW_ERR_BLE_UDS_CONSENT',
          `the scale refused the consent of user ${user.index} (${answer.responseValue})`,
        );
      }
      await this.quiet();
    }
  }

  /** The user the gateway registered belongs to the device's owner, when the device has one. */
  private async mapOwner(index: number): Promise<void> {
    const device = this.ctx.registry.getDevice(this.ctx.deviceId);
    if (!device?.patientId || device.users?.[String(index)]) return;
    await this.ctx.registry.putDevice({
      ...device,
      users: { ...device.users, [String(index)]: device.patientId },
    });
  }

  private async ucp(request: Uint8Array, what: string): Promise<UserControlPointFields> {
    const c = this.char('181C', UCP_UUID);
    if (!c) this.fail('MEDGW_ERR_BLE_PROFILE', 'no User Control Point 0x2A9F');
    const answer = new Promise<UserControlPointFields>((resolve) => {
      this.ucpAnswer = resolve;
    });
    await this.step(c.writeAsync(Buffer.from(request), false), `User Control Point ${what}`);
    return this.step(answer, `User Control Point ${what} response`);
  }

  /** Resolves with `answer`, failing after `idleMs` without any frame from the device. */
  private async idle<T>(answer: Promise<T>, idleMs: number, what: string): Promise<T> {
    let settled = false;
    const result = answer.finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([result, this.lost, sleep(Math.min(250, idleMs / 4))]);
      if (!settled && performance.now() - this.lastFrameAt > idleMs) {
        this.fail('MEDGW_ERR_BLE_TIMEOUT', `${what} stalled: nothing received for ${idleMs} ms`);
      }
    }
    return result;
  }

  /** Waits until the device has been silent for `quietMs` and what it sent is committed. */
  private async quiet(): Promise<void> {
    const { quietMs } = this.ctx.timing;
    for (;;) {
      const silentFor = performance.now() - this.lastFrameAt;
      if (silentFor >= quietMs) break;
      await Promise.race([this.lost, sleep(quietMs - silentFor + 1)]);
    }
    await this.drain();
  }

  // ---------------------------------------------------------------- frames
  private frame(uuid: string, data: Buffer): void {
    this.lastFrameAt = performance.now();
    try {
      if (uuid === RACP_UUID) {
        this.onRacp(data);
        return;
      }
      if (uuid === UCP_UUID) {
        this.ucpAnswer?.(userControlPoint.decode(data));
        this.ucpAnswer = undefined;
        return;
      }
      if (uuid === CONTEXT_UUID) {
        this.onContext(data);
        return;
      }
      if (
        !this.measurementProfile.notify.concat(this.measurementProfile.indicate).some((c) => c.uuid === uuid)
      ) {
        return;
      }
      const { measurements = [] } = decodeFrame(uuid, data, this.ctx.definition.id);
      for (const m of measurements) {
        if (!m.final) {
          this.counters.intermediate += 1;
          continue;
        }
        if (isUnsuccessfulWeighing(m)) {
          this.counters.unsuccessful += 1;
          this.ctx.log.info(
            { code: 'MEDGW_ERR_BLE_WEIGHT_UNSUCCESSFUL' },
            'the scale reported an unsuccessful weighing (weight 0xFFFF): no reading to forward; weigh again',
          );
          continue;
        }
        if (uuid === GLUCOSE_UUID) {
          this.completeGlucose();
          if (m.context?.['contextFollows'] === true) {
            this.pendingGlucose = m;
            continue;
          }
        }
        this.ready.push(m);
      }
      this.kick();
    } catch (e) {
      this.reject(uuid, e);
    }
  }

  private completeGlucose(): void {
    if (!this.pendingGlucose) return;
    this.ready.push(this.pendingGlucose);
    this.pendingGlucose = undefined;
  }

  private onContext(data: Buffer): void {
    const context = decodeGlucoseContext(data);
    const pending = this.pendingGlucose;
    if (pending && pending.sequence === context.sequenceNumber) {
      this.pendingGlucose = undefined;
      this.ready.push(mergeGlucoseContext(pending, context));
      this.kick();
      return;
    }
    // GLS: a context belongs to the measurement just before it; any other one is refused with its code.
    this.completeGlucose();
    if (pending) this.kick();
    throw new MedgwError(
      'MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH',
      `Glucose Measurement Context #${context.sequenceNumber} follows no measurement of that sequence number`,
    );
  }

  private onRacp(data: Buffer): void {
    const fields = decodeRacp(data);
    const answer = fields.opCode === 'response-code' || fields.opCode === 'number-of-stored-records-response';
    if (answer && this.racpAnswer) {
      this.racpAnswer(fields);
      this.racpAnswer = undefined;
    }
  }

  private reject(uuid: string, e: unknown): void {
    const code = isMedgwError(e) ? e.code : 'MEDGW_ERR_BLE_ATT';
    const message = `0x${uuid}: ${(e as Error).message}`;
    this.counters.rejected += 1;
    this.ctx.log.warn({ code, characteristic: uuid }, 'frame rejected');
    this.ctx.sink.recordRejection?.({ deviceId: this.ctx.deviceId, transport: 'ble', code, message });
  }

  // ---------------------------------------------------------------- commits
  /** Queues one commit of everything ready (commits run one after another, in arrival order). */
  private kick(now = false): void {
    if (this.ready.length === 0 || this.failure) return;
    if (!now && this.ready.length < BATCH) {
      // Readings arriving close together share one commit (one fsync) instead of one each.
      this.gather ??= setTimeout(() => {
        this.gather = undefined;
        this.kick(true);
      }, GATHER_MS);
      return;
    }
    clearTimeout(this.gather);
    this.gather = undefined;
    if (this.commitQueued) return;
    this.commitQueued = true;
    this.commits = this.commits.then(async () => {
      this.commitQueued = false;
      const batch = this.ready.splice(0);
      if (batch.length > 0 && !this.failure) await this.commit(batch);
    });
  }

  private async commit(batch: Measurement[]): Promise<void> {
    const racp = this.measurementProfile.collect === 'racp';
    const nowMs = this.ctx.clock.now();
    // Consecutive readings that share a coincident timestamp go in one submission.
    const groups: Array<{ coincident: CoincidentTime | undefined; items: Measurement[] }> = [];
    for (const m of batch) {
      const coincident = coincidentFor(m, this.times, nowMs);
      const last = groups.at(-1);
      if (last && last.coincident === coincident) last.items.push(m);
      else groups.push({ coincident, items: [m] });
    }
    for (const g of groups) {
      let cursor: number | undefined;
      if (racp) {
        const seqs = g.items.map((m) => m.sequence).filter((s): s is number => s !== undefined);
        if (seqs.length > 0) cursor = Math.max(this.cursor ?? Number.NEGATIVE_INFINITY, ...seqs);
      }
      try {
        const result = await this.ctx.sink.submit({
          deviceId: this.ctx.deviceId,
          transport: 'ble',
          measurements: g.items,
          ...(g.coincident ? { coincident: g.coincident } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        if (result.status === 'rejected') {
          this.refused(
            new MedgwError(
              (result.code as ErrorCode | undefined) ?? 'MEDGW_ERR_BLE_ATT',
              result.message ?? 'the pipeline refused the readings',
            ),
            g.items.length,
          );
          return;
        }
      } catch (e) {
        this.refused(
          isMedgwError(e)
            ? e
            : new MedgwError('MEDGW_ERR_BLE_ATT', `committing readings failed: ${(e as Error).message}`),
          g.items.length,
        );
        return;
      }
      if (cursor !== undefined) this.cursor = cursor;
      this.counters.committed += g.items.length;
    }
  }

  /**
   * The pipeline refused readings (journal full, gateway stopping): nothing more is taken from the
   * device on this link — it is released, so readings not yet sent stay on the device, and records
   * after the cursor are fetched again at the next connection.
   */
  private refused(e: MedgwError, count: number): void {
    this.failure = e;
    this.ctx.log.error(
      { code: e.code, readings: count },
      'readings refused by the pipeline; releasing the link',
    );
    if (!this.linkEnded) void this.release();
  }
}

function opt<K extends string>(key: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: string };
}

function optUdi(udi: DeviceUdi | undefined): { udi?: DeviceUdi } {
  return udi && Object.keys(udi).length > 0 ? { udi } : {};
}
