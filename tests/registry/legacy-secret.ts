/**
 * An MQTT device record as medgw wrote it before secrets were stored as SHA-256: a salted scrypt hash
 * `scrypt$N$r$p$salt$hash` (N=16384, r=8, p=1, 16-byte salt, 32-byte key, base64url). Built here with
 * node:crypto directly, not with the code under test, so a test of the migration proves something.
 */
import { createHash, randomBytes, scryptSync } from 'node:crypto';

export function legacyScryptHash(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** The fast form a migrated or new record must hold: `sha256$` + SHA-256 of the secret, base64url. */
export function expectedFastHash(secret: string): string {
  return `sha256$${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}
