/** Fault injection on the measurements API: 5xx, 429 with Retry-After, latency, dropped connections, short token lifetimes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import {
  bundle,
  observation,
  type Patient,
  pairByDeviceFlow,
  patientOf,
  postBundle,
  type Tokens,
} from './helpers.ts';

let s: Sandbox;
let t: Tokens;
let p: Patient;
beforeAll(async () => {
  s = await createSandbox({ port: 0, faults: { status: { code: 502, times: 1 } } });
  t = await pairByDeviceFlow(s, { login: 'marie.martin' });
  p = patientOf(t, s);
});
afterAll(async () => {
  await s.close();
});

async function setFaults(body: unknown): Promise<Response> {
  return fetch(`${s.url}/_sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('faults', () => {
  it('a fault given at start answers once, then the service is back', async () => {
    const first = await postBundle(s, t, bundle(observation(p, 'weight')));
    expect(first.status).toBe(502);
    const second = await postBundle(s, t, bundle(observation(p, 'weight')));
    expect(second.status).toBe(200);
  });

  it('5xx for n requests, set at run time', async () => {
    expect((await setFaults({ status: { code: 503, times: 2 } })).status).toBe(200);
    const codes: number[] = [];
    for (let i = 0; i < 3; i += 1)
      codes.push((await postBundle(s, t, bundle(observation(p, 'weight')))).status);
    expect(codes).toEqual([503, 503, 200]);
  });

  it('429 with Retry-After', async () => {
    await setFaults({ rateLimit: { retryAfterSeconds: 7, times: 1 } });
    const r = await postBundle(s, t, bundle(observation(p, 'weight')));
    expect(r.status).toBe(429);
    expect(r.res.headers.get('retry-after')).toBe('7');
    expect((await postBundle(s, t, bundle(observation(p, 'weight')))).status).toBe(200);
  });

  it('a dropped connection fails the request without an answer, and nothing is stored', async () => {
    const before = s.observations().length;
    await setFaults({ drop: { times: 1 } });
    await expect(postBundle(s, t, bundle(observation(p, 'weight')))).rejects.toThrow();
    expect(s.observations()).toHaveLength(before);
    expect((await postBundle(s, t, bundle(observation(p, 'weight')))).status).toBe(200);
  });

  it('latency delays the answer until cleared', async () => {
    await setFaults({ latencyMs: 300 });
    const started = performance.now();
    const r = await postBundle(s, t, bundle(observation(p, 'weight')));
    expect(r.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const del = await fetch(`${s.url}/_sandbox/faults`, { method: 'DELETE' });
    expect(await del.json()).toEqual({});
  });

  it('short-lived access tokens expire: 401 once the lifetime is over', async () => {
    await setFaults({ accessTokenTtlSeconds: 1 });
    const short = await pairByDeviceFlow(s, { login: 'jean.dupont' });
    expect(short.expires_in).toBeLessThanOrEqual(1);
    s.clearFaults();
    await new Promise((r) => setTimeout(r, 1300));
    const r = await postBundle(s, short, bundle(observation(patientOf(short, s), 'weight')));
    expect(r.status).toBe(401);
  });

  it('short-lived ID tokens expire: 400 invalid JWT once the lifetime is over', async () => {
    s.setFaults({ idTokenTtlSeconds: 1 });
    const short = await pairByDeviceFlow(s, { login: 'lea.bernard' });
    s.clearFaults();
    await new Promise((r) => setTimeout(r, 1300));
    const r = await postBundle(s, short, bundle(observation(patientOf(short, s), 'weight')));
    expect(r.status).toBe(400);
    expect(r.body?.issue).toEqual([
      expect.objectContaining({
        diagnostics: 'HTTP code 400 : Bad request -> The ID_TOKEN value is not valid (invalid JWT)',
      }),
    ]);
  });

  it('refuses an invalid fault with a coded error', async () => {
    const res = await setFaults({ status: { code: 200 } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('MEDGW_ERR_SANDBOX_REQUEST');
    expect(body.error.message).toMatch(/status\.code/);
  });
});
