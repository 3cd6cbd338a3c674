/**
 * `medgw admin reset-password`: a new admin password for the local pages, written on the data
 * directory under its lock. It refuses while a gateway runs there: the sessions live in that
 * process's memory, so the reset takes effect (and every session ends) at the next start, and the
 * lock keeps a single writer of web-admin.json. Shown once on a terminal, else written to the 0600
 * admin-password.txt of the first start (removed at the first sign-in).
 */
import { existsSync } from 'node:fs';
import { MedgwError } from '../../../kernel/errors.ts';
import { configFromArgs } from '../../config/load.ts';
import { systemClock } from '../../contracts.ts';
import { acquireLock, dataPath } from '../../datadir.ts';
import { resetAdminPassword } from '../../web/auth.ts';
import type { CommandIo } from '../command.ts';
import { parse, subcommands } from '../support.ts';

const USAGE = {
  'reset-password': 'reset-password [--data-dir <dir>] [--config <file>]',
};

async function resetPassword(args: string[], io: CommandIo): Promise<number> {
  const { config, rest } = configFromArgs(args);
  const { positionals } = parse(rest, {}, `medgw admin ${USAGE['reset-password']}`);
  if (positionals.length > 0) {
    throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw admin ${USAGE['reset-password']}`);
  }
  const dataDir = config.dataDir;
  // a typo in --data-dir must not create a directory with a password nobody's gateway reads
  if (!existsSync(dataPath(dataDir, 'webPassword'))) {
    throw new MedgwError(
      'MEDGW_ERR_DATADIR',
      `${dataDir} holds no admin password yet: check --data-dir; the first \`medgw start\` creates the password`,
    );
  }
  let lock: ReturnType<typeof acquireLock>;
  try {
    lock = acquireLock(dataDir, 'cli');
  } catch (e) {
    if (e instanceof MedgwError && e.code === 'MEDGW_ERR_DATADIR_LOCKED') {
      throw new MedgwError(
        'MEDGW_ERR_DATADIR_LOCKED',
        `${e.message}; stop the gateway, then run \`medgw admin reset-password\` again (sessions end with the gateway)`,
        e.details,
      );
    }
    throw e;
  }
  try {
    const out = resetAdminPassword(dataDir, systemClock, io.stdout as NodeJS.WriteStream);
    if (out.shown === 'file') {
      io.stdout.write(
        `new admin password for the local pages written to ${out.path} (0600; removed at the first sign-in)\n`,
      );
    }
    io.stdout.write('every session of the local pages ends: sign in again with the new password\n');
    return 0;
  } finally {
    lock.release();
  }
}

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('admin', args, io, {
    'reset-password': { usage: USAGE['reset-password'], run: resetPassword },
  });
}
