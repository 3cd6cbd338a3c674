/**
 * Support for the administrative commands (devices, patients, audit, journal): argument parsing
 * with coded usage errors, the connection to the instance (API or direct), and plain tables.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MedgwError } from '../../kernel/errors.ts';
import { connect } from '../admin/connect.ts';
import type { AdminOps } from '../admin/ops.ts';
import { configFromArgs } from '../config/load.ts';
import type { OutboxRecord } from '../contracts.ts';
import type { CommandIo } from './command.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new MedgwError('MEDGW_ERR_USAGE', `${(e as Error).message}\nusage: ${usage}`);
  }
}

/** Runs `fn` against the instance named by --data-dir/--config, then releases it. */
export async function withOps<T>(
  args: string[],
  fn: (ops: AdminOps, rest: string[]) => Promise<T>,
): Promise<T> {
  const { config, rest } = configFromArgs(args);
  const ops = await connect(config);
  try {
    return await fn(ops, rest);
  } finally {
    await ops.close();
  }
}

/** A plain aligned table; empty cells as `-`. */
export function table(headers: string[], rows: (string | number | undefined | null)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

export function json(io: CommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Dispatches `<command> <sub> …` to a table of sub-commands. */
export async function subcommands(
  command: string,
  args: string[],
  io: CommandIo,
  table: Record<string, { usage: string; run: (args: string[], io: CommandIo) => Promise<number> }>,
): Promise<number> {
  const [sub, ...rest] = args;
  const help = () =>
    `usage:\n${Object.values(table)
      .map((t) => `  medgw ${command} ${t.usage}`)
      .join('\n')}\n\nEvery sub-command accepts --data-dir <dir> and --config <file>.\n`;
  if (!sub || sub === 'help' || sub === '--help' || sub === '-h') {
    io.stdout.write(help());
    return 0;
  }
  const entry = table[sub];
  if (!entry) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `unknown sub-command "${command} ${sub}"; known: ${Object.keys(table).join(', ')}`,
    );
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`usage: medgw ${command} ${entry.usage}\n`);
    return 0;
  }
  return entry.run(rest, io);
}

/**
 * Applies `fn` to each named reading, printing `<id>: <done(result)>` or `<id>: <code>: <message>` for a
 * coded refusal (other failures propagate); resolves to exit status 2 if any was refused, else 0.
 */
export async function eachReading(
  ids: string[],
  io: CommandIo,
  fn: (id: string) => Promise<OutboxRecord>,
  done: (r: OutboxRecord) => string,
): Promise<number> {
  let refused = 0;
  for (const id of ids) {
    try {
      io.stdout.write(`${id}: ${done(await fn(id))}\n`);
    } catch (e) {
      if (!(e instanceof MedgwError)) throw e;
      refused++;
      io.stderr.write(`${id}: ${e.code}: ${e.message}\n`);
    }
  }
  return refused > 0 ? 2 : 0;
}
