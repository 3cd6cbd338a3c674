/**
 * Test identities, OIDs and the pre-registered client of the sandbox. Everything here is invented
 * test data, documented in docs/sandbox.md. INS matricules use the INS-NIR test OID (FR Core
 * `fr-core-patient-ins`: 1.2.250.1.213.1.4.10).
 */

/** INS-NIR test OID (FR Core fr-core-patient-ins). */
export const INS_TEST_OID = '1.2.250.1.213.1.4.10';

/** OID of the idPe (AssignAuth) the sandbox issues; an ISO/IEC 9834-8 UUID OID, free to use. */
export const DEFAULT_PAIRING_OID = '2.25.223577281493925814735310533247560057336';

/** Solution OID registered for the pre-registered gateway client. */
export const GATEWAY_SOLUTION_OID = '2.25.71922510045900526679301521263764504793';

export const GATEWAY_CLIENT_ID = 'medgw-gateway';
/** A public test secret, documented; never a real secret. */
export const GATEWAY_CLIENT_SECRET = 'medgw-sandbox-secret';

/** Every test identity signs in with this password. */
export const TEST_PASSWORD = 'sandbox';

export interface TestIdentity {
  /** Account id at the sandbox (the OpenID `sub`). */
  readonly sub: string;
  readonly login: string;
  readonly birthName: string;
  readonly firstNames: readonly string[];
  /** YYYY-MM-DD */
  readonly birthDate: string;
  readonly sex: 'F' | 'M';
  /** INSEE COG code of the birthplace. */
  readonly birthplaceCode: string;
  /** INS matricule: 13-character NIR + 2-digit key. */
  readonly ins: string;
  readonly insOid: string;
  readonly idPe: string;
}

export const TEST_IDENTITIES: readonly TestIdentity[] = [
  {
    sub: 'sbx-patient-1',
    login: 'marie.martin',
    birthName: 'MARTIN',
    firstNames: ['Marie', 'Claire'],
    birthDate: '1958-03-14',
    sex: 'F',
    birthplaceCode: '75056',
    ins: '258037505612368',
    insOid: INS_TEST_OID,
    idPe: 'PE-SBX-0001',
  },
  {
    sub: 'sbx-patient-2',
    login: 'jean.dupont',
    birthName: 'DUPONT',
    firstNames: ['Jean', 'Pierre'],
    birthDate: '1949-11-02',
    sex: 'M',
    birthplaceCode: '69123',
    ins: '149116912304581',
    insOid: INS_TEST_OID,
    idPe: 'PE-SBX-0002',
  },
  {
    sub: 'sbx-patient-3',
    login: 'lea.bernard',
    birthName: 'BERNARD',
    firstNames: ['Léa'],
    birthDate: '1990-07-21',
    sex: 'F',
    birthplaceCode: '2A004',
    ins: '290072A00408723',
    insOid: INS_TEST_OID,
    idPe: 'PE-SBX-0003',
  },
];

export function identityBySub(sub: string): TestIdentity | undefined {
  return TEST_IDENTITIES.find((i) => i.sub === sub);
}

export function identityByLogin(login: string): TestIdentity | undefined {
  return TEST_IDENTITIES.find((i) => i.login === login.trim().toLowerCase());
}

/**
 * NIR key: 97 − (NIR mod 97), Corsica departments 2A/2B counted as 19/18 (INSEE NIR rule).
 * Used by the identity test to prove the documented matricules are well formed.
 */
export function nirKey(nir13: string): string {
  const digits = nir13.replace('2A', '19').replace('2B', '18');
  return String(97 - Number(BigInt(digits) % 97n)).padStart(2, '0');
}
