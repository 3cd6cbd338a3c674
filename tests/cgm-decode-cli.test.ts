/**
 * `medgw decode 2AA7 <hex>` through the real bin: the CGM Measurement codec is registered, a good E2E-CRC
 * decodes and a bad one is refused with its code.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'medgw.mjs');
const medgw = (args: string[]) =>
  spawnSync(process.execPath, [BIN, 'decode', ...args], { encoding: 'utf8', timeout: 60_000 });

// nordicsemi/Android-nRF-Connect issue #174: 115 mg/dL, time offset 300 min, E2E-CRC 0x043E.
const ROCHE = '0D 43 73 00 2C 01 03 24 00 1A 00 3E 04';

describe('medgw decode 2AA7', () => {
  it('decodes the published frame and holds the interstitial value', () => {
    const r = medgw(['2AA7', ROCHE]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.characteristic).toBe('2AA7');
    expect(out.fields.records).toHaveLength(1);
    expect(out.fields.records[0]).toMatchObject({
      timeOffset: 300,
      e2eCrc: 0x043e,
      glucoseConcentration: { value: 115 },
    });
    expect(out.observations[0].quarantine.code).toBe('MEDGW_ERR_GLUCOSE_INTERSTITIAL');
  });

  it('refuses the frame with a wrong CRC, by its code', () => {
    const r = medgw(['cgm-measurement', ROCHE.replace(/04$/, '05')]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('MEDGW_ERR_CGM_CRC');
  });
});
