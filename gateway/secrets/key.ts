/**
 * The data directory's sealing key, in one place: 32 bytes from MEDGW_TOKEN_KEY (64 hex digits) or
 * from `<dataDir>/token.key`, created with mode 0600 on first use and refused when other users can
 * read it. Nothing else in the project reads the key file (tests/layering.test.ts checks it); the key
 * leaves this folder only inside a Sealer (./sealer.ts) and is never logged.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { MedgwError } from '../../kernel/errors.ts';

/** The file name of the key in a data directory. */
export const KEY_FILE = 'token.key';

/** Loads the key of `dataDir` (or of the environment), creating the key file when there is none. */
export function loadSealingKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.MEDGW_TOKEN_KEY;
  if (fromEnv !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(fromEnv)) {
      throw new MedgwError('MEDGW_ERR_TOKEN_KEY', 'MEDGW_TOKEN_KEY must be 64 hex digits (32 bytes)');
    }
    return Buffer.from(fromEnv, 'hex');
  }
  const path = join(dataDir, KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    const key = randomBytes(32);
    // 'wx': never overwrite a key another process just created.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, key.toString('hex'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return key;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new MedgwError(
      'MEDGW_ERR_TOKEN_KEY',
      `${path} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`,
    );
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new MedgwError('MEDGW_ERR_TOKEN_KEY', `${path} does not hold 64 hex digits`);
  }
  return Buffer.from(text, 'hex');
}
