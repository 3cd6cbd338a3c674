/**
 * MQTT device secrets: generated once, shown once, stored only as a salted scrypt hash
 * (`scrypt$N$r$p$salt$hash`, base64url), verified in constant time.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

/** A new device secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, KEYLEN, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const DUMMY = hashSecret('medgw-dummy-secret');

/**
 * Constant-time check of `secret` against a stored hash. A missing or malformed hash still costs one
 * scrypt, so timing does not tell whether a device id exists.
 */
export function verifySecret(secret: string, stored: string | undefined): boolean {
  const parts = (stored ?? DUMMY).split('$');
  const valid =
    parts.length === 6 && parts[0] === 'scrypt' && parts.slice(1, 4).every((x) => /^[0-9]{1,7}$/.test(x));
  const [, n, r, p, salt, hash] = valid ? parts : DUMMY.split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = scryptSync(secret, Buffer.from(salt!, 'base64url'), expected.length || KEYLEN, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  const same = expected.length === actual.length && timingSafeEqual(expected, actual);
  return same && valid && stored !== undefined;
}

/**
 * Remembers secrets already verified in this process (as keyed digests, never the secret), so a
 * device reconnecting does not pay scrypt again. The comparison stays constant-time.
 */
export class VerifiedSecrets {
  private readonly key = randomBytes(32);
  private readonly seen = new Map<string, Buffer>();

  private digest(id: string, secret: string, stored: string): Buffer {
    return createHash('sha256')
      .update(this.key)
      .update(id)
      .update('\0')
      .update(stored)
      .update('\0')
      .update(secret)
      .digest();
  }

  verify(id: string, secret: string, stored: string | undefined): boolean {
    if (stored !== undefined) {
      const known = this.seen.get(id);
      if (known && timingSafeEqual(known, this.digest(id, secret, stored))) return true;
    }
    const ok = verifySecret(secret, stored);
    if (ok && stored !== undefined) this.seen.set(id, this.digest(id, secret, stored));
    return ok;
  }

  forget(id: string): void {
    this.seen.delete(id);
  }
}
