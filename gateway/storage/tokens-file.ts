/**
 * The pairing links of one gateway in one file, `<dataDir>/tokens.enc`, sealed whole by the data
 * directory's Sealer (gateway/secrets: AES-256-GCM, the key from MEDGW_TOKEN_KEY or
 * `<dataDir>/token.key`), written atomically (temporary file, fsync, rename) and reloaded when another
 * process rewrote it. Nothing in here is ever logged.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LinkStore, PatientLink } from '../../cloud-bridge/token-store.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { openSealer, type Sealer } from '../secrets/index.ts';

/** The encrypted file store of pairing links of one gateway (`<dataDir>/tokens.enc`). */
export class TokenStore implements LinkStore {
  readonly path: string;
  readonly #sealer: Sealer;
  #links: Map<string, PatientLink>;

  #stamp = '';

  /** `sealer`: the data directory's (`openSealer(dataDir, env)`) unless given. */
  constructor(dataDir: string, env: NodeJS.ProcessEnv = process.env, sealer?: Sealer) {
    this.#sealer = sealer ?? openSealer(dataDir, env);
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
      const list = JSON.parse(this.#sealer.open(readFileSync(this.path, 'utf8'))) as PatientLink[];
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
      writeSync(fd, this.#sealer.seal(JSON.stringify([...this.#links.values()])));
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
