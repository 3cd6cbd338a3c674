/**
 * The journal file as the gateway finds it at start: a 0-byte file is a lost history and is refused
 * unless the data directory is new; a damaged page is reported as a journal error (coded), whichever
 * page it is, and never as a component failing to start. The files are left as they were found.
 */
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStores } from '../../gateway/admin/connect.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';
import { startMedgw } from '../support/gateway.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-journal-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const PAGE = 4096;

/** A data directory that has run: a registry with a patient, a journal with some history. */
async function usedDataDir(): Promise<string> {
  const dir = join(root, `d${n++}`);
  const config = loadConfig({ overrides: { dataDir: dir } });
  const { registry, journal } = await openStores(config);
  await registry.putPatient({ id: 'p1', displayName: 'Alice', createdAt: 1 });
  for (let i = 0; i < 300; i++) journal.audit({ event: 'patient.linked', patientId: `p${i}` });
  journal.close();
  return dir;
}

function configFor(dir: string) {
  return loadConfig({ overrides: { dataDir: dir } });
}

describe('journal files at start', () => {
  it('a 0-byte journal in a data directory that has run is refused, and left as it is', async () => {
    const dir = await usedDataDir();
    writeFileSync(join(dir, 'journal.db'), '');
    rmSync(join(dir, 'journal.db-wal'), { force: true });
    await expect(openStores(configFor(dir))).rejects.toMatchObject({
      code: 'MEDGW_ERR_JOURNAL_CORRUPT',
      message: expect.stringContaining('empty file'),
    });
    expect(statSync(join(dir, 'journal.db')).size).toBe(0);
  });

  it('a 0-byte journal in a new data directory (a first start cut short) starts a new journal', async () => {
    const dir = join(root, `d${n++}`);
    const { journal } = await openStores(configFor(dir)); // creates the directory
    journal.close();
    writeFileSync(join(dir, 'journal.db'), '');
    const again = await openStores(configFor(dir));
    expect(again.journal.stats(Date.now()).byState.pending).toBe(0);
    expect(statSync(join(dir, 'journal.db')).size).toBeGreaterThan(0);
    again.journal.close();
  });

  it('a damaged page, wherever it is, is reported as MEDGW_ERR_JOURNAL_CORRUPT and the file is untouched', async () => {
    const dir = await usedDataDir();
    const path = join(dir, 'journal.db');
    const pages = statSync(path).size / PAGE;
    expect(pages).toBeGreaterThan(5);
    const original = readFileSync(path);
    for (let page = 0; page < pages; page++) {
      writeFileSync(path, original);
      const fd = openSync(path, 'r+');
      writeSync(fd, randomFillSync(Buffer.alloc(PAGE)), 0, PAGE, page * PAGE);
      closeSync(fd);
      const damaged = readFileSync(path);
      let refusal: { code?: string } | undefined;
      try {
        new SqliteJournal({ path }).close();
      } catch (e) {
        refusal = e as { code?: string };
      }
      expect(refusal?.code, `page ${page + 1} of ${pages}`).toBe('MEDGW_ERR_JOURNAL_CORRUPT');
      expect(readFileSync(path).equals(damaged)).toBe(true);
    }
    // the registry beside it is intact and still opens
    expect((await LowRegistry.open(join(dir, 'registry.json'))).getPatient('p1')?.displayName).toBe('Alice');
  });

  it('`medgw start` on a damaged journal says so with the journal code, not a component or port failure', async () => {
    const dir = await usedDataDir();
    const path = join(dir, 'journal.db');
    const fd = openSync(path, 'r+');
    writeSync(fd, randomFillSync(Buffer.alloc(PAGE)), 0, PAGE, PAGE);
    closeSync(fd);
    const gw = startMedgw(['--data-dir', dir, '--mqtt-port', '0', '--http-port', '0', '--sandbox-port', '0']);
    const code = await gw.exited;
    const out = gw.output();
    expect(code, out).not.toBe(0);
    expect(out).toContain('MEDGW_ERR_JOURNAL_CORRUPT');
    expect(out).not.toMatch(/failed to start|\bport\b|unexpected failure/i);
  }, 60_000);
});
