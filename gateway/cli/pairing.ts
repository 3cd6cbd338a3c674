/**
 * Pairing one Bluetooth device through the running gateway, as `medgw devices pair <address>` and
 * `medgw pair [<address>]` both do: the request, then every state of the pairing state machine as it
 * happens and, while a glucometer transfers its stored records, how many are committed so far.
 * Without an address (`medgw pair`), the nearby unpaired devices are listed and the person chooses
 * one by its number on stdin.
 */
import { createInterface } from 'node:readline';
import { DEFINITIONS } from '../../drivers/definitions/index.ts';
import { MedgwError } from '../../kernel/errors.ts';
import type { PairingPrompt, PromptAnswer } from '../ble/bluez/prompts.ts';
import type { BleDeviceStatus } from '../ble/central.ts';
import type { BleStateChange } from '../ble/states.ts';
import type { BleAdminClient } from './ble-client.ts';
import type { CommandIo } from './command.ts';
import { iso, json, parse, table } from './support.ts';

export const PAIR_USAGE =
  '[--patient <patient-id>] [--name <label>] [--user <index>=<consent-code>]… [--passkey <6 digits>] [--again] [--no-wait] [--timeout <seconds>] [--json]';

const OPTIONS = {
  patient: { type: 'string' },
  name: { type: 'string' },
  user: { type: 'string', multiple: true },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  passkey: { type: 'string' },
  again: { type: 'boolean' },
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
 * Asks the person what the pairing agent asks (dbus mode): the code the device shows, whether both
 * show the same number, or the code to type on the device. Undefined: nothing to answer (or no input).
 */
async function askPerson(
  prompt: PairingPrompt,
  io: CommandIo,
  say: (line: string) => void,
  passkey: number | undefined,
): Promise<PromptAnswer | undefined> {
  const code = (n: number | undefined) => String(n ?? 0).padStart(6, '0');
  if (prompt.kind === 'display') {
    say(`  type ${code(prompt.passkey)} on the device, then confirm on the device`);
    return undefined;
  }
  if (passkey !== undefined && prompt.kind !== 'confirm') return { passkey };
  if (prompt.kind === 'confirm') {
    io.stdout.write(`  does the device show ${code(prompt.passkey)}? [y/n] `);
    const a = (await readLine(io.stdin))?.trim().toLowerCase();
    io.stdout.write('\n');
    if (a === undefined) return undefined;
    return { confirm: a === 'y' || a === 'yes' || a === 'o' || a === 'oui' };
  }
  for (;;) {
    io.stdout.write(
      prompt.kind === 'pin'
        ? '  type the PIN code of the device (its manual or label): '
        : '  the device shows a 6-digit code: type it here: ',
    );
    const typed = (await readLine(io.stdin))?.trim();
    io.stdout.write('\n');
    if (typed === undefined) return undefined;
    if (prompt.kind === 'pin' && typed !== '') return { pin: typed };
    if (/^[0-9]{6}$/.test(typed.replaceAll(' ', ''))) return { passkey: Number(typed.replaceAll(' ', '')) };
    say(`  "${typed}" is not the 6 digits the device shows; try again`);
  }
}

/**
 * Runs one pairing. `args` are the options (and the address, unless `interactive` lets the person
 * choose); `command` names the command in usage messages.
 */
/** What to press and what the person sees, from the model's definition; none for a generic driver. */
function pairingHelp(driver: string | undefined): string | undefined {
  const d = driver === undefined ? undefined : DEFINITIONS.find((x) => x.id === driver);
  return d && !d.generic ? (d.pairingHelp?.en ?? d.description) : undefined;
}

/** Failures the gateway retries by itself that say nothing of the device's pairing. */
const TRANSIENT: ReadonlySet<string> = new Set([
  'MEDGW_ERR_BLE_LINK_LOST',
  'MEDGW_ERR_BLE_TIMEOUT',
  'MEDGW_ERR_BLE_UNREACHABLE',
]);

/** A transient failure whose retry the gateway has scheduled before `deadline` (epoch ms). */
function retriedInTime(c: BleStateChange, deadline: number): boolean {
  return c.code !== undefined && TRANSIENT.has(c.code) && c.retryAt !== undefined && c.retryAt < deadline;
}

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
  const passkey = values.passkey === undefined ? undefined : Number(values.passkey);
  if (passkey !== undefined && !(/^[0-9]{1,6}$/.test(values.passkey ?? '') && Number.isInteger(passkey)))
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `--passkey expects the 6 digits the device shows, got "${values.passkey}"`,
    );
  const address = positionals[0] ?? (await choose(ble, io));
  const say = (line: string) => {
    if (!values.json) io.stdout.write(`${line}\n`);
  };
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutS * 1000);
  const deadline = Date.now() + timeoutS * 1000;
  let progress: ReturnType<typeof setInterval> | undefined;
  try {
    // the state stream opens before the request, so no step of this pairing is missed
    const changes = values['no-wait'] ? undefined : await ble.stream(ac.signal);
    let status = values.again
      ? await ble.repair(address)
      : await ble.pair(address, {
          ...(values.patient ? { patientId: values.patient } : {}),
          ...(values.name ? { name: values.name } : {}),
          ...(udsUsers.length ? { udsUsers } : {}),
        });
    say(
      `pairing ${status.deviceId}${values.patient ? ` for patient ${values.patient}` : ''}: ${status.state}`,
    );
    const help = pairingHelp(status.driver);
    if (help) say(`  how to pair it: ${help}`);
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
      for await (const e of changes) {
        if (e.type === 'prompt') {
          if (e.prompt.deviceId !== id) continue;
          const answer = await askPerson(e.prompt, io, say, passkey);
          if (answer) await ble.answer(id, answer).catch((x: unknown) => say(`  ${(x as Error).message}`));
          continue;
        }
        const c = e.change;
        if (c.deviceId !== id) continue;
        say(`  ${c.state}${c.code ? ` (${c.code})` : ''}`);
        if (c.state === 'syncing' && !progress && !values.json)
          progress = setInterval(() => void poll(), PROGRESS_EVERY_MS);
        // A link lost or a step timed out is common on air, and the gateway retries by itself: while
        // its next attempt falls within --timeout, the person waits for it rather than start again.
        if (c.state === 'failed' && retriedInTime(c, deadline)) {
          say(`  the gateway tries again at ${iso(c.retryAt ?? 0)}`);
          continue;
        }
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
      if (final.code === 'MEDGW_ERR_BLE_BOND_LOST')
        say(
          `the device no longer knows this gateway (it was reset, or its pairings were cleared): put it in pairing mode and run medgw pair ${status.deviceId} --again`,
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
