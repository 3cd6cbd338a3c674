/**
 * MQTT device secrets: 256 random bits generated once and shown once, stored only as their SHA-256
 * (`sha256$<digest, base64url>`), checked in constant time (crypto.timingSafeEqual).
 *
 * Why SHA-256 and no key, no salt, no scrypt: the secret is not a password but 256 random bits, so no
 * dictionary or brute force reaches it and a salt or a slow hash adds nothing; NIST SP 800-63B §5.1.2.2
 * asks for "an approved one-way function" for secrets of at least 112 bits of entropy, a salted
 * password-hashing scheme only below that. A per-installation HMAC key would add a file to keep beside
 * the registry, to back up with it and to share between instances using one registry (PostgreSQL), and
 * would protect nothing more. The check is one hash of a short string: no thread pool, no queue needed.
 *
 * Older records (`scrypt$N$r$p$salt$hash`, before this change) still verify (scrypt, on the thread pool)
 * and are rewritten to the fast hash on the device's next successful login (the registry's
 * upgradeDeviceSecret): the clear secret is needed for that, so it cannot happen at start.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const SHA256 = 'sha256$';

/** How a stored device secret is hashed: `sha256` (current) or `scrypt` (older records, migrated at login). */
export type SecretHashKind = 'sha256' | 'scrypt';

/**
 * A new device secret: 32 random bytes (256 bits), base64url without padding (43 characters). Base64url
 * rather than hex: shorter to type into a device (43 characters against 64), and its alphabet
 * (A-Z a-z 0-9 - _) needs no quoting in a shell, a URL, JSON, YAML or an MQTT password field.
 */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** The stored form of a secret: `sha256$` and the SHA-256 of its UTF-8 bytes, base64url. */
export function hashSecret(secret: string): string {
  return `${SHA256}${digest(secret).toString('base64url')}`;
}

const SHA256_FORM = /^sha256\$[A-Za-z0-9_-]{43}$/;
const SCRYPT_FORM = /^scrypt\$[0-9]{1,7}\$[0-9]{1,7}\$[0-9]{1,7}\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/;

/** The kind of a well-formed stored hash, or undefined (a raw secret, a truncated or unknown form). */
export function secretHashKind(stored: string | undefined): SecretHashKind | undefined {
  if (stored === undefined) return undefined;
  if (SHA256_FORM.test(stored)) return 'sha256';
  if (SCRYPT_FORM.test(stored)) return 'scrypt';
  return undefined;
}

/** Stands in for a missing or unusable fast hash: the digest of a random secret nothing sends. */
const DUMMY = hashSecret(randomBytes(32).toString('base64url'));

/**
 * The fast check: one form test, one decode, one SHA-256 and one constant-time comparison, the same
 * work whether `stored` is a fast hash, a malformed one or missing (an unknown id): timing does not
 * tell an unknown id from a wrong secret.
 */
function verifyFast(secret: string, stored: string | undefined): boolean {
  const candidate = stored ?? DUMMY;
  const fast = SHA256_FORM.test(candidate) && stored !== undefined;
  const expected = Buffer.from((fast ? candidate : DUMMY).slice(SHA256.length), 'base64url');
  return timingSafeEqual(expected, digest(secret)) && fast;
}

interface Scrypt {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseScrypt(stored: string): Scrypt | undefined {
  if (secretHashKind(stored) !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash!, 'base64url');
  if (expected.length === 0) return undefined;
  return { n: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt!, 'base64url'), hash: expected };
}

const SCRYPT_MAXMEM = 256 * 1024 * 1024;

/**
 * Constant-time check of `secret` against a stored hash. A fast hash, a missing or malformed one cost
 * one SHA-256; an older scrypt record costs its scrypt (on this thread: verifySecretAsync for the pool).
 */
export function verifySecret(secret: string, stored: string | undefined): boolean {
  const legacy = stored === undefined ? undefined : parseScrypt(stored);
  if (!legacy) return verifyFast(secret, stored);
  try {
    const actual = scryptSync(secret, legacy.salt, legacy.hash.length, {
      N: legacy.n,
      r: legacy.r,
      p: legacy.p,
      maxmem: SCRYPT_MAXMEM,
    });
    return timingSafeEqual(legacy.hash, actual);
  } catch {
    return false;
  }
}

/** The same check as verifySecret; an older scrypt record is computed on the libuv thread pool. */
export function verifySecretAsync(secret: string, stored: string | undefined): Promise<boolean> {
  const legacy = stored === undefined ? undefined : parseScrypt(stored);
  if (!legacy) return Promise.resolve(verifyFast(secret, stored));
  return new Promise((resolve) => {
    scrypt(
      secret,
      legacy.salt,
      legacy.hash.length,
      { N: legacy.n, r: legacy.r, p: legacy.p, maxmem: SCRYPT_MAXMEM },
      (err, actual) => resolve(!err && timingSafeEqual(legacy.hash, actual)),
    );
  });
}

/**
 * The registry's secret checks. `knows` is the cheap answer the broker asks first: a fast-hash record
 * is checked directly (one SHA-256); an older scrypt record only if this device proved this very
 * secret in this process (remembered as a keyed digest, never the secret); an unknown id costs the
 * same digest and a comparison with a random one.
 */
export class VerifiedSecrets {
  private readonly key = randomBytes(32);
  private readonly unknown = randomBytes(32);
  /** Scrypt records proven in this process, until they are migrated (or forgotten). */
  private readonly seen = new Map<string, Buffer>();

  private remembered(id: string, secret: string, stored: string): Buffer {
    return createHash('sha256')
      .update(this.key)
      .update(id)
      .update('\0')
      .update(stored)
      .update('\0')
      .update(secret)
      .digest();
  }

  /** True for the right secret of a fast-hash record, or of a scrypt record proven before; never runs scrypt. */
  knows(id: string, secret: string, stored: string | undefined): boolean {
    // an unknown id runs the same form test as a known one (on the dummy), then the same fast check
    if (secretHashKind(stored ?? DUMMY) !== 'scrypt') return verifyFast(secret, stored);
    const actual = this.remembered(id, secret, stored as string);
    return timingSafeEqual(this.seen.get(id) ?? this.unknown, actual);
  }

  verify(id: string, secret: string, stored: string | undefined): boolean {
    if (this.knows(id, secret, stored)) return true;
    const ok = verifySecret(secret, stored);
    if (ok && secretHashKind(stored) === 'scrypt') this.seen.set(id, this.remembered(id, secret, stored!));
    return ok;
  }

  async verifyAsync(id: string, secret: string, stored: string | undefined): Promise<boolean> {
    if (this.knows(id, secret, stored)) return true;
    const ok = await verifySecretAsync(secret, stored);
    if (ok && secretHashKind(stored) === 'scrypt') this.seen.set(id, this.remembered(id, secret, stored!));
    return ok;
  }

  forget(id: string): void {
    this.seen.delete(id);
  }
}
