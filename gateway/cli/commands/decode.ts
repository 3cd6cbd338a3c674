/**
 * `medgw decode`: decode a GATT value or an MQTT payload and print the reading it carries, for people
 * who debug devices.
 *
 *   medgw decode <characteristic> <hex> [--driver <id>]
 *   medgw decode --mqtt json|cbor|protobuf <file|->
 *   medgw decode --jsonl            (stdin: {"characteristic","hex","driver"} per line → one result per line)
 *   medgw decode … --fhir [--system-id <hex>] [--manufacturer <s>] [--model <s>] [--timezone <zone>] [--now <time>]
 *   medgw decode --list
 *
 * Refused input exits 2 with its MEDGW_ERR_* code and a message on stderr (through main.ts).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CODECS } from '../../../drivers/codecs/index.ts';
import { decodeFrame } from '../../../drivers/decode.ts';
import { DEFINITIONS } from '../../../drivers/definitions/index.ts';
import { decodePayload, PAYLOAD_ENCODINGS, type PayloadEncoding } from '../../../drivers/mqtt/index.ts';
import { normalize } from '../../../drivers/normalize/index.ts';
import { parseHex } from '../../../drivers/reader.ts';
import { isMedgwError, MedgwError } from '../../../kernel/errors.ts';
import { systemTimeZone } from '../../config/schema.ts';
import type { CommandIo } from '../command.ts';
import { decodeGeneration, type FhirOptions, fhirArray, readingsAsFhir } from './decode-fhir.ts';

const USAGE = `usage:
  medgw decode <characteristic> <hex> [--driver <id>]   decode one GATT value (UUID like 2A18 or a name)
  medgw decode --mqtt json|cbor|protobuf <file|->       decode one MQTT payload (- reads stdin)
  medgw decode --jsonl                                 read {"characteristic","hex","driver"} lines on stdin,
                                                       write one JSON result (or {"error":…}) per line
  medgw decode --list                                  list the characteristics and driver ids

  --fhir (with a characteristic, --jsonl or --mqtt): print the FHIR transaction Bundle each reading would
  become for a test patient and pairing: a JSON array, one element per reading sent to the national side
  (a Bundle, or {"quarantine":{"code","reason"}} for a reading the gateway would hold); [] for a frame
  with no such reading. With --jsonl, one array per input line. Options:
    --system-id <hex>        the DIS System ID 0x2A23 value as the device sends it
    --manufacturer <text>    --model <text>     as DIS 0x2A29 / 0x2A24 give them
    --timezone <zone>        IANA zone of the device clock (default: the system zone)
    --now <time>             when the gateway read the device clock, taken as right then, and received
                             the frame (ISO-8601 with a zone, or ms since 1970; default: now)
    --generation <g>         mes-1.5.2 (glucose in the feeding Bundle) or ans-3.2.0 (glucose in the biology
                             Bundle); default: MEDGW_NATIONAL_PROFILE_GENERATION, else mes-1.5.2

Output: {"characteristic","fields","observations"} as one JSON object. Observations carry kind, LOINC,
MDC, value in the canonical unit, time {device, utc, quality} and, when it applies, dataAbsentReason or
quarantine. Without a coincident timestamp the time quality is "untrusted". --mqtt prints
{"mqtt","fields","observations"} with the validated payload as fields.
`;

interface Parsed {
  readonly positional: string[];
  readonly fhir?: FhirOptions;
  readonly driver?: string;
  readonly mqtt?: string;
  readonly jsonl: boolean;
  readonly list: boolean;
  readonly help: boolean;
}

function parseArgs(args: string[]): Parsed {
  const positional: string[] = [];
  let driver: string | undefined;
  let mqtt: string | undefined;
  let jsonl = false;
  let list = false;
  let help = false;
  let fhir = false;
  const f: {
    systemIdHex?: string;
    manufacturer?: string;
    model?: string;
    timeZone?: string;
    now?: string;
    generation?: string;
  } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new MedgwError('MEDGW_ERR_USAGE', `${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--driver') driver = value();
    else if (a.startsWith('--driver=')) driver = a.slice('--driver='.length);
    else if (a === '--mqtt') mqtt = value();
    else if (a.startsWith('--mqtt=')) mqtt = a.slice('--mqtt='.length);
    else if (a === '--jsonl') jsonl = true;
    else if (a === '--list') list = true;
    else if (a === '--fhir') fhir = true;
    else if (a === '--system-id') f.systemIdHex = value();
    else if (a === '--manufacturer') f.manufacturer = value();
    else if (a === '--model') f.model = value();
    else if (a === '--timezone') f.timeZone = value();
    else if (a === '--now') f.now = value();
    else if (a === '--generation') f.generation = value();
    else if (a === '--help' || a === '-h') help = true;
    else if (a.startsWith('--')) throw new MedgwError('MEDGW_ERR_USAGE', `unknown option ${a}\n${USAGE}`);
    else positional.push(a);
  }
  const fhirOnly = Object.keys(f);
  if (!fhir && fhirOnly.length > 0) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `--${fhirOnly[0] === 'systemIdHex' ? 'system-id' : fhirOnly[0] === 'timeZone' ? 'timezone' : fhirOnly[0]} goes with --fhir\n${USAGE}`,
    );
  }
  return {
    positional,
    ...(fhir ? { fhir: fhirOptions(f) } : {}),
    ...(driver !== undefined ? { driver } : {}),
    ...(mqtt !== undefined ? { mqtt } : {}),
    jsonl,
    list,
    help,
  };
}

/** The --fhir options, checked: a zone ICU knows, an instant that parses. */
function fhirOptions(f: {
  systemIdHex?: string;
  manufacturer?: string;
  model?: string;
  timeZone?: string;
  now?: string;
  generation?: string;
}): FhirOptions {
  const timeZone = f.timeZone ?? systemTimeZone();
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `--timezone ${timeZone} is not an IANA time zone (e.g. Europe/Paris)`,
    );
  }
  let nowMs = Date.now();
  if (f.now !== undefined) {
    nowMs = /^\d+$/.test(f.now)
      ? Number(f.now)
      : /(Z|[+-]\d{2}:\d{2})$/.test(f.now)
        ? Date.parse(f.now)
        : Number.NaN;
    if (!Number.isFinite(nowMs)) {
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `--now ${f.now} is not an instant: give ISO-8601 with its zone (2026-11-22T08:15:00+01:00) or ms since 1970`,
      );
    }
  }
  return {
    timeZone,
    nowMs,
    generation: decodeGeneration(f.generation, process.env),
    ...(f.systemIdHex !== undefined ? { systemIdHex: f.systemIdHex } : {}),
    ...(f.manufacturer !== undefined ? { manufacturer: f.manufacturer } : {}),
    ...(f.model !== undefined ? { model: f.model } : {}),
  };
}

/** The printed result of one GATT value: characteristic, fields, observations (no internal measurements). */
function decodeOne(characteristic: string, hex: string, driver: string | undefined, nowMs: number): object {
  const r = decodeFrame(characteristic, parseHex(hex), driver, { nowMs });
  return { characteristic: r.characteristic, fields: r.fields, observations: r.observations };
}

/** The --fhir elements of one GATT value (decoded without normalization; readingsAsFhir normalizes once). */
function fhirOne(characteristic: string, hex: string, driver: string | undefined, o: FhirOptions): string[] {
  const r = decodeFrame(characteristic, parseHex(hex), driver, { nowMs: o.nowMs });
  return readingsAsFhir(r.measurements ?? [], o);
}

function readInput(source: string, stdin: NodeJS.ReadableStream): Promise<Uint8Array> {
  if (source !== '-') {
    try {
      return Promise.resolve(new Uint8Array(readFileSync(source)));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new MedgwError('MEDGW_ERR_USAGE', `cannot read the payload file "${source}": ${why}`);
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stdin.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stdin.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    stdin.on('error', reject);
  });
}

function list(io: CommandIo): number {
  const w = Math.max(...CODECS.map((c) => c.name.length));
  const lines = CODECS.map((c) => `  ${c.uuid}  ${c.name.padEnd(w)}  ${c.spec}`);
  const dw = Math.max(...DEFINITIONS.map((d) => d.id.length));
  const drivers = DEFINITIONS.map(
    (d) =>
      `  ${d.id.padEnd(dw)}  ${d.generic ? d.model : `${d.vendor} ${d.model}`}${d.quirks.length ? `  quirks: ${d.quirks.join(', ')}` : ''}`,
  );
  io.stdout.write(`characteristics:\n${lines.join('\n')}\n\ndrivers (--driver):\n${drivers.join('\n')}\n`);
  return 0;
}

async function jsonl(io: CommandIo, fhir: FhirOptions | undefined): Promise<number> {
  const rl = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  const nowMs = Date.now();
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let out: object;
    try {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch (e) {
        throw new MedgwError(
          'MEDGW_ERR_JSONL_LINE',
          `line is not JSON: ${e instanceof Error ? e.message : e}`,
        );
      }
      const r = request as Record<string, unknown> | null;
      if (
        typeof r !== 'object' ||
        r === null ||
        typeof r.characteristic !== 'string' ||
        typeof r.hex !== 'string' ||
        (r.driver !== undefined && typeof r.driver !== 'string')
      ) {
        throw new MedgwError(
          'MEDGW_ERR_JSONL_LINE',
          'line must be an object with string "characteristic" and "hex" (and optional "driver")',
        );
      }
      if (fhir) {
        io.stdout.write(
          `${fhirArray(fhirOne(r.characteristic, r.hex, r.driver as string | undefined, fhir), true)}\n`,
        );
        continue;
      }
      out = decodeOne(r.characteristic, r.hex, r.driver as string | undefined, nowMs);
    } catch (e) {
      if (!isMedgwError(e)) throw e;
      out = { error: { code: e.code, message: e.message } };
    }
    io.stdout.write(`${JSON.stringify(out)}\n`);
  }
  return 0;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const a = parseArgs(args);
  if (a.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (a.list) return list(io);
  if (a.jsonl) {
    if (a.positional.length > 0 || a.mqtt !== undefined)
      throw new MedgwError('MEDGW_ERR_USAGE', `--jsonl reads its frames from stdin only\n${USAGE}`);
    return jsonl(io, a.fhir);
  }
  if (a.mqtt !== undefined) {
    if (!(PAYLOAD_ENCODINGS as readonly string[]).includes(a.mqtt)) {
      throw new MedgwError('MEDGW_ERR_USAGE', `--mqtt takes ${PAYLOAD_ENCODINGS.join('|')}, not "${a.mqtt}"`);
    }
    const [source, ...extra] = a.positional;
    if (source === undefined || extra.length > 0)
      throw new MedgwError('MEDGW_ERR_USAGE', `--mqtt needs one file name or - for stdin\n${USAGE}`);
    const encoding = a.mqtt as PayloadEncoding;
    const { reading, measurement } = decodePayload(encoding, await readInput(source, io.stdin));
    if (a.fhir) {
      io.stdout.write(`${fhirArray(readingsAsFhir([measurement], a.fhir))}\n`);
      return 0;
    }
    const observations = normalize(measurement, { nowMs: Date.now() });
    io.stdout.write(`${JSON.stringify({ mqtt: encoding, fields: reading, observations }, null, 2)}\n`);
    return 0;
  }
  const [characteristic, ...hexParts] = a.positional;
  if (characteristic === undefined || hexParts.length === 0) {
    throw new MedgwError('MEDGW_ERR_USAGE', `give a characteristic and its bytes in hex\n${USAGE}`);
  }
  // Hex may be given as one argument or as several ("0b 2a 00" unquoted).
  if (a.fhir) {
    io.stdout.write(`${fhirArray(fhirOne(characteristic, hexParts.join(''), a.driver, a.fhir))}\n`);
    return 0;
  }
  const out = decodeOne(characteristic, hexParts.join(''), a.driver, Date.now());
  io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}
