/**
 * MQTT device secrets: generated once, shown once, stored only as a salted scrypt hash
 * (`scrypt$N$r$p$salt$hash`, base64url), verified in constant time.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

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

interface Parsed {
  readonly valid: boolean;
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parse(stored: string | undefined): Parsed {
  const parts = (stored ?? DUMMY).split('$');
  const valid =
    stored !== undefined &&
    parts.length === 6 &&
    parts[0] === 'scrypt' &&
    parts.slice(1, 4).every((x) => /^[0-9]{1,7}$/.test(x));
  const [, n, r, p, salt, hash] = valid ? parts : DUMMY.split('$');
  const expected = Buffer.from(hash!, 'base64url');
  return {
    valid,
    n: Number(n),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt!, 'base64url'),
    hash: expected.length ? expected : Buffer.alloc(KEYLEN),
  };
}

/** The same check as verifySecret, computed on the libuv thread pool so the event loop keeps serving. */
export function verifySecretAsync(secret: string, stored: string | undefined): Promise<boolean> {
  const h = parse(stored);
  return new Promise((resolve) => {
    scrypt(
      secret,
      h.salt,
      h.hash.length,
      { N: h.n, r: h.r, p: h.p, maxmem: 256 * 1024 * 1024 },
      (err, actual) => {
        if (err) {
          resolve(false);
          return;
        }
        resolve(timingSafeEqual(h.hash, actual) && h.valid);
      },
    );
  });
}

/**
 * Constant-time check of `secret` against a stored hash. A missing or malformed hash still costs one
 * scrypt, so timing does not tell whether a device id exists.
 */
export function verifySecret(secret: string, stored: string | undefined): boolean {
  const h = parse(stored);
  try {
    const actual = scryptSync(secret, h.salt, h.hash.length, {
      N: h.n,
      r: h.r,
      p: h.p,
      maxmem: 256 * 1024 * 1024,
    });
    return timingSafeEqual(h.hash, actual) && h.valid;
  } catch {
    return false;
  }
}

/**
 * Remembers secrets already verified in this process (as keyed digests, never the secret), so a
 * device reconnecting does not pay scrypt again. The look-up costs the same whether or not the id is
 * known or was verified before: one keyed digest, compared in constant time (crypto.timingSafeEqual)
 * with the remembered one or with a random one.
 */
export class VerifiedSecrets {
  private readonly key = randomBytes(32);
  private readonly unknown = randomBytes(32);
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

  /** True only for the secret this id last proved with `stored`; never runs scrypt. */
  knows(id: string, secret: string, stored: string | undefined): boolean {
    const actual = this.digest(id, secret, stored ?? DUMMY);
    const known = this.seen.get(id) ?? this.unknown;
    return timingSafeEqual(known, actual) && stored !== undefined;
  }

  verify(id: string, secret: string, stored: string | undefined): boolean {
    if (this.knows(id, secret, stored)) return true;
    const ok = verifySecret(secret, stored);
    if (ok && stored !== undefined) this.seen.set(id, this.digest(id, secret, stored));
    return ok;
  }

  async verifyAsync(id: string, secret: string, stored: string | undefined): Promise<boolean> {
    if (this.knows(id, secret, stored)) return true;
    const ok = await verifySecretAsync(secret, stored);
    if (ok && stored !== undefined) this.seen.set(id, this.digest(id, secret, stored));
    return ok;
  }

  forget(id: string): void {
    this.seen.delete(id);
  }
}
