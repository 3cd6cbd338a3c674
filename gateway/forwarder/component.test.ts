import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { nationalSettings } from './component.ts';

describe('national-side settings from the configuration', () => {
  it('defaults to the local sandbox with its test client', () => {
    const s = nationalSettings(loadConfig({ env: {} }));
    expect(s.apiBaseUrl).toBe('http://127.0.0.1:8090');
    expect(s.idTokenHeader).toBe('X-Id-Token');
    expect(s.pairing).toMatchObject({
      issuer: 'http://127.0.0.1:8090/oidc',
      clientId: 'medgw-gateway',
      clientSecret: 'medgw-sandbox-secret',
      kindScopePrefix: 'mesures.',
      claims: { idPe: 'idpe', pairingOid: 'pairing_oid', solutionOid: 'solution_oid' },
    });
    expect(nationalSettings(loadConfig({ env: {} }), 'http://127.0.0.1:41234/').apiBaseUrl).toBe(
      'http://127.0.0.1:41234',
    );
  });

  it('takes the real service from the environment, never with the sandbox secret', () => {
    const s = nationalSettings(
      loadConfig({
        env: {
          MEDGW_NATIONAL_BASE_URL: 'https://api.example.test/mes/',
          MEDGW_NATIONAL_PAIRING_ISSUER: 'https://auth.example.test/oidc',
          MEDGW_NATIONAL_PAIRING_CLIENT_ID: 'solution-42',
          MEDGW_NATIONAL_PAIRING_CLAIM_ID_PE: 'id_pe',
          MEDGW_NATIONAL_ID_TOKEN_HEADER: 'X-Idtoken',
        },
      }),
    );
    expect(s.apiBaseUrl).toBe('https://api.example.test/mes');
    expect(s.idTokenHeader).toBe('X-Idtoken');
    expect(s.pairing.issuer).toBe('https://auth.example.test/oidc');
    expect(s.pairing.clientId).toBe('solution-42');
    expect(s.pairing.clientSecret).toBeUndefined();
    expect(s.pairing.claims?.idPe).toBe('id_pe');
  });
});
