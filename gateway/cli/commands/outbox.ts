/**
 * `medgw outbox list|stats|retry|purge`: the outbox of an instance (counts by state, oldest unsent
 * reading, moving one reading). `medgw journal …` is the same module under its former name, and
 * `discard` the same sub-command as `purge`.
 */
import { MedgwError } from '../../../kernel/errors.ts';
import type { OutboxQuery } from '../../admin/ops.ts';
import type { CommandIo } from '../command.ts';
import { eachReading, iso, json, parse, subcommands, table, withOps } from '../support.ts';

const USAGE = {
  stats: 'stats [--json]',
  retry: 'retry <reading-id>…   (dead-letter, held or quarantined → pending)',
  purge: 'purge <reading-id>…   (pending, held or quarantined → dead-letter, values purged, never sent)',
  list: 'list [--state pending|quarantined|held|in-flight|delivered|dead-letter] [--patient <id>] [--device <id>] [--limit <n>] [--json]',
};

function age(ms: number | null): string {
  if (ms === null) return 'none';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/** Retries or discards each named reading; reports each one, exits 2 if any was refused. */
function move(args: string[], io: CommandIo, action: 'retry' | 'purge'): Promise<number> {
  return withOps(args, async (ops, rest) => {
    const { positionals } = parse(rest, {}, USAGE[action]);
    if (positionals.length === 0)
      throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw outbox ${USAGE[action]}`);
    return eachReading(
      positionals,
      io,
      (id) => (action === 'retry' ? ops.retryReading(id) : ops.discardReading(id)),
      (r) => r.state,
    );
  });
}

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('outbox', args, io, {
    stats: {
      usage: USAGE.stats,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE.stats);
          const s = await ops.journalStats();
          if (values.json) {
            json(io, s);
            return 0;
          }
          io.stdout.write(table(['STATE', 'READINGS'], Object.entries(s.byState)));
          io.stdout.write(`\noldest unsent reading: ${age(s.oldestUnsentAgeMs)}\n`);
          io.stdout.write(
            `holding ${s.held.readings} readings (${s.held.bytes} bytes) of at most ${s.limits.maxReadings ?? '∞'} readings / ${s.limits.maxBytes ?? '∞'} bytes\n`,
          );
          io.stdout.write(`audit entries: ${s.auditEntries}\n`);
          if (s.refusedFull > 0) io.stdout.write(`refused because full since start: ${s.refusedFull}\n`);
          return 0;
        }),
    },
    retry: {
      usage: USAGE.retry,
      run: (a) => move(a, io, 'retry'),
    },
    purge: {
      usage: USAGE.purge,
      run: (a) => move(a, io, 'purge'),
    },
    discard: {
      usage: 'discard <reading-id>…   (same as purge)',
      run: (a) => move(a, io, 'purge'),
    },
    list: {
      usage: USAGE.list,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { values, positionals } = parse(
            rest,
            {
              state: { type: 'string' },
              patient: { type: 'string' },
              device: { type: 'string' },
              limit: { type: 'string' },
              json: { type: 'boolean' },
            },
            USAGE.list,
          );
          if (positionals.length)
            throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw outbox ${USAGE.list}`);
          const readings = await ops.outbox({
            ...(values.state ? { state: values.state as OutboxQuery['state'] } : {}),
            ...(values.patient ? { patient: values.patient } : {}),
            ...(values.device ? { device: values.device } : {}),
            ...(values.limit ? { limit: values.limit } : {}),
          });
          if (values.json) json(io, readings);
          else
            io.stdout.write(
              table(
                ['ID', 'STATE', 'KIND', 'DEVICE', 'PATIENT', 'ATTEMPTS', 'CREATED', 'REASON'],
                readings.map((r) => [
                  r.id,
                  r.state,
                  r.kind,
                  r.deviceId,
                  r.patientId,
                  r.attempts,
                  iso(r.createdAt),
                  r.reason?.code,
                ]),
              ),
            );
          return 0;
        }),
    },
  });
}
