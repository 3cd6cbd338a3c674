/**
 * Bonding through BlueZ over D-Bus (`ble.mode: dbus`): the gateway registers its pairing agent
 * (agent.ts, KeyboardDisplay) as the default agent, bonds a device on its first connection after
 * `pair` with org.bluez.Device1.Pair() then Trusted = true (org.bluez.Device(5)), and turns BlueZ's
 * answers into coded errors a person can act on:
 *
 * - AuthenticationFailed after a typed passkey → MEDGW_ERR_BLE_PASSKEY_WRONG;
 * - AuthenticationRejected, or the person said the numbers differ → MEDGW_ERR_BLE_PAIRING_REFUSED;
 * - AuthenticationFailed before the agent was asked anything, for a model known to pair only with LE
 *   legacy pairing → MEDGW_ERR_BLE_LEGACY_PAIRING. BlueZ's answer alone cannot tell this case: an SMP
 *   "Pairing Failed" of any reason (Core v5.3 Vol 3 Part H §3.5.5; here 0x03 Authentication Requirements,
 *   what an adapter in Secure Connections Only mode, main.conf `SecureConnections = only`, answers a
 *   legacy-only device) reaches D-Bus as org.bluez.Error.AuthenticationFailed (org.bluez.Device(5)
 *   Pair() errors), and org.bluez.Adapter1 has no property for the Secure Connections mode (bluetoothd
 *   does not expose it: bluez/bluer#12). What tells it is the model's definition (`pairing: 'legacy'`)
 *   and that no passkey was asked. For any other device the same answer is PAIRING_REFUSED, whose text
 *   names both causes (not in pairing mode; legacy-only under Secure Connections Only);
 * - AuthenticationCanceled / AuthenticationTimeout, or no code typed in time → MEDGW_ERR_BLE_PAIRING_TIMEOUT;
 * - a GATT answer "Not paired" (org.bluez.Error.NotPermitted, BlueZ's form of ATT 0x05/0x0F/0x0C,
 *   src/gatt-client.c create_gatt_dbus_error) while BlueZ holds a bond → MEDGW_ERR_BLE_BOND_LOST (the
 *   device was reset and forgot the gateway), without one → MEDGW_ERR_BLE_NOT_BONDED.
 *
 * Re-bonding after a bond loss is `unbond()` (Adapter1.RemoveDevice: BlueZ forgets the stale key)
 * then pairing again. The session sees only the `Bonding` interface.
 */
import { createRequire } from 'node:module';
import type DBus from 'dbus-next';
import { isMedgwError, MedgwError } from '../../../kernel/errors.ts';
import { type Logger, shortId } from '../../log.ts';
import { AGENT_CAPABILITY, AGENT_PATH, deviceIdOf, PairingAgent } from './agent.ts';
import { PairingPrompts } from './prompts.ts';

const require = createRequire(import.meta.url);
const dbus = require('dbus-next') as typeof DBus;

/** What a BLE session asks of the Bluetooth stack about bonds (narrow on purpose). */
export interface Bonding {
  /**
   * Bonds with a connected device (first connection after `pair`): Pair() then Trusted. `legacyOnly`:
   * the device's model pairs only with LE legacy pairing (its definition's `pairing: 'legacy'`).
   */
  bond(deviceId: string, options?: { readonly legacyOnly?: boolean }): Promise<void>;
  /** A coded bonding error when BlueZ explains a failed GATT step (bond lost, not bonded), else undefined. */
  explain(deviceId: string, error: unknown): Promise<MedgwError | undefined>;
  /** Forgets the bond on the gateway's side, so that the next pairing starts fresh. */
  unbond(deviceId: string): Promise<void>;
}

export interface BluezDeviceState {
  readonly known: boolean;
  readonly paired: boolean;
  readonly bonded: boolean;
  readonly trusted: boolean;
  readonly connected: boolean;
}

export interface BluezPairingOptions {
  readonly log: Logger;
  /** The bus: the system bus by default (dbus-next honours DBUS_SYSTEM_BUS_ADDRESS). */
  readonly busAddress?: string;
  /** How long a prompt waits for the person. Default 30 s (the SMP timeout). */
  readonly promptTimeoutMs?: number;
  readonly now?: () => number;
  /** The adapter BlueZ names (`hci0`). */
  readonly adapter?: string;
}

const BLUEZ = 'org.bluez';

interface AgentManagerProxy {
  RegisterAgent(path: string, capability: string): Promise<void>;
  RequestDefaultAgent(path: string): Promise<void>;
  UnregisterAgent(path: string): Promise<void>;
}
interface DeviceProxy {
  Pair(): Promise<void>;
}
interface PropsProxy {
  GetAll(iface: string): Promise<Record<string, DBus.Variant>>;
  Set(iface: string, name: string, value: DBus.Variant): Promise<void>;
}
interface AdapterProxy {
  RemoveDevice(path: string): Promise<void>;
}
const as = <T>(i: DBus.ClientInterface) => i as unknown as T;
const PROPS = 'org.freedesktop.DBus.Properties';

function errorName(e: unknown): string {
  return (e as { type?: string }).type ?? '';
}

function errorText(e: unknown): string {
  const t = (e as { text?: string }).text;
  return typeof t === 'string' && t ? t : e instanceof Error ? e.message : String(e);
}

/** BlueZ's GATT answer for ATT 0x05 / 0x0F / 0x0C (NotPermitted "Not paired"; NotPaired in BlueZ < 5.49). */
export function isNotPairedAnswer(e: unknown): boolean {
  const text = `${errorName(e)} ${errorText(e)}`;
  return /not ?paired|insufficient (authentication|encryption)|ATT error: 0x0(5|c|f)\b/i.test(text);
}

export class BluezPairing implements Bonding {
  readonly prompts: PairingPrompts;
  private readonly log: Logger;
  private readonly adapterPath: string;
  private bus: DBus.MessageBus | undefined;
  private starting: Promise<void> | undefined;
  /** The last Device1.Disconnected reason of each device (BlueZ 5.79+; absent on older BlueZ). */
  private readonly disconnects = new Map<string, string>();

  constructor(private readonly options: BluezPairingOptions) {
    this.log = options.log.child({ component: 'ble-pairing' });
    this.prompts = new PairingPrompts(options.promptTimeoutMs, options.now);
    this.adapterPath = `/org/bluez/${options.adapter ?? 'hci0'}`;
  }

  /** Registers the agent and makes it the default one; MEDGW_ERR_BLE_AGENT when BlueZ refuses. */
  start(): Promise<void> {
    if (this.bus) return Promise.resolve();
    // one registration at a time: the component's start and a pairing's lazy start may meet
    this.starting ??= this.register().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async register(): Promise<void> {
    const bus = this.options.busAddress
      ? dbus.sessionBus({ busAddress: this.options.busAddress })
      : dbus.systemBus();
    bus.on('error', (e: unknown) =>
      this.log.warn({ err: e }, 'the D-Bus connection of the pairing agent failed'),
    );
    const agent = new PairingAgent(this.prompts);
    bus.export(AGENT_PATH, agent);
    bus.on('message', (msg: DBus.Message) => {
      if (msg.interface === 'org.bluez.Device1' && msg.member === 'Disconnected') {
        this.disconnects.set(deviceIdOf(msg.path), String(msg.body[0]));
      } else if (
        msg.member === 'NameOwnerChanged' &&
        msg.body[0] === BLUEZ &&
        typeof msg.body[2] === 'string' &&
        msg.body[2] !== '' &&
        this.bus === bus
      ) {
        // bluetoothd restarted (an upgrade, a crash): its agents are gone, register again
        void this.enroll(bus).then(
          () => this.log.info('BlueZ restarted: pairing agent registered again'),
          (e: unknown) =>
            this.log.warn(
              { code: 'MEDGW_ERR_BLE_AGENT', err: e },
              'BlueZ restarted and refused the pairing agent',
            ),
        );
      }
    });
    try {
      await this.enroll(bus);
      for (const rule of [
        "type='signal',interface='org.bluez.Device1',member='Disconnected'",
        `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BLUEZ}'`,
      ]) {
        await bus.call(
          new dbus.Message({
            destination: 'org.freedesktop.DBus',
            path: '/org/freedesktop/DBus',
            interface: 'org.freedesktop.DBus',
            member: 'AddMatch',
            signature: 's',
            body: [rule],
          }),
        );
      }
    } catch (e) {
      bus.disconnect();
      throw new MedgwError(
        'MEDGW_ERR_BLE_AGENT',
        `BlueZ refused the pairing agent: ${errorName(e) || 'no answer'} ${errorText(e)}`,
      );
    }
    this.bus = bus;
    this.log.info({ capability: AGENT_CAPABILITY }, 'pairing agent registered with BlueZ');
  }

  /** org.bluez.AgentManager1: RegisterAgent, then RequestDefaultAgent (org.bluez.AgentManager(5)). */
  private async enroll(bus: DBus.MessageBus): Promise<void> {
    const manager = as<AgentManagerProxy>(
      (await bus.getProxyObject(BLUEZ, '/org/bluez')).getInterface('org.bluez.AgentManager1'),
    );
    await manager.RegisterAgent(AGENT_PATH, AGENT_CAPABILITY);
    await manager.RequestDefaultAgent(AGENT_PATH);
  }

  async stop(): Promise<void> {
    const bus = this.bus;
    if (!bus) return;
    this.bus = undefined;
    this.prompts.cancel();
    try {
      const manager = as<AgentManagerProxy>(
        (await bus.getProxyObject(BLUEZ, '/org/bluez')).getInterface('org.bluez.AgentManager1'),
      );
      await manager.UnregisterAgent(AGENT_PATH);
    } catch {
      // BlueZ gone or the agent already released
    }
    bus.disconnect();
  }

  private path(deviceId: string): string {
    return `${this.adapterPath}/dev_${deviceId.toUpperCase().replaceAll(':', '_')}`;
  }

  /** The bus, registering the agent first if it is not (a failed start is retried at the next use). */
  private async connected(): Promise<DBus.MessageBus> {
    if (!this.bus) await this.start();
    return this.bus!;
  }

  private async device(deviceId: string) {
    const obj = await (await this.connected()).getProxyObject(BLUEZ, this.path(deviceId));
    return {
      device: as<DeviceProxy>(obj.getInterface('org.bluez.Device1')),
      props: as<PropsProxy>(obj.getInterface(PROPS)),
    };
  }

  /** What BlueZ holds for the device; `known: false` when it has no such device object. */
  async state(deviceId: string): Promise<BluezDeviceState> {
    try {
      const { props } = await this.device(deviceId);
      const all = await props.GetAll('org.bluez.Device1');
      const flag = (k: string) => all[k]?.value === true;
      return {
        known: true,
        paired: flag('Paired'),
        bonded: flag('Bonded') || flag('Paired'),
        trusted: flag('Trusted'),
        connected: flag('Connected'),
      };
    } catch {
      return { known: false, paired: false, bonded: false, trusted: false, connected: false };
    }
  }

  async bond(deviceId: string, options: { readonly legacyOnly?: boolean } = {}): Promise<void> {
    this.prompts.clear(deviceId);
    this.disconnects.delete(deviceId);
    const { device, props } = await this.device(deviceId).catch((e: unknown) => {
      if (isMedgwError(e)) throw e;
      throw new MedgwError('MEDGW_ERR_BLE_BONDING', `BlueZ does not know ${deviceId}: ${errorText(e)}`);
    });
    try {
      await device.Pair();
      this.log.info({ device: shortId(deviceId) }, 'bonded');
    } catch (e) {
      if (errorName(e) !== 'org.bluez.Error.AlreadyExists')
        throw this.pairingError(deviceId, e, options.legacyOnly === true);
    } finally {
      this.prompts.done(deviceId);
    }
    // Trusted: BlueZ reconnects and re-encrypts without asking the agent again (org.bluez.Device(5)).
    await props.Set('org.bluez.Device1', 'Trusted', new dbus.Variant('b', true));
  }

  /** The coded error for a failed Pair(), using what the person was asked and answered. */
  private pairingError(deviceId: string, e: unknown, legacyOnly: boolean): MedgwError {
    const name = errorName(e);
    const last = this.prompts.last(deviceId);
    const detail = `${deviceId}: ${name.replace('org.bluez.Error.', '') || errorText(e)}`;
    if (last?.outcome === 'expired' || last?.outcome === 'cancelled' || /Canceled|Timeout/.test(name)) {
      if (last?.outcome === 'rejected') {
        return new MedgwError(
          'MEDGW_ERR_BLE_PAIRING_REFUSED',
          `the numbers did not match, pairing refused (${detail})`,
        );
      }
      return new MedgwError(
        'MEDGW_ERR_BLE_PAIRING_TIMEOUT',
        `the pairing was abandoned: no code was ${last?.kind === 'confirm' ? 'confirmed' : 'typed'} in time (${detail})`,
      );
    }
    if (last?.outcome === 'rejected') {
      return new MedgwError(
        'MEDGW_ERR_BLE_PAIRING_REFUSED',
        `the numbers did not match, pairing refused (${detail})`,
      );
    }
    if (
      name === 'org.bluez.Error.AuthenticationFailed' &&
      (last?.kind === 'passkey' || last?.kind === 'display' || last?.kind === 'pin')
    ) {
      return new MedgwError(
        'MEDGW_ERR_BLE_PASSKEY_WRONG',
        `the code ${last.kind === 'display' ? 'typed on the device' : 'typed'} does not match the one ${last.kind === 'display' ? 'shown here' : 'the device shows'} (${detail})`,
      );
    }
    // Nothing asked of the person and an authentication failure: the pairing failed at its first SMP
    // exchange, where an adapter in Secure Connections Only mode refuses a legacy-only device.
    const unasked = name === 'org.bluez.Error.AuthenticationFailed' && last === undefined;
    if (unasked && legacyOnly) {
      return new MedgwError(
        'MEDGW_ERR_BLE_LEGACY_PAIRING',
        `this device only supports legacy pairing, which the adapter refused: set SecureConnections = on in /etc/bluetooth/main.conf (${detail})`,
      );
    }
    if (unasked) {
      return new MedgwError(
        'MEDGW_ERR_BLE_PAIRING_REFUSED',
        `the pairing was refused: is the device in pairing mode? If it only supports legacy pairing, BlueZ may accept Secure Connections only: set SecureConnections = on in /etc/bluetooth/main.conf (${detail})`,
      );
    }
    if (/AuthenticationRejected|AuthenticationFailed/.test(name)) {
      return new MedgwError(
        'MEDGW_ERR_BLE_PAIRING_REFUSED',
        `the device refused the pairing; is it in pairing mode? (${detail})`,
      );
    }
    return new MedgwError('MEDGW_ERR_BLE_BONDING', `pairing with ${detail} failed: ${errorText(e)}`);
  }

  async explain(deviceId: string, error: unknown): Promise<MedgwError | undefined> {
    if (isMedgwError(error) && /BOND_LOST|NOT_BONDED|PASSKEY|PAIRING_|LEGACY_PAIRING/.test(error.code))
      return error;
    // The answer "Not paired", or the link ended for an authentication failure (the device refused
    // our key): the reply and the disconnect race, either may reach the session first. Asking BlueZ
    // for the device's state first also lets its Disconnected signal, sent before, arrive.
    const linkLost = /disconnect|link .*(lost|down|ended)|LINK_LOST/i.test(
      `${isMedgwError(error) ? error.code : ''} ${errorText(error)}`,
    );
    if (!isNotPairedAnswer(error) && !linkLost) return undefined;
    const s = await this.state(deviceId);
    const authDrop = this.disconnects.get(deviceId) === 'org.bluez.Reason.Authentication';
    if (!isNotPairedAnswer(error) && !authDrop) return undefined;
    if (s.paired) {
      return new MedgwError(
        'MEDGW_ERR_BLE_BOND_LOST',
        `${deviceId} no longer knows this gateway (it was reset or its pairings were cleared): pair it again`,
      );
    }
    return new MedgwError(
      'MEDGW_ERR_BLE_NOT_BONDED',
      `${deviceId} answers only once paired with this gateway`,
    );
  }

  async unbond(deviceId: string): Promise<void> {
    const adapter = as<AdapterProxy>(
      (await (await this.connected()).getProxyObject(BLUEZ, this.adapterPath)).getInterface(
        'org.bluez.Adapter1',
      ),
    );
    try {
      await adapter.RemoveDevice(this.path(deviceId));
      // a disconnect reason recorded for the old object says nothing of the next pairing
      this.disconnects.delete(deviceId);
      this.log.info({ device: shortId(deviceId) }, 'old pairing removed from BlueZ');
    } catch (e) {
      if (errorName(e) !== 'org.bluez.Error.DoesNotExist') {
        throw new MedgwError('MEDGW_ERR_BLE_BONDING', `BlueZ could not remove ${deviceId}: ${errorText(e)}`);
      }
    }
  }
}
