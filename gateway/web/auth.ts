/**
 * Protection of the local pages: the admin password (created at first start, shown once, kept as a
 * scrypt hash in the data directory), server-side sessions with a synchronizer CSRF token each, and
 * API tokens for providers' scripts (kept as SHA-256 digests; the token itself is shown once).
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MedgwError } from '../../drivers/errors.ts';
import type { Clock } from '../contracts.ts';

export const WEB_FILES = { password: 'web-admin.json', tokens: 'web-api-tokens.json' } as const;

/** scrypt cost parameters (RFC 7914 §2: N a power of two; r = 8, p = 1 are the usual interactive values). */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

interface PasswordFile {
  readonly scheme: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly hash: string;
  readonly createdAt: number;
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

function hashPassword(password: string, salt: Buffer, N: number, r: number, p: number): Buffer {
  return scryptSync(password, salt, SCRYPT.keylen, { N, r, p, maxmem: 128 * N * r * 2 });
}

/** Generates a password a person can type: 4 groups of 5 base-32 characters (100 bits). */
function newPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  let out = '';
  for (let i = 0; i < 20; i++) {
    out += alphabet[(bytes[i] ?? 0) % alphabet.length];
    if (i % 5 === 4 && i < 19) out += '-';
  }
  return out;
}

export class AdminPassword {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, WEB_FILES.password);
  }

  /**
   * Creates the password at first start and returns it (to be shown once); returns undefined when
   * one exists already. `initial` sets a chosen password instead of a generated one.
   */
  ensure(clock: Clock, initial?: string): string | undefined {
    if (existsSync(this.path)) return undefined;
    const password = initial ?? newPassword();
    this.set(password, clock);
    return password;
  }

  set(password: string, clock: Clock): void {
    if (password.length < 12) {
      throw new MedgwError('MEDGW_ERR_WEB_PASSWORD', 'the admin password must have at least 12 characters');
    }
    const salt = randomBytes(16);
    const file: PasswordFile = {
      scheme: 'scrypt',
      N: SCRYPT.N,
      r: SCRYPT.r,
      p: SCRYPT.p,
      salt: salt.toString('base64'),
      hash: hashPassword(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p).toString('base64'),
      createdAt: clock.now(),
    };
    writeAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Constant-time check of a password against the stored hash. */
  verify(password: string): boolean {
    let file: PasswordFile;
    try {
      file = JSON.parse(readFileSync(this.path, 'utf8')) as PasswordFile;
    } catch (e) {
      throw new MedgwError('MEDGW_ERR_WEB_PASSWORD', `cannot read ${this.path}: ${(e as Error).message}`);
    }
    if (file.scheme !== 'scrypt') {
      throw new MedgwError('MEDGW_ERR_WEB_PASSWORD', `${this.path} holds an unknown password scheme`);
    }
    const expected = Buffer.from(file.hash, 'base64');
    const actual = hashPassword(password, Buffer.from(file.salt, 'base64'), file.N, file.r, file.p);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** In-memory sessions: a restart logs everybody out, which is what a small gateway wants. */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    /** Idle time after which a session ends. */
    private readonly idleMs = 8 * 3600_000,
  ) {}

  create(): Session {
    this.sweep();
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: this.clock.now(),
      lastSeen: this.clock.now(),
    };
    this.byId.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (this.clock.now() - s.lastSeen > this.idleMs) {
      this.byId.delete(id);
      return undefined;
    }
    s.lastSeen = this.clock.now();
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, s] of this.byId) if (now - s.lastSeen > this.idleMs) this.byId.delete(id);
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0) return false;
  const a = createHash('sha256').update(session.csrf).digest();
  const b = createHash('sha256').update(submitted).digest();
  return timingSafeEqual(a, b);
}

export interface ApiTokenInfo {
  readonly id: string;
  readonly label: string;
  readonly createdAt: number;
}

interface StoredToken extends ApiTokenInfo {
  readonly digest: string;
}

const TOKEN_PREFIX = 'mgwp_';

function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** API tokens for providers' scripts (read access to the JSON views and the audit export). */
export class ApiTokens {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, WEB_FILES.tokens);
  }

  private read(): StoredToken[] {
    if (!existsSync(this.path)) return [];
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as StoredToken[];
    } catch (e) {
      throw new MedgwError('MEDGW_ERR_WEB_TOKEN', `cannot read ${this.path}: ${(e as Error).message}`);
    }
  }

  list(): ApiTokenInfo[] {
    return this.read().map(({ id, label, createdAt }) => ({ id, label, createdAt }));
  }

  /** Creates a token and returns it: the only time it is visible. */
  create(label: string, clock: Clock): { token: string; info: ApiTokenInfo } {
    const clean = label.trim();
    if (clean.length === 0 || clean.length > 80) {
      throw new MedgwError('MEDGW_ERR_WEB_FORM', 'the token label must have 1 to 80 characters');
    }
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const info: ApiTokenInfo = { id: randomBytes(6).toString('hex'), label: clean, createdAt: clock.now() };
    writeAtomic(
      this.path,
      `${JSON.stringify([...this.read(), { ...info, digest: tokenDigest(token) }], null, 2)}\n`,
    );
    return { token, info };
  }

  revoke(id: string): boolean {
    const all = this.read();
    const rest = all.filter((t) => t.id !== id);
    if (rest.length === all.length) return false;
    writeAtomic(this.path, `${JSON.stringify(rest, null, 2)}\n`);
    return true;
  }

  /** The token's info when it is valid (digest compared in constant time). */
  check(token: string): ApiTokenInfo | undefined {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const d = Buffer.from(tokenDigest(token), 'hex');
    for (const t of this.read()) {
      const e = Buffer.from(t.digest, 'hex');
      if (e.length === d.length && timingSafeEqual(e, d))
        return { id: t.id, label: t.label, createdAt: t.createdAt };
    }
    return undefined;
  }
}

/**
 * Slows down password guessing: after `maxFailures` wrong passwords from one address within
 * `windowMs`, sign-in from that address is refused for `lockMs` (even with the right password).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; first: number; lockedUntil?: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly lockMs = 60_000,
  ) {}

  /** Ms until this address may try again, or 0. */
  lockedFor(address: string): number {
    const f = this.failures.get(address);
    const now = this.clock.now();
    if (!f?.lockedUntil) return 0;
    if (f.lockedUntil <= now) {
      this.failures.delete(address);
      return 0;
    }
    return f.lockedUntil - now;
  }

  fail(address: string): void {
    const now = this.clock.now();
    const f = this.failures.get(address);
    if (!f || now - f.first > this.windowMs) {
      this.failures.set(address, { count: 1, first: now });
      return;
    }
    f.count += 1;
    if (f.count >= this.maxFailures) f.lockedUntil = now + this.lockMs;
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }
}
