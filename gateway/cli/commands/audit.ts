/** `medgw audit list|verify`: the append-only, hash-chained audit log (never any values). */
import { MedgwError } from '../../../kernel/errors.ts';
import type { CommandIo } from '../command.ts';
import { iso, json, parse, subcommands, table, withOps } from '../support.ts';

const USAGE = {
  list: 'list [--patient <patient-id>] [--reading <reading-id>] [--limit <n>] [--json]',
  verify: 'verify [--json]',
};

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('audit', args, io, {
    list: {
      usage: USAGE.list,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { values, positionals } = parse(
            rest,
            {
              patient: { type: 'string' },
              reading: { type: 'string' },
              limit: { type: 'string' },
              json: { type: 'boolean' },
            },
            USAGE.list,
          );
          if (positionals.length) throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw audit ${USAGE.list}`);
          const entries = await ops.auditList({
            ...(values.patient ? { patient: values.patient } : {}),
            ...(values.reading ? { reading: values.reading } : {}),
            ...(values.limit ? { limit: values.limit } : {}),
          });
          if (values.json) json(io, entries);
          else
            io.stdout.write(
              table(
                ['SEQ', 'AT', 'EVENT', 'READING', 'DEVICE', 'PATIENT', 'KIND', 'DETAIL'],
                entries.map((e) => [
                  e.seq,
                  iso(e.at),
                  e.event,
                  e.readingId,
                  e.deviceId,
                  e.patientId,
                  e.kind,
                  e.detail
                    ? Object.entries(e.detail)
                        .map(([k, v]) => `${k}=${v}`)
                        .join(' ')
                    : undefined,
                ]),
              ),
            );
          return 0;
        }),
    },
    verify: {
      usage: USAGE.verify,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE.verify);
          const v = await ops.auditVerify();
          if (values.json) json(io, v);
          else if (v.chains) {
            // one chain per instance sharing the journal (docs/storage.md)
            for (const c of v.chains) {
              io.stdout.write(
                c.firstBroken === undefined
                  ? `audit chain ${c.chain} intact: ${c.entries} entries\n`
                  : `audit chain ${c.chain} BROKEN at entry ${c.firstBroken}: that entry or one before it was altered or removed\n`,
              );
            }
            if (v.chains.length === 0) io.stdout.write('audit log empty: 0 entries\n');
          } else if (v.ok) io.stdout.write(`audit chain intact: ${v.entries} entries\n`);
          else
            io.stdout.write(
              `audit chain BROKEN at entry ${v.firstBroken}: that entry or one before it was altered or removed\n`,
            );
          return v.ok ? 0 : 1;
        }),
    },
  });
}
