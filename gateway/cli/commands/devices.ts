/**
 * `medgw devices list|show|add|remove|assign`: the devices of an instance, running or not; with
 * mqtt.external.dynsec, add/forget/remove also create or delete the device's broker client and role
 * (gateway/mqtt/dynsec.ts): add writes the registry first (it decides between instances adding one id)
 * and then the broker, forget/remove the broker first; either refuses with a coded error when the
 * broker does not confirm, and `add --again` repairs an add interrupted between the two;
 * `medgw devices discovered|pair`: nearby Bluetooth devices, through the running gateway only.
 */
import { MedgwError } from '../../../kernel/errors.ts';
import type { PublicDevice } from '../../admin/ops.ts';
import type { BleDeviceStatus } from '../../ble/central.ts';
import { configFromArgs } from '../../config/load.ts';
import { lockHolder } from '../../datadir.ts';
import { dynsecOptions } from '../../mqtt/dynsec.ts';
import { BleAdminClient } from '../ble-client.ts';
import type { CommandIo } from '../command.ts';
import { PAIR_USAGE, pairDevice } from '../pairing.ts';
import { iso, json, parse, subcommands, table, withOps } from '../support.ts';

const USAGE = {
  list: 'list [--json]',
  show: 'show <device-id> [--json]',
  add: 'add --transport mqtt|ble --id <device-id> [--patient <patient-id>] [--name <label>] [--driver <id>] [--again] [--json]   (--again: a registered MQTT device gets a new secret)',
  remove: 'remove <device-id>',
  assign:
    'assign <device-id> [--patient <patient-id> | --no-patient] [--user <index>=<patient-id>]… [--unassign-user <index>]…',
  discovered: 'discovered [--all] [--json]   (Bluetooth devices nearby; needs the running gateway)',
  pair: `pair <address> ${PAIR_USAGE}`,
};

/** Runs `fn` against the BLE central of the gateway running on the instance named by --data-dir/--config. */
export async function withBle<T>(
  args: string[],
  fn: (ble: BleAdminClient, rest: string[]) => Promise<T>,
): Promise<T> {
  const { config, rest } = configFromArgs(args);
  return fn(await BleAdminClient.forDataDir(config.dataDir), rest);
}

function ago(now: number, at: number | undefined): string | undefined {
  return at === undefined ? undefined : `${Math.max(0, Math.round((now - at) / 1000))}s`;
}

function one(positionals: string[], usage: string): string {
  if (positionals.length !== 1)
    throw new MedgwError('MEDGW_ERR_USAGE', `expected one device id\nusage: medgw devices ${usage}`);
  return positionals[0]!;
}

function users(d: PublicDevice): string | undefined {
  const u = Object.entries(d.users ?? {});
  return u.length ? u.map(([i, p]) => `${i}→${p}`).join(',') : undefined;
}

type Handler = (args: string[], io: CommandIo) => Promise<number>;

/** `devices list`: one line per device. */
const list: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE.list);
    const devices = await ops.listDevices();
    if (values.json) json(io, devices);
    else
      io.stdout.write(
        table(
          ['ID', 'TRANSPORT', 'PATIENT', 'USERS', 'DRIVER', 'CREATED'],
          devices.map((d) => [d.id, d.transport, d.patientId, users(d), d.driver, iso(d.createdAt)]),
        ),
      );
    return 0;
  });

/** `devices show`: everything known of one device, and its readings in the outbox by state. */
const show: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, USAGE.show);
    const d = await ops.getDevice(one(positionals, USAGE.show));
    if (values.json) {
      json(io, d);
      return 0;
    }
    const readings = await ops.outbox({ device: d.id, limit: 10_000 });
    const byState = new Map<string, number>();
    for (const r of readings) byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
    for (const [k, v] of deviceRows(d, byState))
      if (v !== undefined) io.stdout.write(`${`${k}:`.padEnd(24)}${v}\n`);
    return 0;
  });

/** The lines of `devices show`: label and value (undefined: not shown). */
function deviceRows(
  d: PublicDevice,
  byState: ReadonlyMap<string, number>,
): [string, string | number | undefined][] {
  return [
    ['id', d.id],
    ['transport', d.transport],
    ['name', d.name],
    ['driver', d.driver],
    ['patient', d.patientId],
    ['household users', users(d)],
    ['bond', d.bond],
    ['MQTT secret', d.transport === 'mqtt' ? (d.hasSecret ? 'set (hash only)' : 'none') : undefined],
    ['manufacturer', d.identity?.manufacturer],
    ['model', d.identity?.model],
    ['serial', d.identity?.serial],
    ['firmware', d.identity?.firmware],
    ['hardware', d.identity?.hardware],
    ['software', d.identity?.software],
    ['UDI device identifier', d.identity?.udi?.deviceIdentifier],
    ['system id', d.identity?.systemId],
    // Set by the identity migration: the identifier the national side's Device was created with.
    ['known nationally as', d.identity?.knownAs?.value],
    ['address', d.identity?.address],
    ['added', iso(d.createdAt)],
    [
      'readings in the outbox',
      byState.size ? [...byState].map(([state, n]) => `${state} ${n}`).join(', ') : 'none',
    ],
  ];
}

/** `devices add` (and `add --again`): registers a device; an MQTT one gets its secret, shown once. */
const add: Handler = (a, io) => {
  const { config } = configFromArgs(a);
  return withOps(a, async (ops, rest) => {
    const { values, positionals } = parse(
      rest,
      {
        transport: { type: 'string' },
        id: { type: 'string' },
        patient: { type: 'string' },
        name: { type: 'string' },
        driver: { type: 'string' },
        again: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      USAGE.add,
    );
    // --again: a registered MQTT device's secret is issued again (transport mqtt implied)
    if (values.again && values.transport === undefined) values.transport = 'mqtt';
    if (positionals.length || !values.id || (values.transport !== 'mqtt' && values.transport !== 'ble')) {
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `--transport mqtt|ble and --id are required\nusage: medgw devices ${USAGE.add}`,
      );
    }
    const { device, secret } = await ops.addDevice({
      id: values.id,
      transport: values.transport,
      ...(values.patient ? { patientId: values.patient } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values.driver ? { driver: values.driver } : {}),
      ...(values.again ? { again: true } : {}),
    });
    if (values.json) {
      json(io, secret ? { device, secret } : { device });
      return 0;
    }
    io.stdout.write(
      values.again
        ? `new secret for device ${device.id}: the previous one no longer works\n`
        : `added ${device.transport} device ${device.id}${device.patientId ? ` for patient ${device.patientId}` : ''}\n`,
    );
    if (secret) io.stdout.write(secretNotice(device.id, secret, dynsecOptions(config) !== undefined));
    return 0;
  });
};

/** What an operator is told with a new MQTT secret: shown once, how the device signs in. */
function secretNotice(id: string, secret: string, dynsec: boolean): string {
  return (
    `secret: ${secret}\n` +
    'This 256-bit secret is shown once and stored only as its SHA-256: configure the device with it now.\n' +
    `The device connects with client id and user name "${id}" and this secret as password.\n` +
    (dynsec
      ? `The broker checks it: its dynamic-security plugin now has client "${id}" and role medgw-device-${id}.\n`
      : '')
  );
}

/** `devices discovered`: Bluetooth health devices the running gateway sees, strongest signal first. */
const discovered: Handler = (a, io) =>
  withBle(a, async (ble, rest) => {
    const { values, positionals } = parse(
      rest,
      { all: { type: 'boolean' }, json: { type: 'boolean' } },
      USAGE.discovered,
    );
    if (positionals.length)
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `no argument expected\nusage: medgw devices ${USAGE.discovered}`,
      );
    const all = await ble.devices();
    // without --all: the devices waiting to be paired, strongest signal first
    const shown = (values.all ? all : all.filter((d) => !d.paired)).sort(
      (x, y) => (y.rssi ?? -999) - (x.rssi ?? -999),
    );
    if (values.json) {
      json(io, shown);
      return 0;
    }
    if (shown.length === 0) {
      io.stdout.write(
        values.all
          ? 'no Bluetooth health device seen yet: wake a device (take a measurement) near the gateway\n'
          : 'no unpaired Bluetooth health device nearby (`--all` lists the paired ones too)\n',
      );
      return 0;
    }
    io.stdout.write(discoveredTable(shown, Date.now()));
    if (!values.all) io.stdout.write('pair one with: medgw pair <address> [--patient <id>]\n');
    return 0;
  });

function discoveredTable(shown: readonly BleDeviceStatus[], now: number): string {
  return table(
    ['ADDRESS', 'NAME', 'RSSI', 'DRIVER', 'STATE', 'PAIRED', 'SEEN'],
    shown.map((d) => [
      d.deviceId,
      d.localName,
      d.rssi === undefined ? undefined : `${d.rssi} dBm`,
      d.driver === undefined ? undefined : `${d.driver}${d.generic ? ' (generic)' : ''}`,
      d.state,
      d.paired ? 'yes' : 'no',
      ago(now, d.lastSeenAt),
    ]),
  );
}

/** `devices pair`: pairs a nearby Bluetooth device through the running gateway. */
const pair: Handler = (a, io) => withBle(a, (ble, rest) => pairDevice(ble, rest, io, 'devices pair'));

/** `devices forget`: removes a device; the running gateway also drops a Bluetooth one's link and bond. */
const forget: Handler = (a, io) => {
  const { config } = configFromArgs(a);
  return withOps(a, async (ops, rest) => {
    const { positionals } = parse(rest, {}, USAGE.remove);
    const id = one(positionals, USAGE.remove);
    const device = await ops.getDevice(id);
    await ops.removeDevice(id);
    // the running gateway holds the radio: its central drops the link, the bond and the consents
    if (device.transport === 'ble' && lockHolder(config.dataDir)?.role === 'gateway') {
      const ble = await BleAdminClient.forDataDir(config.dataDir);
      await ble.forget(id).catch((e: unknown) => {
        if (!(e instanceof MedgwError && e.code === 'MEDGW_ERR_BLE_OFF')) throw e;
      });
    }
    io.stdout.write(`forgot device ${id}${device.transport === 'ble' ? ' (pair it again to use it)' : ''}\n`);
    return 0;
  });
};

/** `devices remove`: removes a device from the registry. */
const remove: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { positionals } = parse(rest, {}, USAGE.remove);
    const id = one(positionals, USAGE.remove);
    await ops.removeDevice(id);
    io.stdout.write(`removed device ${id}\n`);
    return 0;
  });

/** `devices assign`: the device's patient and its household users' patients. */
const assign: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { values, positionals } = parse(
      rest,
      {
        patient: { type: 'string' },
        'no-patient': { type: 'boolean' },
        user: { type: 'string', multiple: true },
        'unassign-user': { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
      USAGE.assign,
    );
    const id = one(positionals, USAGE.assign);
    const d = await ops.assignDevice(id, assignment(values));
    if (values.json) json(io, d);
    else io.stdout.write(`device ${d.id}: patient ${d.patientId ?? '-'}, users ${users(d) ?? '-'}\n`);
    return 0;
  });

/** The change `devices assign` asks for, from its options; a usage error when it asks for none. */
function assignment(values: {
  patient?: string;
  'no-patient'?: boolean;
  user?: string[];
  'unassign-user'?: string[];
}): { patientId?: string | null; users?: Record<string, string | null> } {
  const change: { patientId?: string | null; users?: Record<string, string | null> } = {};
  if (values.patient && values['no-patient']) {
    throw new MedgwError('MEDGW_ERR_USAGE', '--patient and --no-patient exclude each other');
  }
  if (values.patient) change.patientId = values.patient;
  if (values['no-patient']) change.patientId = null;
  const u: Record<string, string | null> = {};
  for (const spec of values.user ?? []) {
    const m = /^([0-9]{1,3})=(.+)$/.exec(spec);
    if (!m) throw new MedgwError('MEDGW_ERR_USAGE', `--user expects <index>=<patient-id>, got "${spec}"`);
    u[m[1]!] = m[2]!;
  }
  for (const index of values['unassign-user'] ?? []) u[index] = null;
  if (Object.keys(u).length) change.users = u;
  if (change.patientId === undefined && change.users === undefined) {
    throw new MedgwError('MEDGW_ERR_USAGE', `nothing to assign\nusage: medgw devices ${USAGE.assign}`);
  }
  return change;
}

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('devices', args, io, {
    list: { usage: USAGE.list, run: list },
    show: { usage: USAGE.show, run: show },
    add: { usage: USAGE.add, run: add },
    discovered: { usage: USAGE.discovered, run: discovered },
    pair: { usage: USAGE.pair, run: pair },
    forget: {
      usage: 'forget <device-id>   (removes it; a Bluetooth one is also disconnected and its bond dropped)',
      run: forget,
    },
    remove: { usage: USAGE.remove, run: remove },
    assign: { usage: USAGE.assign, run: assign },
  });
}
