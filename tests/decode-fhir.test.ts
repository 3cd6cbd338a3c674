/**
 * `medgw decode … --fhir`: the Bundle each reading of a frame would become. Every golden fixture goes
 * through it, and every Bundle it prints passes the profile validator over the ANS and PHD profiles the
 * project holds (simulators/sandbox/profile-validator.ts); the CLI is run through the real bin.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../drivers/decode.ts';
import { normalize } from '../drivers/normalize/index.ts';
import { parseHex } from '../drivers/reader.ts';
import { VOCABULARY } from '../drivers/vocabulary.ts';
import { readingsAsFhir } from '../gateway/cli/commands/decode-fhir.ts';
import { ERROR_CATALOGUE } from '../kernel/errors.ts';
import { validateMeasurementBundle } from '../simulators/sandbox/profile-validator.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'medgw.mjs');
const medgw = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [BIN, 'decode', ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

// derdilla/blood-pressure-monitor-fl@17aba3d0 ble_measurement_data_test.dart "decodes beurer sample data":
// 106/71 mmHg, pulse 63, taken 2026-08-11 18:31 (device local time).
const BM85 = '566a004700 0000ea07080b121f00003f000000';
const NOW = ['--now', '2026-08-12T10:00:00+02:00', '--timezone', 'Europe/Paris'];
// Omron HEM-9200T System ID as read (HL7/phd examples: beside address B0:49:5F:00:10:71).
const OMRON_SYSTEM_ID = '71 10 00 fe ff 5f 49 b0';

type Json = Record<string, unknown>;
const entries = (b: Json) => b.entry as { resource: Json }[];

describe('medgw decode --fhir', () => {
  it('a cuff frame with a pulse gives two Bundles that pass the profiles, addressed to the test patient', () => {
    const r = medgw([
      '2A35',
      BM85,
      '--driver',
      'beurer-bm85',
      '--fhir',
      ...NOW,
      '--system-id',
      OMRON_SYSTEM_ID,
      '--manufacturer',
      'OMRON HEALTHCARE',
      '--model',
      'HEM-9200T',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Json[];
    expect(out).toHaveLength(2);
    for (const bundle of out) {
      expect(validateMeasurementBundle(bundle)).toEqual([]);
      const [obs, device] = entries(bundle).map((e) => e.resource);
      // 18:31 in Paris in August is 16:31 UTC (summer time, the zone's rule at the reading's date).
      expect(Date.parse(obs?.effectiveDateTime as string)).toBe(Date.parse('2026-08-11T16:31:00Z'));
      expect(device?.manufacturer).toBe('OMRON HEALTHCARE');
      expect(JSON.stringify(device?.identifier)).toContain('B0-49-5F-FF-FE-00-10-71');
    }
    const codes = out.map((b) => {
      const code = entries(b)[0]?.resource.code as { coding: { code: string }[] } | undefined;
      return code?.coding[0]?.code;
    });
    expect(codes).toEqual(['85354-9', '8867-4']);
  });

  it('a frame with no reading gives [], a held reading its quarantine code and reason', () => {
    const cp = medgw(['2A52', '01 01', '--fhir', ...NOW]);
    expect(cp.status).toBe(0);
    expect(JSON.parse(cp.stdout)).toEqual([]);
    // Nordic GlucoseMeasurementDataCallbackTest: sample size insufficient, battery low, temperature too low.
    const g = medgw(['2A18', '1b 01 00 e3 07 02 1b 0b 0a 1e fb ff 1e 00 12 05 01', '--fhir', ...NOW]);
    expect(g.status).toBe(0);
    const out = JSON.parse(g.stdout);
    expect(out).toEqual([
      {
        quarantine: {
          code: 'MEDGW_ERR_DEVICE_REPORTED_INVALID',
          reason: expect.stringMatching(/sample size/),
        },
      },
    ]);
  });

  it('--jsonl --fhir prints one array per line', () => {
    const lines = [
      JSON.stringify({ characteristic: '2A35', hex: BM85, driver: 'beurer-bm85' }),
      JSON.stringify({ characteristic: '2A52', hex: '01 01' }),
    ].join('\n');
    const r = medgw(['--jsonl', '--fhir', ...NOW], `${lines}\n`);
    expect(r.status).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((a: unknown[]) => a.length)).toEqual([2, 0]);
  });

  it('refuses a bad option with a coded usage error', () => {
    for (const args of [
      ['2A35', BM85, '--driver', 'beurer-bm85', '--fhir', '--timezone', 'Mars/Olympus'],
      ['2A35', BM85, '--driver', 'beurer-bm85', '--fhir', '--now', 'yesterday'],
      ['2A35', BM85, '--driver', 'beurer-bm85', '--fhir', '--system-id', '00 00 00 00 00 00 00 00'],
      ['2A35', BM85, '--timezone', 'Europe/Paris'],
    ]) {
      const r = medgw(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('MEDGW_ERR_USAGE');
    }
  });
});

describe('every golden fixture through --fhir', () => {
  const root = 'drivers/fixtures';
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort();
  const options = { timeZone: 'Europe/Paris', nowMs: Date.parse('2026-11-22T12:00:00Z') };

  it.each([
    ['mes-1.5.2', true],
    ['ans-3.2.0', false],
  ] as const)(
    '%s: one element per forwarded reading: a Bundle that passes the profiles, or a catalogued quarantine',
    (generation, glucoseInFeedingBundle) => {
      let bundles = 0;
      let held = 0;
      for (const file of files) {
        const fixture = JSON.parse(readFileSync(join(root, file), 'utf8')) as {
          characteristic: string;
          hex: string;
          driver?: string;
          error?: string;
        };
        if (fixture.error) continue;
        const { measurements = [] } = decodeFrame(
          fixture.characteristic,
          parseHex(fixture.hex),
          fixture.driver,
        );
        const out = readingsAsFhir(measurements, { ...options, generation }).map(
          (t) => JSON.parse(t) as Json,
        );
        const forwarded = measurements
          .flatMap((m) => normalize(m, { nowMs: options.nowMs }))
          .filter((o) => VOCABULARY[o.kind].forwarded);
        expect(out.length, file).toBe(forwarded.length);
        for (const element of out) {
          if ('quarantine' in element) {
            const q = element.quarantine as { code: string; reason: string };
            expect(Object.hasOwn(ERROR_CATALOGUE, q.code), `${file}: ${q.code}`).toBe(true);
            expect(q.reason, file).toBeTruthy();
            held++;
          } else {
            expect(validateMeasurementBundle(element, { glucoseInFeedingBundle }), file).toEqual([]);
            bundles++;
          }
        }
      }
      // The fixtures hold both outcomes; neither count may silently drop to zero.
      expect(bundles).toBeGreaterThan(5);
      expect(held).toBeGreaterThan(5);
    },
  );
});

describe('medgw decode --fhir follows the profile generation', () => {
  const GLUCOSE = JSON.stringify({
    kind: 'glucose',
    time: '2026-08-12T07:30:00+02:00',
    meal: 'fasting',
    values: { glucose: { value: 104, unit: 'mg/dL' } },
  });
  const { MEDGW_NATIONAL_PROFILE_GENERATION: _unset, ...env } = process.env;
  const decode = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [BIN, 'decode', '--mqtt', 'json', '-', '--fhir', ...NOW, ...args], {
      input: GLUCOSE,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...env, ...extraEnv },
    });
    return {
      status: r.status,
      stderr: r.stderr,
      out: r.status === 0 ? (JSON.parse(r.stdout) as Json[]) : [],
    };
  };
  const profileOf = (b: Json | undefined) => (b?.meta as { profile: string[] } | undefined)?.profile[0];
  const ANS = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';

  it('mes-1.5.2 by default, ans-3.2.0 by --generation or by MEDGW_NATIONAL_PROFILE_GENERATION', () => {
    const feeding = decode([]);
    expect(feeding.stderr).toBe('');
    expect(profileOf(feeding.out[0])).toBe(`${ANS}mesures-bundle-flux-alimentation`);
    expect(validateMeasurementBundle(feeding.out[0])).toEqual([]);

    for (const run of [
      decode(['--generation', 'ans-3.2.0']),
      decode([], { MEDGW_NATIONAL_PROFILE_GENERATION: 'ans-3.2.0' }),
    ]) {
      expect(run.stderr).toBe('');
      expect(run.out).toHaveLength(1);
      const [bundle] = run.out;
      expect(profileOf(bundle)).toBe(`${ANS}mesures-bundle-flux-alimentation-biologie`);
      expect(entries(bundle as Json).map((e) => e.resource.resourceType)).toEqual([
        'Observation',
        'DiagnosticReport',
        'Device',
      ]);
      expect(validateMeasurementBundle(bundle, { glucoseInFeedingBundle: false })).toEqual([]);
    }
    // the option wins over the environment
    const explicit = decode(['--generation', 'mes-1.5.2'], {
      MEDGW_NATIONAL_PROFILE_GENERATION: 'ans-3.2.0',
    });
    expect(profileOf(explicit.out[0])).toBe(`${ANS}mesures-bundle-flux-alimentation`);
  });

  it('refuses a generation it does not know with a coded usage error', () => {
    const r = decode(['--generation', 'ans-3.1.0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('MEDGW_ERR_USAGE');
    expect(r.stderr).toContain('mes-1.5.2, ans-3.2.0');
  });
});
