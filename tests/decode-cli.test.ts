/**
 * `medgw decode` through the real bin (node bin/medgw.mjs), as a person debugging a device runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as cborEncode } from 'cbor-x';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'medgw.mjs');

function medgw(args: string[], input?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [BIN, 'decode', ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'medgw-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Nordic Android-BLE-Common-Library GlucoseMeasurementDataCallbackTest, onGlucoseMeasurementReceived
const NORDIC_GLUCOSE = '1b 01 00 e3 07 02 1b 0b 0a 1e fb ff 1e 00 12 05 01';
// derdilla/blood-pressure-monitor-fl@17aba3d0 ble_measurement_data_test.dart "decodes beurer sample data"
const BM85 = '566a004700 0000ea07080b121f00003f000000';

describe('medgw decode <characteristic> <hex>', () => {
  it('prints characteristic, spec fields and normalized observations', () => {
    const r = medgw(['2A35', BM85, '--driver', 'beurer-bm85']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['characteristic', 'fields', 'observations']);
    expect(out.characteristic).toBe('2A35');
    expect(out.fields.systolic.value).toBe(106);
    expect(out.observations.map((o: { kind: string }) => o.kind)).toEqual(['blood-pressure', 'heart-rate']);
    expect(out.observations[1]).toMatchObject({
      kind: 'heart-rate',
      loinc: '8867-4',
      mdc: '149546',
      value: 63,
      unit: '/min',
      time: { device: '2026-08-11T18:31:00', quality: 'untrusted' },
    });
    expect(out.observations[1]).not.toHaveProperty('dataAbsentReason');
  });

  it('accepts the characteristic by name and shows a quarantine', () => {
    const out = JSON.parse(medgw(['glucose-measurement', NORDIC_GLUCOSE]).stdout);
    expect(out.characteristic).toBe('2A18');
    // The Nordic record says "sample size insufficient": the device's own word outweighs the range check.
    expect(out.observations[0].quarantine.code).toBe('MEDGW_ERR_DEVICE_REPORTED_INVALID');
  });

  it('a System ID shows the EUI-64, OUI first (Omron HEM-9200T as read: 71 10 00 fe ff 5f 49 b0)', () => {
    // HL7/phd input/examples/phd-711000FEFF5F49B0.B0495F001071.json: the bytes beside address B0:49:5F:00:10:71.
    const r = medgw(['system-id', '71 10 00 fe ff 5f 49 b0']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.characteristic).toBe('2A23');
    expect(out.fields.eui64).toBe('B0-49-5F-FF-FE-00-10-71');
    expect(out.observations).toEqual([]);
  });

  it('a control point has its meaning in fields and no observations', () => {
    const r = medgw(['2A52', '01 01']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.observations).toEqual([]);
    expect(Object.keys(out.fields).length).toBeGreaterThan(0);
  });

  it.each([
    [['2A18', '1b 01 0'], 'MEDGW_ERR_HEX'],
    [['2A18', '1b 01'], 'MEDGW_ERR_FRAME_TRUNCATED'],
    [['2A18', '3b 01 00 e3 07 02 1b 0b 0a 1e fb ff 1e 00 12 05 01'], 'MEDGW_ERR_RESERVED_VALUE'],
    [['2AFF', '00'], 'MEDGW_ERR_UNKNOWN_CHARACTERISTIC'],
    [['2A35', BM85, '--driver', 'no-such-cuff'], 'MEDGW_ERR_UNKNOWN_DRIVER'],
    [['2A18'], 'MEDGW_ERR_USAGE'],
    [['--bogus'], 'MEDGW_ERR_USAGE'],
  ])('malformed input %j exits 2 with %s on stderr and no stack trace', (args, code) => {
    const r = medgw(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`${code}: `)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('medgw decode --mqtt', () => {
  const reading = {
    kind: 'glucose',
    time: '2026-11-22T08:15:00+01:00',
    seq: 3,
    meal: 'fasting',
    values: { glucose: { value: 5.3, unit: 'mmol/L' } },
  };

  it('decodes a JSON file and a CBOR payload on stdin', () => {
    const file = join(dir, 'reading.json');
    writeFileSync(file, JSON.stringify(reading));
    const j = JSON.parse(medgw(['--mqtt', 'json', file]).stdout);
    expect(j.fields).toEqual(reading);
    expect(j.observations[0]).toMatchObject({
      kind: 'glucose',
      value: 95,
      unit: 'mg/dL',
      original: { value: 5.3, unit: 'mmol/L' },
      time: { device: '2026-11-22T08:15:00', utc: '2026-11-22T07:15:00.000Z', quality: 'untrusted' },
      context: { meal: 'fasting' },
    });
    const c = medgw(['--mqtt', 'cbor', '-'], cborEncode(reading));
    expect(c.status).toBe(0);
    expect(JSON.parse(c.stdout).observations).toEqual(j.observations);
  });

  it('refuses a bad payload naming the field, exit 2', () => {
    const r = medgw(
      ['--mqtt', 'json', '-'],
      JSON.stringify({ ...reading, values: { glucose: { value: 5, unit: 'g/L' } } }),
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^MEDGW_ERR_PAYLOAD_JSON: .*values\.glucose\.unit/);
    expect(medgw(['--mqtt', 'xml', '-'], '').status).toBe(2);
    expect(medgw(['--mqtt', 'protobuf', join(dir, 'missing.bin')]).stderr).toMatch(/^MEDGW_ERR_USAGE: /);
  });
});

describe('medgw decode --jsonl', () => {
  it('writes one result or one error per line and carries on', () => {
    const lines = [
      JSON.stringify({ characteristic: '2A35', hex: BM85, driver: 'beurer-bm85' }),
      'not json',
      JSON.stringify({ characteristic: '2A18', hex: '1b' }),
      '',
      JSON.stringify({ characteristic: '2A18' }),
      JSON.stringify({ characteristic: '2A52', hex: '0101' }),
    ];
    const r = medgw(['--jsonl'], `${lines.join('\n')}\n`);
    expect(r.status).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(5);
    expect(out[0].observations).toHaveLength(2);
    expect(out[1].error.code).toBe('MEDGW_ERR_JSONL_LINE');
    expect(out[2].error.code).toBe('MEDGW_ERR_FRAME_TRUNCATED');
    expect(out[3].error.code).toBe('MEDGW_ERR_JSONL_LINE');
    expect(out[4].characteristic).toBe('2A52');
  });
});

describe('medgw decode --list', () => {
  it('lists characteristics and driver ids', () => {
    const r = medgw(['--list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('2A18  glucose-measurement');
    expect(r.stdout).toContain('beurer-bm85');
    expect(r.stdout).toContain('generic-glucose');
  });
});
