/**
 * Logging: pino with redaction configured for everything that must never reach a log line —
 * measured values, names, identities, secrets, tokens, authorization headers. Components take a
 * child logger (`component: 'ble'`) and name devices by `shortId()` only.
 */
import { createHash } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys redacted wherever they appear (top level and nested up to four levels). */
export const REDACTED_KEYS: readonly string[] = [
  // measured values and clinical content
  'value',
  'values',
  'observation',
  'observations',
  'components',
  'original',
  'mantissa',
  'payload',
  'raw',
  'hex',
  'bundle',
  'body',
  // names and identities
  'displayName',
  'name',
  'firstName',
  'firstNames',
  'lastName',
  'birthName',
  'birthDate',
  'birthPlace',
  'sex',
  'ins',
  'nir',
  'idPe',
  'patientId',
  'patient',
  'email',
  'phone',
  'address',
  'systemId',
  'serial',
  'knownAs',
  'udi',
  // secrets and tokens
  'secret',
  'secretHash',
  'password',
  'passphrase',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'access_token',
  'refresh_token',
  'id_token',
  'code_verifier',
  'client_secret',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
  'apiKey',
  'privateKey',
  'key',
];

function redactPaths(): string[] {
  const out: string[] = [];
  for (const key of REDACTED_KEYS) {
    const k = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `["${key}"]`;
    const join = (prefix: string) => (k.startsWith('[') ? `${prefix}${k}` : prefix ? `${prefix}.${k}` : k);
    out.push(join(''), join('*'), join('*.*'), join('*.*.*'), join('*.*.*.*'));
  }
  return out;
}

export interface LogOptions {
  readonly level?: string;
  /** Where JSON lines go (default: standard output). Tests pass a stream to read them back. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: redactPaths(), censor: '[redacted]' },
      serializers: {
        // an error keeps its code and message, never its details (which may hold values)
        err: (e: unknown) => {
          if (!(e instanceof Error)) return { message: String(e) };
          const code = (e as { code?: unknown }).code;
          return { type: e.name, ...(typeof code === 'string' ? { code } : {}), message: e.message };
        },
      },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A short, stable, non-identifying name for a device in logs: the last two bytes of a MAC, or a
 * 6-character digest of any other id. Enough to correlate lines, not enough to identify a person.
 */
export function shortId(id: string): string {
  if (/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(id)) return `…${id.slice(-5).toUpperCase()}`;
  return `#${createHash('sha256').update(id).digest('hex').slice(0, 6)}`;
}
