/**
 * Moving one box's state to the storage several instances share: the patients, devices and named
 * sections of a data directory's registry file, and its pairing links (unsealed with the source
 * key, sealed again with the instances' key by the target store). Nothing is overwritten: an id the
 * target already holds is skipped and reported, so running the import again is harmless. Device
 * secrets move as their stored hashes; the devices keep their secrets.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LinkStore } from '../../cloud-bridge/token-store.ts';
import { isMedgwError } from '../../kernel/errors.ts';
import type { Registry } from '../contracts.ts';
import { dataPath } from '../datadir.ts';
import { LowRegistry } from '../registry/registry.ts';
import { TokenStore } from './tokens-file.ts';

export interface ImportCounts {
  readonly imported: string[];
  /** Already in the target: left as the target has it. */
  readonly skipped: string[];
}

export interface ImportReport {
  readonly patients: ImportCounts;
  readonly devices: ImportCounts;
  readonly sections: ImportCounts;
  readonly links: ImportCounts;
}

interface Sections {
  getSection<T>(name: string): T | undefined;
  putSection(name: string, value: unknown): Promise<void>;
}

const counts = (): ImportCounts => ({ imported: [], skipped: [] });

/** True when the put was refused because the id is taken (by this import's target or another instance). */
function taken(e: unknown): boolean {
  return isMedgwError(e) && e.code === 'MEDGW_ERR_REGISTRY_EXISTS';
}

/**
 * Copies `from` (a data directory, not running: the caller holds its lock) into the target registry
 * and links. `sourceEnv` gives the source's token key when it is not in `<from>/token.key`.
 */
export async function importDataDir(
  from: string,
  target: { readonly registry: Registry & Sections; readonly links: LinkStore },
  sourceEnv: NodeJS.ProcessEnv = {},
): Promise<ImportReport> {
  const report: ImportReport = { patients: counts(), devices: counts(), sections: counts(), links: counts() };
  const source = await LowRegistry.open(dataPath(from, 'registry'));
  for (const p of source.listPatients()) {
    try {
      await target.registry.putPatient(p, { create: true });
      report.patients.imported.push(p.id);
    } catch (e) {
      if (!taken(e)) throw e;
      report.patients.skipped.push(p.id);
    }
  }
  for (const d of source.listDevices()) {
    try {
      await target.registry.putDevice(d, { create: true });
      report.devices.imported.push(d.id);
    } catch (e) {
      if (!taken(e)) throw e;
      report.devices.skipped.push(d.id);
    }
  }
  for (const name of source.sectionNames()) {
    if (target.registry.getSection(name) !== undefined) {
      report.sections.skipped.push(name);
      continue;
    }
    await target.registry.putSection(name, source.getSection(name));
    report.sections.imported.push(name);
  }
  // the source's links, only when it has some (opening the store would create a key otherwise)
  if (existsSync(join(from, 'tokens.enc'))) {
    const links = new TokenStore(from, sourceEnv);
    for (const link of links.list()) {
      if (await target.links.fresh(link.patientId)) {
        report.links.skipped.push(link.patientId);
        continue;
      }
      await target.links.put(link);
      report.links.imported.push(link.patientId);
    }
  }
  return report;
}
