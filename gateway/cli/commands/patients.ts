/** `medgw patients add|list|remove`: the patients of an instance, running or not. */
import { MedgwError } from '../../../kernel/errors.ts';
import type { CommandIo } from '../command.ts';
import { iso, json, parse, subcommands, table, withOps } from '../support.ts';

const USAGE = {
  add: 'add --id <patient-id> --name <display name> [--json]',
  list: 'list [--json]',
  remove: 'remove <patient-id>',
};

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('patients', args, io, {
    add: {
      usage: USAGE.add,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { values, positionals } = parse(
            rest,
            { id: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
            USAGE.add,
          );
          if (positionals.length || !values.id || !values.name) {
            throw new MedgwError(
              'MEDGW_ERR_USAGE',
              `--id and --name are required\nusage: medgw patients ${USAGE.add}`,
            );
          }
          const p = await ops.addPatient({ id: values.id, displayName: values.name });
          if (values.json) json(io, p);
          else io.stdout.write(`added patient ${p.id}\n`);
          return 0;
        }),
    },
    list: {
      usage: USAGE.list,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE.list);
          const patients = await ops.listPatients();
          if (values.json) json(io, patients);
          else
            io.stdout.write(
              table(
                ['ID', 'NAME', 'CREATED'],
                patients.map((p) => [p.id, p.displayName, iso(p.createdAt)]),
              ),
            );
          return 0;
        }),
    },
    remove: {
      usage: USAGE.remove,
      run: (a) =>
        withOps(a, async (ops, rest) => {
          const { positionals } = parse(rest, {}, USAGE.remove);
          if (positionals.length !== 1)
            throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw patients ${USAGE.remove}`);
          await ops.removePatient(positionals[0]!);
          io.stdout.write(`removed patient ${positionals[0]}\n`);
          return 0;
        }),
    },
  });
}
