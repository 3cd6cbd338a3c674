/**
 * Sealing at rest with AES-256-GCM (NIST SP 800-38D, §5.2.1.1: a 96-bit IV, never reused with a key,
 * here random per message; a 128-bit tag): what the gateway keeps secret in its stores (pairing links
 * and their tokens, UDS consent codes) is sealed by a Sealer, which holds the key and never shows it.
 * A sealed value is the JSON text `{"v":1,"iv","tag","data"}` (base64), bound to this use by its
 * additional authenticated data; the format is the one tokens.enc and the PostgreSQL link table have
 * always held, so existing data opens unchanged.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { MedgwError } from '../../kernel/errors.ts';

/** Seals and opens short secrets with a key it keeps to itself. */
export interface Sealer {
  seal(plain: string): string;
  /** Throws MEDGW_ERR_TOKEN_STORE when the value was altered or sealed with another key. */
  open(sealed: string): string;
  /**
   * Recognizes the key without revealing it (HMAC-SHA-256 of a fixed text under the key): a shared
   * store keeps it to refuse an instance started with another key.
   */
  fingerprint(): string;
}

const AAD = Buffer.from('medgw-tokens-v1');

interface Box {
  readonly v: number;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

export class AesGcmSealer implements Sealer {
  readonly #key: Buffer;

  /** `key`: 32 bytes (gateway/secrets/key.ts loads the data directory's). */
  constructor(key: Buffer) {
    if (key.length !== 32) throw new MedgwError('MEDGW_ERR_TOKEN_KEY', 'the sealing key must be 32 bytes');
    this.#key = Buffer.from(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const box: Box = {
      v: 1,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    return JSON.stringify(box);
  }

  open(sealed: string): string {
    try {
      const box = JSON.parse(sealed) as Box;
      if (box.v !== 1) throw new Error('version');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(box.iv, 'base64'));
      decipher.setAAD(AAD);
      decipher.setAuthTag(Buffer.from(box.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(box.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new MedgwError('MEDGW_ERR_TOKEN_STORE');
    }
  }

  fingerprint(): string {
    return createHmac('sha256', this.#key).update('medgw token key fingerprint v1').digest('base64url');
  }

  /** Hides the key from console.log / util.inspect / pino serializers. */
  toJSON(): { sealer: string } {
    return { sealer: 'aes-256-gcm' };
  }
}

/** A sealer whose key lives only in this process (tests, in-memory registries): nothing outlives it. */
export function processSealer(): Sealer {
  return new AesGcmSealer(randomBytes(32));
}
