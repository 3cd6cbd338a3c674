/**
 * Pairing one Bluetooth device through the running gateway, as `medgw devices pair <address>` and
 * `medgw pair [<address>]` both do: the request, then every state of the pairing state machine as it
 * happens and, while a glucometer transfers its stored records, how many are committed so far.
 * Without an address (`medgw pair`), the nearby unpaired devices are listed and the person chooses
 * one by its number on stdin.
 */
import { createInterface } from 'node:readline';
import { MedgwError } from '../../drivers/errors.ts';
import { iso, json, parse, table } from '../admin/cli.ts';
import type { BleDeviceStatus } from '../ble/central.ts';
import type { BleAdminClient } from '../ble/client.ts';
import type { BleStateChange } from '../ble/states.ts';
import type { CommandIo } from './command.ts';

export const PAIR_USAGE =
  '[--patient <patient-id>] [--name <label>] [--user <index>=<consent-code>]… [--no-wait] [--timeout <seconds>] [--json]';

const OPTIONS = {
  patient: { type: 'string' },
  name: { type: 'string' },
  user: { type: 'string', multiple: true },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** How often the record count is read while a device is syncing. */
const PROGRESS_EVERY_MS = 200;

/** Reads one line from `input`; undefined at end of input. */
function readLine(input: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      resolve(line);
      rl.close();
    });
    rl.once('close', () => {
      if (!answered) resolve(undefined);
    });
  });
}

/** Lists the unpaired devices nearby, numbered, and returns the address the person chose. */
async function choose(ble: BleAdminClient, io: CommandIo): Promise<string> {
  const nearby = (await ble.devices())
    .filter((d) => !d.paired)
    .sort((x, y) => (y.rssi ?? -999) - (x.rssi ?? -999));
  if (nearby.length === 0)
    throw new MedgwError(
      'MEDGW_ERR_BLE_NOT_DISCOVERED',
      'no unpaired Bluetooth health device nearby: wake the device (take a measurement, or hold its pairing button) near the gateway, then run medgw pair again',
    );
  io.stdout.write(
    table(
      ['#', 'ADDRESS', 'NAME', 'RSSI', 'DRIVER'],
      nearby.map((d: BleDeviceStatus, i) => [
        i + 1,
        d.deviceId,
        d.localName,
        d.rssi === undefined ? undefined : `${d.rssi} dBm`,
        d.driver === undefined ? undefined : `${d.driver}${d.generic ? ' (generic)' : ''}`,
      ]),
    ),
  );
  io.stdout.write(`pair which device? [1-${nearby.length}] `);
  const answer = (await readLine(io.stdin))?.trim();
  io.stdout.write('\n');
  const n = Number(answer);
  const chosen = answer && Number.isInteger(n) ? nearby[n - 1] : undefined;
  if (!chosen)
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      answer === undefined
        ? 'no choice was given (end of input): give the address instead, `medgw pair <address>`'
        : `"${answer}" is not one of the numbers 1 to ${nearby.length}: run medgw pair again, or give the address`,
    );
  return chosen.deviceId;
}

/**
 * Runs one pairing. `args` are the options (and the address, unless `interactive` lets the person
 * choose); `command` names the command in usage messages.
 */
export async function pairDevice(
  ble: BleAdminClient,
  args: string[],
  io: CommandIo,
  command: string,
  interactive = false,
): Promise<number> {
  const usage = `${command} ${interactive ? '[<address>]' : '<address>'} ${PAIR_USAGE}`;
  const { values, positionals } = parse(args, OPTIONS, usage);
  if (positionals.length > 1 || (!interactive && positionals.length !== 1))
    throw new MedgwError('MEDGW_ERR_USAGE', `expected one Bluetooth address\nusage: medgw ${usage}`);
  const udsUsers = (values.user ?? []).map((spec) => {
    const m = /^([0-9]{1,3})=([0-9]{1,4})$/.exec(spec);
    if (!m || Number(m[1]) > 254)
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `--user expects <index 0-254>=<consent code 0-9999> as the scale showed it, got "${spec}"`,
      );
    return { index: Number(m[1]), consentCode: Number(m[2]) };
  });
  const timeoutS = values.timeout === undefined ? 60 : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0)
    throw new MedgwError('MEDGW_ERR_USAGE', `--timeout expects seconds > 0, got "${values.timeout}"`);
  if (interactive && positionals.length === 0 && values.json)
    throw new MedgwError('MEDGW_ERR_USAGE', '--json needs the address: `medgw pair <address> --json`');
  const address = positionals[0] ?? (await choose(ble, io));
  const say = (line: string) => {
    if (!values.json) io.stdout.write(`${line}\n`);
  };
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutS * 1000);
  let progress: ReturnType<typeof setInterval> | undefined;
  try {
    // the state stream opens before the request, so no step of this pairing is missed
    const changes = values['no-wait'] ? undefined : await ble.events(ac.signal);
    let status = await ble.pair(address, {
      ...(values.patient ? { patientId: values.patient } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(udsUsers.length ? { udsUsers } : {}),
    });
    say(
      `pairing ${status.deviceId}${values.patient ? ` for patient ${values.patient}` : ''}: ${status.state}`,
    );
    let final: BleStateChange | undefined;
    if (changes) {
      const id = status.deviceId;
      let shown = -1;
      // records committed so far on this connection, read from the central while it syncs
      const poll = async () => {
        const d = (await ble.devices().catch(() => [])).find((x) => x.deviceId === id);
        const committed = d?.session?.committed;
        if (d?.state !== 'syncing' || committed === undefined || committed === shown) return;
        shown = committed;
        say(
          `  syncing: ${committed} records${d.reportedRecords !== undefined ? ` of ${d.reportedRecords} reported` : ''} stored so far`,
        );
      };
      // progress: every state the device goes through until it is synced or fails
      for await (const c of changes) {
        if (c.deviceId !== id) continue;
        say(`  ${c.state}${c.code ? ` (${c.code})` : ''}`);
        if (c.state === 'syncing' && !progress && !values.json)
          progress = setInterval(() => void poll(), PROGRESS_EVERY_MS);
        if (c.state === 'synced' || c.state === 'failed' || c.state === 'forgotten') {
          final = c;
          break;
        }
      }
      if (progress) clearInterval(progress);
      status = (await ble.devices()).find((d) => d.deviceId === id) ?? status;
    }
    if (values.json) json(io, status);
    if (final?.state === 'synced') {
      say(`paired and synced (${final.committed ?? 0} readings): they go on to the pipeline`);
      return 0;
    }
    if (final) {
      say(
        `pairing ${final.state}: ${final.code ?? ''} ${final.message ?? ''}`.trimEnd() +
          (final.retryAt !== undefined ? `; the gateway tries again at ${iso(final.retryAt)}` : ''),
      );
      return 1;
    }
    if (changes) {
      say(
        `still ${status.state} after ${timeoutS}s: the gateway keeps going; follow it with medgw devices discovered --all`,
      );
      return 1;
    }
    return 0;
  } finally {
    if (progress) clearInterval(progress);
    clearTimeout(timer);
    ac.abort();
  }
}
