/**
 * One connection to one BLE device: a short orchestrator that runs the steps its driver definition
 * lists (drivers/definitions/steps.ts) with the definition's hooks. The parts live beside it:
 * - the link (link.ts): GATT operations with timeouts, GATT spacing, CCCD writes, link-loss detection;
 * - the collectors (collectors/): RACP stored records, pushed measurements, UDS user consent;
 * - identity and time (identity.ts): DIS, BAS, CTS;
 * - the records of the connection (records.ts): decode without normalization, device rules, commits.
 * The state feed follows the procedure: connecting → bonding → discovering → subscribing → syncing.
 */
import type { Peripheral } from '@stoprocent/noble';
import { dateTimeAt } from '../../drivers/datetime.ts';
import { quirksOf } from '../../drivers/definitions/decode.ts';
import type { DriverDefinition } from '../../drivers/definitions/index.ts';
import { COLLECT_STEPS, type Step } from '../../drivers/definitions/steps.ts';
import type { DeviceProfile } from '../../drivers/profiles/index.ts';
import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { Clock, Journal, ReadingSink, Registry } from '../contracts.ts';
import type { Logger } from '../log.ts';
import type { Bonding } from './bluez/pairing.ts';
import { collectPushed, pushedEverything } from './collectors/push.ts';
import { collectStored } from './collectors/racp.ts';
import { collectByCounter } from './collectors/record-counter.ts';
import type { CollectorContext } from './collectors/types.ts';
import { collectWithConsent } from './collectors/uds-consent.ts';
import { type IdentityContext, readBattery, readClock, readIdentity } from './identity.ts';
import { Link } from './link.ts';
import { Records, type SessionCounters } from './records.ts';
import type { BleState } from './states.ts';
import type { BleStore } from './store.ts';
import { type SessionTimes, zoneOffsetMinutes } from './time.ts';

export { short } from './link.ts';
export type { SessionCounters } from './records.ts';

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
  /**
   * The Bluetooth stack's bonding (BlueZ over D-Bus: gateway/ble/bluez): bonds on the `bond` step and
   * explains a failure its answers account for (bond lost, not bonded). Without it noble's pairAsync.
   */
  readonly bonding?: Bonding;
}

/** The states a connection passes through, in order (states.ts NEXT). */
const PROCEDURE: readonly BleState[] = ['connecting', 'bonding', 'discovering', 'subscribing', 'syncing'];

/** The state each step belongs to (a step runs once the session is at least in that state). */
const STATE_OF: Partial<Record<Step['kind'], BleState>> = {
  bond: 'bonding',
  discover: 'discovering',
  subscribe: 'subscribing',
  'collect-stored': 'syncing',
  'collect-counter': 'syncing',
  'collect-pushed': 'syncing',
  'uds-consent': 'syncing',
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Session {
  /** Records the meter said it holds (RACP number of stored records) on this connection. */
  reportedRecords: number | undefined;
  /** Battery Level read on this connection (Battery Service 0x180F), percent. */
  batteryPercent: number | undefined;
  readonly link: Link;
  private readonly records: Records;
  private times: SessionTimes = {};
  private stage = -1;
  private collecting = false;
  /** Index in the definition's steps of the step running. */
  private stepIndex = -1;
  /** Collect steps that have everything they asked for (collectors call `complete`). */
  private readonly completed = new Set<Step['kind']>();

  constructor(private readonly ctx: SessionContext) {
    this.link = new Link({
      deviceId: ctx.deviceId,
      peripheral: ctx.peripheral,
      log: ctx.log,
      timing: ctx.timing,
      ...(ctx.definition.link?.gattSpacingMs !== undefined
        ? { gattSpacingMs: ctx.definition.link.gattSpacingMs }
        : {}),
      onFrame: (uuid, data) => this.records.frame(uuid, data),
      onEnd: () => {
        this.records.linkEnded();
        ctx.onLinkEnd();
      },
      quiet: () => this.quiet(),
      localTime: () => {
        const now = ctx.clock.now();
        return dateTimeAt(now, zoneOffsetMinutes(ctx.timeZone, now));
      },
      clockSet: (device) => {
        this.times = { ...this.times, after: { device, gatewayMs: ctx.clock.now(), deviceClockSet: true } };
      },
      clockRead: (device) => {
        this.times = { ...this.times, before: { device, gatewayMs: ctx.clock.now() } };
      },
    });
    this.records = new Records({
      deviceId: ctx.deviceId,
      definition: ctx.definition,
      sink: ctx.sink,
      clock: ctx.clock,
      log: ctx.log,
      times: () => this.times,
      onRefusal: () => {
        if (this.link.connected) void this.link.release();
      },
    });
  }

  get counters(): SessionCounters {
    return this.records.counters;
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** Why the pipeline refused readings on this link, if it did (journal full, gateway stopping). */
  get refusal(): MedgwError | undefined {
    return this.records.refusal;
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

  /** Runs the definition's procedure up to `synced`; throws a MedgwError with the failing step's code. */
  async run(): Promise<void> {
    const { definition } = this.ctx;
    try {
      this.enter('connecting');
      await this.link.connect();
      await definition.hooks?.afterConnect?.(this.link);
      for (const [index, step] of definition.steps.entries()) {
        this.stepIndex = index;
        await this.runStep(step);
      }
      this.stepIndex = definition.steps.length;
      this.enter('syncing');
      await this.records.drain();
    } catch (e) {
      if (this.endedComplete(e)) {
        this.enter('syncing');
        await this.records.drain();
        this.ctx.log.info(
          { committed: this.records.counters.committed },
          'the device ended the connection once the gateway had everything it asked for',
        );
        return;
      }
      const explained = await this.ctx.bonding?.explain(this.ctx.deviceId, e).catch(() => undefined);
      throw explained ?? e;
    }
  }

  /** Ends the connection (the gateway's side); resolves once the link is down or after a timeout. */
  release(): Promise<void> {
    return this.link.release();
  }

  /** Waits until every reading received so far is committed. */
  drain(): Promise<void> {
    return this.records.drain();
  }

  private async runStep(step: Step): Promise<void> {
    const state = STATE_OF[step.kind];
    if (state) this.enter(state);
    if (COLLECT_STEPS.has(step.kind) && !this.collecting) {
      this.collecting = true;
      await this.ctx.definition.hooks?.beforeCollect?.(this.link);
      const session = await this.measurementProfile.beforeCollect?.(this.link);
      if (session) {
        this.records.session = session;
        if (session.facts)
          this.ctx.log.info(session.facts, `${this.measurementProfile.name}: collection set up`);
      }
    }
    switch (step.kind) {
      case 'bond':
        if (!this.ctx.pairing) return;
        // A person may have to type or confirm a code: no GATT timeout, only the link's loss.
        if (this.ctx.bonding) {
          const legacyOnly = this.ctx.definition.pairing === 'legacy';
          await Promise.race([this.ctx.bonding.bond(this.ctx.deviceId, { legacyOnly }), this.link.lost]);
        } else await this.link.bond();
        return;
      case 'discover':
        await this.link.discover(step.only);
        this.checkProfile();
        return;
      case 'identity':
        return readIdentity(this.identityContext());
      case 'clock':
        this.times = await readClock(this.identityContext());
        return;
      case 'battery':
        this.batteryPercent = await readBattery(this.identityContext());
        return;
      case 'subscribe':
        return this.subscribe();
      case 'collect-stored':
        this.reportedRecords = await collectStored(this.collectorContext(step.kind));
        return;
      case 'collect-counter':
        this.reportedRecords = await collectByCounter(this.collectorContext(step.kind), step.protocol);
        return;
      case 'collect-pushed':
        return collectPushed(this.collectorContext(step.kind));
      case 'uds-consent':
        return collectWithConsent(this.collectorContext(step.kind));
      case 'run':
        this.ctx.log.debug({ step: step.name }, 'model step');
        return step.run(this.link);
    }
  }

  /**
   * A link that ends after the collection has everything it asked for is a completed sync, not a
   * failure, whichever step saw it end: over BlueZ the reply to the step in progress, the device's last
   * value and its disconnect can reach the gateway together, and the step then sees the link down
   * although nothing is missing. It holds when every step from the one that failed on is either a
   * subscription (the device already sent what it was subscribed for) or a collect step with everything:
   * - collect-pushed: at least one measurement received (collectors/push.ts `pushedEverything`);
   * - collect-stored: the final RACP response, "success" or "no records found" (collectors/racp.ts);
   * - collect-counter: the meter's record counter reached (collectors/record-counter.ts);
   * - uds-consent: never — each user's consent releases readings the scale does not count, and only
   *   the quiet period after them tells the scale is done: a link lost before is a failure, retried.
   * Any other step left (identity, clock, battery, a model's own) means the procedure did not run out.
   */
  private endedComplete(e: unknown): boolean {
    if (!isMedgwError(e) || e.code !== 'MEDGW_ERR_BLE_LINK_LOST' || this.link.connected) return false;
    if (this.records.refusal) return false;
    const rest = this.ctx.definition.steps.slice(Math.max(0, this.stepIndex));
    if (this.stepIndex < 0 || !rest.some((s) => COLLECT_STEPS.has(s.kind))) return false;
    return rest.every((s) => {
      switch (s.kind) {
        case 'subscribe':
          return true;
        case 'collect-pushed':
          return pushedEverything(this.records);
        case 'collect-stored':
        case 'collect-counter':
          return this.completed.has(s.kind);
        default:
          return false;
      }
    });
  }

  /** Moves the state feed forward to `state`, through every state in between (never backwards). */
  private enter(state: BleState): void {
    const target = PROCEDURE.indexOf(state);
    while (this.stage < target) {
      this.stage += 1;
      this.ctx.setState(PROCEDURE[this.stage]!);
    }
  }

  /** The measurement profile's service and its mandatory characteristics must have been discovered. */
  private checkProfile(): void {
    const profile = this.measurementProfile;
    if (!this.link.hasService(profile.service)) {
      throw new MedgwError(
        'MEDGW_ERR_BLE_PROFILE',
        `${this.ctx.deviceId} has no ${profile.name} service 0x${profile.service}`,
      );
    }
    for (const ch of [...profile.notify, ...profile.indicate, ...profile.readOnce, ...profile.write]) {
      if (ch.required && !this.link.has(profile.service, ch.uuid)) {
        throw new MedgwError(
          'MEDGW_ERR_BLE_PROFILE',
          `${this.ctx.deviceId} lacks ${ch.name} 0x${ch.uuid}, mandatory in ${profile.name} (${profile.spec})`,
        );
      }
    }
  }

  /** CCCD writes exactly as each profile lists them: 0x0001 notifications, 0x0002 indications. */
  private async subscribe(): Promise<void> {
    for (const profile of this.ctx.definition.profiles) {
      for (const ch of profile.notify) await this.link.subscribe(profile.service, ch.uuid, 0x0001);
      for (const ch of profile.indicate) await this.link.subscribe(profile.service, ch.uuid, 0x0002);
    }
    this.link.lastFrameAt = performance.now();
  }

  /** Waits until the device has been silent for `quietMs` and what it sent is committed. */
  private async quiet(): Promise<void> {
    const { quietMs } = this.ctx.timing;
    for (;;) {
      const silentFor = performance.now() - this.link.lastFrameAt;
      if (silentFor >= quietMs) break;
      await Promise.race([this.link.lost, sleep(quietMs - silentFor + 1)]);
    }
    await this.records.drain();
  }

  private identityContext(): IdentityContext {
    const { ctx } = this;
    return {
      link: this.link,
      deviceId: ctx.deviceId,
      address: ctx.peripheral.address,
      quirks: quirksOf(ctx.definition),
      registry: ctx.registry,
      clock: ctx.clock,
      log: ctx.log,
      timeZone: ctx.timeZone,
    };
  }

  private collectorContext(kind: Step['kind']): CollectorContext {
    const { ctx } = this;
    return {
      deviceId: ctx.deviceId,
      definition: ctx.definition,
      link: this.link,
      records: this.records,
      pairing: ctx.pairing,
      journal: ctx.journal,
      registry: ctx.registry,
      store: ctx.store,
      log: ctx.log,
      random: ctx.random,
      racpIdleTimeoutMs: ctx.timing.racpIdleTimeoutMs,
      quiet: () => this.quiet(),
      complete: () => {
        this.completed.add(kind);
      },
    };
  }
}
