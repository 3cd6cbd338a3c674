/**
 * `medgw storage import <from-data-dir>`: moves one box's registry (patients, devices, sections) and
 * pairing links into the PostgreSQL storage the instances share (storage.kind postgres). The source
 * must not be running (its data-directory lock is held meanwhile); its token key is its token.key, or
 * MEDGW_SOURCE_TOKEN_KEY; the links are sealed again with the instances' key. Ids the shared storage
 * already holds are skipped and listed, so running it again is harmless. See docs/storage.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MedgwError } from '../../../kernel/errors.ts';
import { configFromArgs } from '../../config/load.ts';
import { acquireLock, dataPath } from '../../datadir.ts';
import { PostgresRegistry } from '../../registry/postgres.ts';
import { type ImportReport, importDataDir } from '../../storage/import.ts';
import { openLinks } from '../../storage/links.ts';
import type { CommandIo } from '../command.ts';
import { json, parse, subcommands } from '../support.ts';

const USAGE = {
  import: 'import <from-data-dir> [--json]   (with storage.kind postgres and storage.url)',
};

async function importCommand(args: string[], io: CommandIo): Promise<number> {
  const { config, rest } = configFromArgs(args);
  const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, USAGE.import);
  const from = positionals[0];
  if (!from || positionals.length !== 1) {
    throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw storage ${USAGE.import}`);
  }
  if (config.storage.kind !== 'postgres' || !config.storage.url) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      'medgw storage import copies into the shared PostgreSQL storage: set storage.kind postgres and storage.url (or MEDGW_STORAGE_KIND and MEDGW_STORAGE_URL)',
    );
  }
  if (!existsSync(dataPath(from, 'registry')) && !existsSync(join(from, 'tokens.enc'))) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `${from} holds no medgw registry (registry.json) nor links (tokens.enc)`,
    );
  }
  // nothing writes the source meanwhile (a gateway running on it is refused: MEDGW_ERR_DATADIR_LOCKED)
  const lock = acquireLock(from, 'cli');
  try {
    const registry = await PostgresRegistry.connect(config.storage.url);
    try {
      const links = await openLinks(config);
      try {
        const source = process.env.MEDGW_SOURCE_TOKEN_KEY;
        const report = await importDataDir(
          from,
          { registry, links: links.store },
          source ? { MEDGW_TOKEN_KEY: source } : {},
        );
        if (values.json) json(io, report);
        else io.stdout.write(summary(report));
        return 0;
      } finally {
        await links.close();
      }
    } finally {
      await registry.close();
    }
  } finally {
    lock.release();
  }
}

function summary(report: ImportReport): string {
  return `${(['patients', 'devices', 'sections', 'links'] as const)
    .map((what) => {
      const { imported, skipped } = report[what];
      const kept = skipped.length ? `; already there, left as they are: ${skipped.join(', ')}` : '';
      return `${what}: ${imported.length} imported${kept}`;
    })
    .join('\n')}\n`;
}

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('storage', args, io, {
    import: { usage: USAGE.import, run: (a) => importCommand(a, io) },
  });
}
