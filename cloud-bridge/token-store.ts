/**
 * Pairing links and their tokens, encrypted at rest with AES-256-GCM (NIST SP 800-38D): one file
 * `<dataDir>/tokens.enc`, written atomically. The key comes from MEDGW_TOKEN_KEY (64 hex digits) or
 * from `<dataDir>/token.key`, created with mode 0600 and refused when others can read it.
 * Nothing in here is ever logged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { MedgwError } from '../kernel/errors.ts';
import type { ConsentKind } from './profiles.ts';

/** One patient's link with the national side. */
export interface PatientLink {
  readonly patientId: string;
  readonly idPe: string;
  /** Assigning authority OID of the idPe (subject.identifier.system). */
  readonly pairingOid: string;
  /** OID of this solution as the national side knows it (meta.source root, 409 check). */
  readonly solutionOid: string;
  readonly accessToken: string;
  readonly idToken: string;
  readonly refreshToken?: string;
  /** Access token expiry, ms since the epoch. */
  readonly expiresAt: number;
  readonly scope?: string;
  readonly linkedAt: number;
  /** `reauth-required` once the refresh token is refused; `consent-withdrawn` after a 403 consent. */
  readonly status: 'linked' | 'reauth-required' | 'consent-withdrawn';
  /** Kinds the patient consented to on the national side at pairing (granted scopes). */
  readonly grantedKinds?: readonly ConsentKind[];
  /** The patient's local choice of kinds to send; absent = every granted kind. */
  readonly kinds?: readonly ConsentKind[];
}

const AAD = Buffer.from('medgw-tokens-v1');

/** Loads or creates the 32-byte key. */
export function loadTokenKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.MEDGW_TOKEN_KEY;
  if (fromEnv !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(fromEnv)) {
      throw new MedgwError('MEDGW_ERR_TOKEN_KEY', 'MEDGW_TOKEN_KEY must be 64 hex digits (32 bytes)');
    }
    return Buffer.from(fromEnv, 'hex');
  }
  const path = join(dataDir, 'token.key');
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

export function encrypt(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return JSON.stringify({
    v: 1,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  });
}

export function decrypt(key: Buffer, sealed: string): string {
  try {
    const box = JSON.parse(sealed) as { v: number; iv: string; tag: string; data: string };
    if (box.v !== 1) throw new Error('version');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(box.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(box.data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new MedgwError('MEDGW_ERR_TOKEN_STORE');
  }
}

/**
 * Where pairing links live, keyed by local patient id: the encrypted file of one gateway (TokenStore
 * below) or a table several instances share (gateway/storage/tokens-postgres.ts). Reads answer from
 * the store's copy in memory (the forwarder and the pages read a link on every send and every page);
 * writes resolve once the link is durable. Tokens are encrypted at rest in every implementation, with
 * the key of loadTokenKey, which never goes into the store itself.
 */
export interface LinkStore {
  get(patientId: string): PatientLink | undefined;
  list(): PatientLink[];
  put(link: PatientLink): Promise<void>;
  /** Throws MEDGW_ERR_NOT_LINKED when the patient has no link. */
  update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink>;
  remove(patientId: string): Promise<boolean>;
  /**
   * The link as durable storage holds it now, past the copy in memory (which it refreshes): what a
   * refresh reads once it holds the patient's refresh lock, since another instance may have just
   * rotated the tokens.
   */
  fresh(patientId: string): Promise<PatientLink | undefined>;
}

/**
 * Serializes token refreshes of one patient across every process that shares a LinkStore (a
 * PostgreSQL advisory lock, gateway/storage/tokens-postgres.ts). Refresh tokens rotate: two
 * processes spending the same one make the provider revoke the whole chain.
 */
export interface RefreshLock {
  /** Runs `fn` while no other holder of the lock for `patientId` runs; releases it on return or throw. */
  withLock<T>(patientId: string, fn: () => Promise<T>): Promise<T>;
}

/** The encrypted file store of pairing links of one gateway (`<dataDir>/tokens.enc`). */
export class TokenStore implements LinkStore {
  readonly path: string;
  readonly #key: Buffer;
  #links: Map<string, PatientLink>;

  #stamp = '';

  constructor(dataDir: string, env: NodeJS.ProcessEnv = process.env) {
    this.#key = loadTokenKey(dataDir, env);
    this.path = join(dataDir, 'tokens.enc');
    this.#links = new Map();
    this.#sync();
  }

  /** Reloads when another process (the `medgw patient` command beside a running gateway) rewrote the file. */
  #sync(): void {
    let stamp = '';
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      stamp = '';
    }
    if (stamp === this.#stamp) return;
    this.#links = new Map();
    if (stamp !== '') {
      const list = JSON.parse(decrypt(this.#key, readFileSync(this.path, 'utf8'))) as PatientLink[];
      for (const link of list) this.#links.set(link.patientId, link);
    }
    this.#stamp = stamp;
  }

  get(patientId: string): PatientLink | undefined {
    this.#sync();
    return this.#links.get(patientId);
  }

  list(): PatientLink[] {
    this.#sync();
    return [...this.#links.values()];
  }

  /** Written before it returns (the promise only reports the outcome): a caller that does not wait still finds it. */
  async put(link: PatientLink): Promise<void> {
    this.#sync();
    this.#links.set(link.patientId, link);
    this.#save();
  }

  async update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink> {
    this.#sync();
    const current = this.#links.get(patientId);
    if (!current) throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${patientId} is not linked`);
    const next = { ...current, ...patch };
    this.#links.set(patientId, next);
    this.#save();
    return next;
  }

  async remove(patientId: string): Promise<boolean> {
    this.#sync();
    const had = this.#links.delete(patientId);
    if (had) this.#save();
    return had;
  }

  async fresh(patientId: string): Promise<PatientLink | undefined> {
    return this.get(patientId);
  }

  #save(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, encrypt(this.#key, JSON.stringify([...this.#links.values()])));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const st = statSync(this.path);
    this.#stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
  }

  /** Hides the tokens from console.log / util.inspect / pino serializers. */
  toJSON(): { path: string; links: number } {
    return { path: this.path, links: this.#links.size };
  }
}
