/**
 * Protection of the local pages: the admin password (created at first start, handed over in a 0600
 * file until the first sign-in and on the terminal, reset by `medgw admin reset-password`, kept as a
 * scrypt hash in the data directory and checked on the thread pool), a stateless signed anti-forgery
 * value for the sign-in form (no server state before a successful sign-in), a bounded store of
 * server-side sessions with a synchronizer CSRF token each, the sign-in throttle (per address and
 * global), and API tokens for providers' scripts (kept as SHA-256 digests; shown once).
 */
import { createHash, createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { MedgwError } from '../../kernel/errors.ts';
import type { Clock } from '../contracts.ts';
import { FILES } from '../datadir.ts';

export const WEB_FILES = {
  password: FILES.webPassword,
  tokens: 'web-api-tokens.json',
  /** The generated password itself, when it could not be shown on a terminal; removed at the first sign-in. */
  initialPassword: 'admin-password.txt',
} as const;

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

/** The same hash on the libuv thread pool: a sign-in never blocks the event loop for the scrypt time. */
function hashPasswordAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, SCRYPT.keylen, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
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

type PasswordLog = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
type Terminal = { readonly isTTY?: boolean; write(text: string): unknown };

/** Where the generated admin password waits for the first sign-in (0600, in the 0700 data directory). */
export function initialPasswordPath(dataDir: string): string {
  return join(dataDir, WEB_FILES.initialPassword);
}

function writeInitialPasswordFile(dataDir: string, password: string): string {
  const path = initialPasswordPath(dataDir);
  writeAtomic(
    path,
    `${password}\n# the admin password of the medgw local pages; this file is removed at the first sign-in\n`,
  );
  return path;
}

/**
 * Hands the admin password created at first start to the person starting the gateway: always into
 * a 0600 file of the data directory, kept until the first sign-in, so a start that fails after this
 * point (a busy port) loses nothing and the next start can say where it is (announcePendingPassword);
 * on the terminal too when stdout is one. Never into a log stream (a service manager or a pipe would
 * keep it): the log says where, not what.
 */
export function deliverAdminPassword(
  password: string,
  o: { readonly dataDir: string; readonly log: PasswordLog; readonly terminal?: Terminal },
): void {
  const terminal = o.terminal ?? process.stdout;
  const path = writeInitialPasswordFile(o.dataDir, password);
  if (terminal.isTTY === true) {
    terminal.write(
      `medgw: admin password for the local pages: ${password}\n  (also in ${path} until the first sign-in)\n`,
    );
    o.log.info(
      { path },
      'admin password for the local pages shown on the terminal and kept in this 0600 file until the first sign-in',
    );
    return;
  }
  o.log.warn(
    { path },
    'admin password for the local pages written to this 0600 file (stdout is not a terminal); it is removed at the first sign-in',
  );
}

/**
 * At a start after the first one, before anybody signed in: says where the admin password is (the
 * file of deliverAdminPassword), in the log and on the terminal, never what it is. False when there
 * is no such file (somebody signed in, or the password was shown by `medgw admin reset-password`).
 */
export function announcePendingPassword(o: {
  readonly dataDir: string;
  readonly log: PasswordLog;
  readonly terminal?: Terminal;
}): boolean {
  const path = initialPasswordPath(o.dataDir);
  if (!existsSync(path)) return false;
  const terminal = o.terminal ?? process.stdout;
  if (terminal.isTTY === true) terminal.write(`medgw: no sign-in yet; the admin password is in ${path}\n`);
  o.log.warn({ path }, 'no sign-in yet: the admin password for the local pages is in this 0600 file');
  return true;
}

/**
 * `medgw admin reset-password`: a new generated password replaces the hash (the same scrypt hash as
 * at first start), shown once on the terminal when stdout is one, else written to the 0600 file of
 * the first start; a file left with an older password is removed either way. The caller holds the
 * data-directory lock (sessions live in the gateway's memory: they end with the process).
 */
export function resetAdminPassword(
  dataDir: string,
  clock: Clock,
  terminal: Terminal,
): { readonly shown: 'terminal' } | { readonly shown: 'file'; readonly path: string } {
  const password = newPassword();
  new AdminPassword(dataDir).set(password, clock);
  if (terminal.isTTY === true) {
    removeInitialPasswordFile(dataDir);
    terminal.write(`new admin password for the local pages (shown once): ${password}\n`);
    return { shown: 'terminal' };
  }
  return { shown: 'file', path: writeInitialPasswordFile(dataDir, password) };
}

/** Removes the file deliverAdminPassword may have written: once somebody signed in, it has served. */
export function removeInitialPasswordFile(dataDir: string): boolean {
  const path = initialPasswordPath(dataDir);
  if (!existsSync(path)) return false;
  rmSync(path, { force: true });
  return true;
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

  /**
   * Constant-time check of a password against the stored hash; scrypt runs on the thread pool, so
   * the event loop (MQTT acknowledgements, other pages) keeps running meanwhile.
   */
  async verify(password: string): Promise<boolean> {
    let file: PasswordFile;
    try {
      file = JSON.parse(await readFile(this.path, 'utf8')) as PasswordFile;
    } catch (e) {
      throw new MedgwError('MEDGW_ERR_WEB_PASSWORD', `cannot read ${this.path}: ${(e as Error).message}`);
    }
    if (file.scheme !== 'scrypt') {
      throw new MedgwError('MEDGW_ERR_WEB_PASSWORD', `${this.path} holds an unknown password scheme`);
    }
    const expected = Buffer.from(file.hash, 'base64');
    const actual = await hashPasswordAsync(
      password,
      Buffer.from(file.salt, 'base64'),
      file.N,
      file.r,
      file.p,
    );
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

/**
 * The anti-forgery value of the sign-in form, kept nowhere on the server: `nonce.issuedAt.mac`,
 * with an HMAC-SHA-256 under a secret of this process, sent both as a cookie and as a form field
 * (the "signed double-submit cookie" of the OWASP CSRF Prevention Cheat Sheet). A client can no
 * longer choose the value, and showing the sign-in page costs no memory.
 */
export class SignInForms {
  private readonly key: Buffer;

  constructor(
    private readonly clock: Clock,
    /** How long a sign-in page stays usable. */
    private readonly ttlMs = 3600_000,
    key?: Buffer,
  ) {
    this.key = key ?? randomBytes(32);
  }

  private mac(nonce: string, at: string): string {
    return createHmac('sha256', this.key).update(`medgw-sign-in.${nonce}.${at}`).digest('base64url');
  }

  issue(): string {
    const nonce = randomBytes(18).toString('base64url');
    const at = this.clock.now().toString(36);
    return `${nonce}.${at}.${this.mac(nonce, at)}`;
  }

  /** The cookie and the field carry the same value, signed by this process, and not expired. */
  check(cookie: unknown, submitted: unknown): boolean {
    if (typeof cookie !== 'string' || typeof submitted !== 'string' || cookie.length > 200) return false;
    if (!sameText(cookie, submitted)) return false;
    const [nonce, at, mac, extra] = cookie.split('.');
    if (!nonce || !at || !mac || extra !== undefined) return false;
    if (!sameText(mac, this.mac(nonce, at))) return false;
    const age = this.clock.now() - Number.parseInt(at, 36);
    return Number.isFinite(age) && age >= -60_000 && age <= this.ttlMs;
  }
}

/** Constant-time equality of two strings (compared through their SHA-256, so lengths may differ). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

// sessions and their CSRF tokens are the HTTP layer's (gateway/http/session.ts)
export { csrfMatches, type Session, Sessions } from '../http/session.ts';

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
 * Slows down password guessing, twice over:
 * - per address: after `maxFailures` wrong passwords from one address within `windowMs`, sign-in
 *   from that address is refused for `lockMs` (even with the right password);
 * - globally: beyond `globalBudget` wrong passwords from all addresses together within `windowMs`
 *   (a spray from many addresses), every sign-in waits for a back-off that doubles with each further
 *   failure, from `backoffBaseMs` to at most `backoffMaxMs`. The back-off is short and bounded, so
 *   nobody can lock the admin out for longer than `backoffMaxMs`, and a spray is held to about one
 *   guess per `backoffMaxMs`.
 * The addresses remembered are bounded (`maxAddresses`, the oldest forgotten first).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; first: number; lockedUntil?: number }>();
  private global = { count: 0, first: 0, until: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly options: {
      readonly maxFailures?: number;
      readonly windowMs?: number;
      readonly lockMs?: number;
      readonly globalBudget?: number;
      readonly backoffBaseMs?: number;
      readonly backoffMaxMs?: number;
      readonly maxAddresses?: number;
    } = {},
  ) {}

  private get windowMs(): number {
    return this.options.windowMs ?? 15 * 60_000;
  }

  /** Ms until this address may try again (its own lock or the global back-off), or 0. */
  lockedFor(address: string): number {
    const now = this.clock.now();
    const global = Math.max(0, this.global.until - now);
    const f = this.failures.get(address);
    if (!f?.lockedUntil) return global;
    if (f.lockedUntil <= now) {
      this.failures.delete(address);
      return global;
    }
    return Math.max(global, f.lockedUntil - now);
  }

  fail(address: string): void {
    const now = this.clock.now();
    // global budget
    if (now - this.global.first > this.windowMs) this.global = { count: 0, first: now, until: 0 };
    this.global.count += 1;
    const over = this.global.count - (this.options.globalBudget ?? 20);
    if (over > 0) {
      const base = this.options.backoffBaseMs ?? 1000;
      const wait = Math.min(this.options.backoffMaxMs ?? 30_000, base * 2 ** Math.min(over - 1, 30));
      this.global.until = now + wait;
    }
    // per address
    const f = this.failures.get(address);
    if (!f || now - f.first > this.windowMs) {
      this.failures.delete(address);
      while (this.failures.size >= (this.options.maxAddresses ?? 10_000)) {
        const oldest = this.failures.keys().next().value;
        if (oldest === undefined) break;
        this.failures.delete(oldest);
      }
      this.failures.set(address, { count: 1, first: now });
      return;
    }
    f.count += 1;
    if (f.count >= (this.options.maxFailures ?? 5)) f.lockedUntil = now + (this.options.lockMs ?? 60_000);
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }

  /** Addresses remembered (for tests and metrics). */
  get addresses(): number {
    return this.failures.size;
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
function plainAddress(address: string): string {
  const a = address.trim();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * The address a sign-in comes from, for the throttle. The socket's peer, unless that peer is the
 * configured trusted reverse proxy: then the last address of X-Forwarded-For, the one that proxy
 * appended itself (the entries before it are whatever the client chose to send). A forwarded header
 * from anyone else is ignored, so nobody can pose as another address to lock it out.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxy: string | undefined,
): string {
  const socket = plainAddress(peer ?? 'unknown');
  if (trustedProxy === undefined || socket !== plainAddress(trustedProxy)) return socket;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const last = plainAddress(header.split(',').at(-1) ?? '');
  return isIP(last) ? last : socket;
}
