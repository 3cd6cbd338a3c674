import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAIRING_OID,
  GATEWAY_SOLUTION_OID,
  INS_TEST_OID,
  nirKey,
  TEST_IDENTITIES,
} from './identities.ts';

describe('test identities', () => {
  it('have 15-character INS matricules with a valid NIR key, under the INS test OID', () => {
    for (const id of TEST_IDENTITIES) {
      expect(id.ins).toHaveLength(15);
      expect(id.insOid).toBe(INS_TEST_OID);
      expect(nirKey(id.ins.slice(0, 13))).toBe(id.ins.slice(13));
      // NIR: sex digit then year and month of birth
      expect(id.ins[0]).toBe(id.sex === 'F' ? '2' : '1');
      expect(id.ins.slice(1, 5)).toBe(id.birthDate.slice(2, 4) + id.birthDate.slice(5, 7));
    }
  });

  it('computes the key with Corsica counted as 19/18', () => {
    expect(nirKey('290072A004087')).toBe(nirKey('2900719004087'));
    expect(nirKey('290072B004087')).toBe(nirKey('2900718004087'));
  });

  it('have unique logins, subjects and idPe', () => {
    for (const key of ['login', 'sub', 'idPe'] as const) {
      expect(new Set(TEST_IDENTITIES.map((i) => i[key])).size).toBe(TEST_IDENTITIES.length);
    }
    expect(DEFAULT_PAIRING_OID).not.toBe(GATEWAY_SOLUTION_OID);
  });
});
