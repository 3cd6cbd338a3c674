/**
 * lowdb adapter that writes atomically and durably: a temporary file written with mode 0600 and
 * fsynced, renamed over the old one, then the directory fsynced. A crash leaves the old or the new
 * file, never half of one. A file that does not parse is refused, never overwritten.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { MedgwError } from '../../kernel/errors.ts';

export class AtomicJsonFile<T> implements Adapter<T> {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Removes temporary files a killed writer left behind (the data-directory lock makes us the only writer). */
  cleanLeftovers(): void {
    const prefix = `.${basename(this.path)}.`;
    try {
      for (const f of readdirSync(dirname(this.path))) {
        if (f.startsWith(prefix) && f.endsWith('.tmp')) rmSync(join(dirname(this.path), f), { force: true });
      }
    } catch {
      // the directory may not exist yet: nothing to clean
    }
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new MedgwError('MEDGW_ERR_DATADIR', `cannot read ${this.path}: ${(e as Error).message}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new MedgwError(
        'MEDGW_ERR_REGISTRY_CORRUPT',
        `${this.path} is not valid JSON: ${(e as Error).message}`,
      );
    }
  }

  write(data: T): Promise<void> {
    const text = `${JSON.stringify(data, null, 2)}\n`;
    // serialize writes so two updates never interleave their rename
    this.writing = this.writing.catch(() => undefined).then(() => this.writeNow(text));
    return this.writing;
  }

  private async writeNow(text: string): Promise<void> {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      const dfd = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch (e) {
      throw new MedgwError('MEDGW_ERR_DATADIR', `cannot write ${this.path}: ${(e as Error).message}`);
    }
  }
}
