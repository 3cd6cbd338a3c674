import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, isErrorCode } from '../kernel/errors.ts';
import { errorsDoc } from '../scripts/gen/errors-doc.ts';

describe('error catalogue', () => {
  it('docs/errors.md is exactly what the catalogue generates', () => {
    const { path, content } = errorsDoc();
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('every MEDGW_ERR_* code used in the sources is in the catalogue', () => {
    const out = execFileSync(
      'git',
      [
        'grep',
        '--untracked',
        '-hoE',
        'MEDGW_ERR_[A-Z0-9_]+',
        '--',
        'kernel',
        'gateway',
        'drivers',
        'cloud-bridge',
        'simulators',
      ],
      { encoding: 'utf8' },
    );
    // A name ending in `_` is a family mentioned in prose (`MEDGW_ERR_MQTT_*`), not a code.
    const used = new Set(out.split('\n').filter((c) => c && !c.endsWith('_')));
    const unknown = [...used].filter((code) => !(code in ERROR_CATALOGUE));
    expect(unknown).toEqual([]);
  });

  it('isErrorCode accepts the codes of the catalogue only, not inherited keys or look-alikes', () => {
    expect(isErrorCode('MEDGW_ERR_MES_CONSENT')).toBe(true);
    for (const s of [
      'toString',
      '__proto__',
      'constructor',
      'MEDGW_ERR_NO_SUCH_CODE',
      'medgw_err_mes_consent',
      '',
    ]) {
      expect(isErrorCode(s), s).toBe(false);
    }
    expect(isErrorCode(undefined)).toBe(false);
    expect(isErrorCode(null)).toBe(false);
  });

  it('every entry has a message and an actionable hint', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^MEDGW_ERR_[A-Z0-9_]+$/);
      expect(entry.message.length, code).toBeGreaterThan(10);
      expect(entry.hint.length, code).toBeGreaterThan(10);
    }
  });
});
