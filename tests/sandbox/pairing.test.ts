import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import { bundle, claimsOf, device, observation, pairByDeviceFlow, patientOf, postBundle } from './helpers.ts';

let s: Sandbox;
beforeAll(async () => {
  s = await createSandbox({ port: 0 });
});
afterAll(async () => {
  await s.close();
});

describe('device-flow pairing', () => {
  it('pairs with a scripted approval and the ID token carries idPe, pairing OID and solution OID', async () => {
    const t = await pairByDeviceFlow(s);
    expect(t.refresh_token).toBeTypeOf('string');
    const c = claimsOf(t.id_token);
    expect(c.idpe).toBe('PE-SBX-0001');
    expect(c.pairing_oid).toBe(s.pairingOid);
    expect(c.solution_oid).toBe('2.25.71922510045900526679301521263764504793');
    expect(c.aud).toBe('medgw-gateway');
    const dev = device();
    const r = await postBundle(s, t, bundle(observation(patientOf(t, s), 'weight', dev), dev));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });
});
