/**
 * Loads the configuration: schema defaults < file (`--config`, YAML or JSON) < environment
 * (MEDGW_* derived from the key path) < command-line flags. Any invalid value stops start-up with
 * MEDGW_ERR_CONFIG naming the key, what is expected and where the value came from.
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { MedgwError } from '../../kernel/errors.ts';
import { type Config, type ConfigKey, ConfigSchema, configKeys } from './schema.ts';

/** Flags every command accepts, mapped to their key path. `--config` names the file. */
export const CONFIG_FLAGS: Readonly<Record<string, string>> = {
  'data-dir': 'dataDir',
  'mqtt-port': 'mqtt.port',
  'http-port': 'http.port',
  ble: 'ble.mode',
  'sandbox-port': 'national.sandboxPort',
  'log-level': 'log.level',
};

export interface ConfigSources {
  /** Path of a YAML or JSON configuration file. */
  readonly file?: string | undefined;
  /** Environment (MEDGW_* variables are read). Defaults to none, so tests stay hermetic. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values by dotted key path (`mqtt.port`), from flags or from code. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Directory relative paths are resolved against (default: the working directory). */
  readonly cwd?: string;
}

type Origin = 'file' | 'env' | 'flag';

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
}

function getPath(source: unknown, path: readonly (string | number | symbol)[]): unknown {
  let node = source;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number | symbol, unknown>)[key];
  }
  return node;
}

function coerce(key: ConfigKey, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if ((key.type === 'integer' || key.type === 'number') && /^-?[0-9]+(\.[0-9]+)?$/.test(raw.trim())) {
    return Number(raw);
  }
  if (key.type === 'boolean' && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  return raw;
}

function expected(key: ConfigKey | undefined): string {
  if (!key) return 'a valid value';
  if (key.enum) return `one of ${key.enum.join(', ')}`;
  if (key.type === 'integer' || key.type === 'number') {
    const noun = key.type === 'integer' ? 'an integer' : 'a number';
    if (key.minimum !== undefined && key.maximum !== undefined)
      return `${noun} from ${key.minimum} to ${key.maximum}`;
    if (key.minimum !== undefined) return `${noun} ≥ ${key.minimum}`;
    return noun;
  }
  if (key.format === 'uri') return 'a URL such as https://host/path';
  return 'a non-empty string';
}

function readFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      `cannot read the configuration file ${file}: ${(e as Error).message}`,
    );
  }
  try {
    const parsed: unknown = extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the top level must be a mapping of keys');
    }
    return parsed;
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      `configuration file ${file} cannot be parsed: ${(e as Error).message}`,
    );
  }
}

/** Builds and validates the configuration from its sources. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const cwd = sources.cwd ?? process.cwd();
  const { keys } = configKeys();
  const byPath = new Map(keys.map((k) => [k.path.join('.'), k]));
  const origin = new Map<string, Origin>();
  const input = (sources.file ? readFile(resolve(cwd, sources.file)) : {}) as Record<string, unknown>;
  for (const k of keys) if (getPath(input, k.path) !== undefined) origin.set(k.path.join('.'), 'file');
  for (const k of keys) {
    const v = sources.env?.[k.env];
    if (v !== undefined && v !== '') {
      setPath(input, k.path, coerce(k, v));
      origin.set(k.path.join('.'), 'env');
    }
  }
  for (const [dotted, v] of Object.entries(sources.overrides ?? {})) {
    const key = byPath.get(dotted);
    if (!key) {
      throw new MedgwError('MEDGW_ERR_CONFIG', `${dotted}: unknown configuration key`);
    }
    if (v === undefined) continue;
    setPath(input, key.path, coerce(key, v));
    origin.set(dotted, 'flag');
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw configError(parsed.error, input, byPath, origin, sources.file);
  const config = parsed.data;
  if (config.mqtt.mode === 'external' && !config.mqtt.external.url) {
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      'mqtt.external.url: expected a broker URL (mqtt://host:1883) when mqtt.mode is external',
    );
  }
  if ((config.mqtt.tls.cert === undefined) !== (config.mqtt.tls.key === undefined)) {
    throw new MedgwError('MEDGW_ERR_CONFIG', 'mqtt.tls: expected both cert and key, or neither');
  }
  return {
    ...config,
    dataDir: resolve(cwd, config.dataDir),
    mqtt: {
      ...config.mqtt,
      tls: {
        ...config.mqtt.tls,
        ...(config.mqtt.tls.cert ? { cert: resolve(cwd, config.mqtt.tls.cert) } : {}),
        ...(config.mqtt.tls.key ? { key: resolve(cwd, config.mqtt.tls.key) } : {}),
      },
    },
  };
}

function configError(
  error: z.ZodError,
  input: unknown,
  byPath: Map<string, ConfigKey>,
  origin: Map<string, Origin>,
  file: string | undefined,
): MedgwError {
  const lines = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.map(String);
      const known = [...byPath.keys()]
        .filter((p) => p.split('.').slice(0, where.length).join('.') === where.join('.'))
        .map((p) => p.split('.')[where.length])
        .filter((v, i, a) => a.indexOf(v) === i);
      return issue.keys
        .map(
          (k) =>
            `${[...where, k].join('.')}: unknown key${known.length ? `; known here: ${known.join(', ')}` : ''}`,
        )
        .join('; ');
    }
    const dotted = issue.path.map(String).join('.');
    const key = byPath.get(dotted);
    const value = getPath(input, issue.path);
    const from = origin.get(dotted);
    const source =
      from === 'env' && key
        ? ` (from ${key.env})`
        : from === 'file'
          ? ` (from ${file})`
          : from === 'flag'
            ? ' (from the command line)'
            : '';
    const secret = /password|secret|token|key$/i.test(dotted) && dotted !== 'mqtt.tls.key';
    const got = secret ? '' : `, got ${JSON.stringify(value)}`;
    const detail = issue.code === 'custom' ? issue.message : expected(key);
    return `${dotted || '(top level)'}: expected ${detail}${got}${source}`;
  });
  return new MedgwError('MEDGW_ERR_CONFIG', lines.join('\n'), { issues: lines });
}

/**
 * Splits the configuration flags (`--config`, `--data-dir`, `--mqtt-port`, …) from a command's own
 * arguments. Accepts `--flag value` and `--flag=value`.
 */
export function splitConfigFlags(args: readonly string[]): {
  file: string | undefined;
  overrides: Record<string, string>;
  rest: string[];
} {
  let file: string | undefined;
  const overrides: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = m?.[1];
    if (!m || !name || (name !== 'config' && !(name in CONFIG_FLAGS))) {
      rest.push(arg);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new MedgwError('MEDGW_ERR_USAGE', `--${name} needs a value`);
      }
      i++;
    }
    if (name === 'config') file = value;
    else overrides[CONFIG_FLAGS[name]!] = value;
  }
  return { file, overrides, rest };
}

/** Loads the configuration for a command: its flags, MEDGW_CONFIG / MEDGW_* from the environment. */
export function configFromArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): { config: Config; rest: string[] } {
  const { file, overrides, rest } = splitConfigFlags(args);
  const config = loadConfig({ file: file ?? env.MEDGW_CONFIG, env, overrides });
  return { config, rest };
}
