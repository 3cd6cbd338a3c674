/**
 * The gateway's org.bluez.Agent1, exported with dbus-next. BlueZ calls it while a pairing the gateway
 * started needs the person (org.bluez.Agent(5), doc/org.bluez.Agent.rst):
 * - RequestPasskey(device) → uint32: the meter displays 6 digits, the person types them;
 * - RequestConfirmation(device, passkey): both sides show a number, the person confirms they match;
 * - DisplayPasskey(device, passkey, entered): the person types on the device the code shown here;
 * - RequestPinCode / DisplayPinCode: legacy BR/EDR PIN (asked like a passkey);
 * - RequestAuthorization / AuthorizeService: only for pairings the gateway started, so accepted;
 * - Cancel: BlueZ gave up the request; Release: BlueZ dropped the agent.
 * A refusal is org.bluez.Error.Rejected, an abandoned prompt org.bluez.Error.Canceled.
 * Capability KeyboardDisplay: the box has a screen (the web page) and a keyboard (the page's field),
 * so every LE pairing method the devices offer is possible (Core Spec Vol 3 Part H §2.3.5.1, Table 2.8).
 */
import { createRequire } from 'node:module';
import type DBus from 'dbus-next';
import type { PairingPrompts } from './prompts.ts';

const require = createRequire(import.meta.url);
const dbus = require('dbus-next') as typeof DBus;

export const AGENT_PATH = '/org/medgw/agent';
export const AGENT_CAPABILITY = 'KeyboardDisplay';

/** `/org/bluez/hci0/dev_C0_26_DA_00_00_01` → `C0:26:DA:00:00:01`. */
export function deviceIdOf(path: string): string {
  const m = /dev_([0-9A-Fa-f_]{17})$/.exec(path);
  return m ? m[1]!.replaceAll('_', ':').toUpperCase() : path;
}

const rejected = (why: string) => new dbus.DBusError('org.bluez.Error.Rejected', why);
const canceled = (why: string) => new dbus.DBusError('org.bluez.Error.Canceled', why);

export class PairingAgent extends dbus.interface.Interface {
  /** Set when BlueZ released the agent (it must be registered again). */
  released = false;

  constructor(private readonly prompts: PairingPrompts) {
    super('org.bluez.Agent1');
  }

  Release() {
    this.released = true;
    this.prompts.cancel();
  }

  async RequestPinCode(device: string) {
    const a = await this.prompts.ask(deviceIdOf(device), 'pin');
    if (!a) throw canceled('no PIN code typed in time');
    if ('pin' in a) return a.pin;
    if ('passkey' in a) return String(a.passkey).padStart(6, '0');
    throw rejected('pairing refused');
  }

  DisplayPinCode(device: string, pin: string) {
    this.prompts.show(deviceIdOf(device), Number(pin));
  }

  async RequestPasskey(device: string) {
    const a = await this.prompts.ask(deviceIdOf(device), 'passkey');
    if (!a) throw canceled('no passkey typed in time');
    if ('passkey' in a) return a.passkey;
    if ('pin' in a && /^[0-9]{1,6}$/.test(a.pin)) return Number(a.pin);
    throw rejected('pairing refused');
  }

  DisplayPasskey(device: string, passkey: number, _entered: number) {
    this.prompts.show(deviceIdOf(device), passkey);
  }

  async RequestConfirmation(device: string, passkey: number) {
    const a = await this.prompts.ask(deviceIdOf(device), 'confirm', passkey);
    if (!a) throw canceled('the number was not confirmed in time');
    if (!('confirm' in a) || !a.confirm) throw rejected('the numbers do not match');
  }

  RequestAuthorization(_device: string) {}

  AuthorizeService(_device: string, _uuid: string) {}

  Cancel() {
    this.prompts.cancel();
  }
}
PairingAgent.configureMembers({
  methods: {
    Release: { inSignature: '', outSignature: '' },
    RequestPinCode: { inSignature: 'o', outSignature: 's' },
    DisplayPinCode: { inSignature: 'os', outSignature: '' },
    RequestPasskey: { inSignature: 'o', outSignature: 'u' },
    DisplayPasskey: { inSignature: 'ouq', outSignature: '' },
    RequestConfirmation: { inSignature: 'ou', outSignature: '' },
    RequestAuthorization: { inSignature: 'o', outSignature: '' },
    AuthorizeService: { inSignature: 'os', outSignature: '' },
    Cancel: { inSignature: '', outSignature: '' },
  },
});
