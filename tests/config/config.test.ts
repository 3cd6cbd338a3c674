import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, splitConfigFlags } from '../../gateway/config/load.ts';
import { configKeys, envName } from '../../gateway/config/schema.ts';
import { configDoc } from '../../scripts/gen/config-doc.ts';

const dir = mkdtempSync(join(tmpdir(), 'medgw-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('configuration', () => {
  it('runs with no configuration on embedded defaults', () => {
    const c = loadConfig({ cwd: dir });
    expect(c.dataDir).toBe(join(dir, '.medgw'));
    expect(c.mqtt).toMatchObject({ mode: 'embedded', port: 1883 });
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.ble.mode).toBe('auto');
    expect(c.national.baseUrl).toBeUndefined();
  });

  it('timezone defaults to the system time zone; a named IANA zone wins; an unknown one is refused', () => {
    const saved = process.env.TZ;
    try {
      // Node re-reads the zone when TZ is assigned (the system zone the gateway runs in).
      process.env.TZ = 'Asia/Tokyo';
      expect(loadConfig({ cwd: dir }).timezone).toBe('Asia/Tokyo');
      process.env.TZ = 'America/Sao_Paulo';
      expect(loadConfig({ cwd: dir }).timezone).toBe('America/Sao_Paulo');
      expect(loadConfig({ cwd: dir, env: { MEDGW_TIMEZONE: 'Europe/Paris' } }).timezone).toBe('Europe/Paris');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    const e = refusal(() => loadConfig({ cwd: dir, env: { MEDGW_TIMEZONE: 'Europe/Lutece' } }));
    expect(e.code).toBe('MEDGW_ERR_CONFIG');
    expect(e.message).toContain('timezone: expected an IANA time zone name such as Europe/Paris');
  });

  it('layers file < environment < flags', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      'mqtt:\n  port: 2000\nhttp:\n  port: 2001\nble:\n  mode: "off"\njournal:\n  maxReadings: 10\n',
    );
    const c = loadConfig({
      cwd: dir,
      file,
      env: { MEDGW_HTTP_PORT: '3001', MEDGW_JOURNAL_MAX_READINGS: '20', MEDGW_FORWARDER_RETRY_JITTER: '0.5' },
      overrides: { 'http.port': '4001', dataDir: undefined },
    });
    expect(c.mqtt.port).toBe(2000);
    expect(c.http.port).toBe(4001);
    expect(c.ble.mode).toBe('off');
    expect(c.journal.maxReadings).toBe(20);
    expect(c.forwarder.retry.jitter).toBe(0.5);
  });

  it('reads JSON files too', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ national: { baseUrl: 'https://mes.example.org/api' } }));
    expect(loadConfig({ cwd: dir, file }).national.baseUrl).toBe('https://mes.example.org/api');
  });

  it('names the key, what is expected and where the value came from', () => {
    const e1 = refusal(() => loadConfig({ env: { MEDGW_MQTT_PORT: 'abc' } }));
    expect(e1.code).toBe('MEDGW_ERR_CONFIG');
    expect(e1.message).toContain(
      'mqtt.port: expected an integer from 0 to 65535, got "abc" (from MEDGW_MQTT_PORT)',
    );
    const e2 = refusal(() => loadConfig({ overrides: { 'ble.mode': 'bluetooth' } }));
    expect(e2.message).toContain(
      'ble.mode: expected one of auto, sim, hci, dbus, off, got "bluetooth" (from the command line)',
    );
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'mqtt:\n  prot: 1883\n');
    const e3 = refusal(() => loadConfig({ file }));
    expect(e3.message).toMatch(/mqtt\.prot: unknown key; known here: mode, host, port/);
    const e4 = refusal(() => loadConfig({ env: { MEDGW_TIMEZONE: 'Mars/Olympus' } }));
    expect(e4.message).toContain('timezone: expected an IANA time zone name');
    const e5 = refusal(() => loadConfig({ env: { MEDGW_MQTT_MODE: 'external' } }));
    expect(e5.message).toContain('mqtt.external.url');
    const e6 = refusal(() => loadConfig({ file: join(dir, 'missing.yaml') }));
    expect(e6.code).toBe('MEDGW_ERR_CONFIG');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mqtt: [1, 2\n');
    expect(refusal(() => loadConfig({ file: bad })).code).toBe('MEDGW_ERR_CONFIG');
  });

  it('never echoes a password it refuses', () => {
    const e = refusal(() => loadConfig({ overrides: { 'mqtt.external.password': 12345 }, env: {} }));
    expect(e.message).toContain('mqtt.external.password');
    expect(e.message).not.toContain('12345');
  });

  it('derives environment names from the key paths', () => {
    expect(envName(['forwarder', 'consentGraceMs'])).toBe('MEDGW_FORWARDER_CONSENT_GRACE_MS');
    const names = configKeys().keys.map((k) => k.env);
    expect(names).toContain('MEDGW_MQTT_EXTERNAL_URL');
    expect(new Set(names).size).toBe(names.length);
  });

  it('splits configuration flags from command arguments', () => {
    expect(
      splitConfigFlags(['list', '--data-dir', '/x', '--json', '--http-port=9', '--config', 'c.yaml']),
    ).toEqual({
      file: 'c.yaml',
      overrides: { dataDir: '/x', 'http.port': '9' },
      rest: ['list', '--json'],
    });
    expect(refusal(() => splitConfigFlags(['--mqtt-port'])).code).toBe('MEDGW_ERR_USAGE');
  });

  it('docs/configuration.md is what the schema generates and lists every key', () => {
    const { path, content } = configDoc();
    expect(readFileSync(path, 'utf8')).toBe(content);
    for (const k of configKeys().keys) expect(content).toContain(`\`${k.env}\``);
  });
});
