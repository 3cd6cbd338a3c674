/**
 * Pairing links on PostgreSQL: sealed at rest with the instances' shared key (never in the database),
 * an instance with another key refused at start, changes seen by the other instances, and a token
 * refresh serialized across instances: two gateways refreshing one patient at once against the real
 * sandbox spend the refresh token once, and the sandbox (like real providers) revokes the whole
 * chain when a rotated refresh token is spent again.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MesClient } from '../../cloud-bridge/mes-client.ts';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { AesGcmSealer } from '../../gateway/secrets/index.ts';
import { openPool, type Pool } from '../../gateway/storage/postgres.ts';
import { PostgresRefreshLock, PostgresTokenStore } from '../../gateway/storage/tokens-postgres.ts';
import {
  approveUserCode,
  GLUCOMETER,
  type NationalSide,
  sampleObservation,
  startNationalSide,
} from '../cloud-bridge/helpers.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
let side: NationalSide;
const pools: Pool[] = [];
const stores: PostgresTokenStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
  side = await startNationalSide();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await Promise.allSettled(pools.map((p) => p.end()));
  await side?.close();
  await server?.stop();
}, 30_000);

async function pool(url: string): Promise<Pool> {
  const p = await openPool(url, { max: 3 });
  pools.push(p);
  return p;
}

async function store(url: string, key: Buffer): Promise<PostgresTokenStore> {
  const s = await PostgresTokenStore.open(await pool(url), new AesGcmSealer(key));
  stores.push(s);
  return s;
}

/** One gateway instance's national side: its store, its refresh lock (own pool), its pairing client. */
async function gateway(
  url: string,
  key: Buffer,
): Promise<{ store: PostgresTokenStore; pairing: PairingClient }> {
  const s = await store(url, key);
  const pairing = new PairingClient({ issuer: side.sandbox.issuer }, s, {
    lock: new PostgresRefreshLock(await pool(url)),
  });
  return { store: s, pairing };
}

const link: PatientLink = {
  patientId: 'p1',
  idPe: 'PE-SECRET-IDPE',
  pairingOid: '2.25.1',
  solutionOid: '2.25.2',
  accessToken: 'access-token-value-1234',
  idToken: 'id.token.value',
  refreshToken: 'refresh-token-value-5678',
  expiresAt: 1_000,
  linkedAt: 0,
  status: 'linked',
};

/** Resolves once `test` holds (a change another instance made reached this one). */
function until(test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (test()) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
}

const events = (name: string) => side.sandbox.audit().filter((e) => e.event === name).length;

describe('PostgreSQL token store', () => {
  it('keeps tokens sealed in the database and shares links between instances', async () => {
    const url = server.database();
    const key = randomBytes(32);
    const a = await store(url, key);
    const b = await store(url, key);
    await a.put(link);
    expect(a.get('p1')).toEqual(link);
    const { rows } = await pools[0]!.query<{ t: string }>(
      'SELECT sealed AS t FROM medgw_token_link UNION ALL SELECT fingerprint FROM medgw_token_key',
    );
    const all = rows.map((r) => r.t).join('\n');
    for (const secret of [link.accessToken, link.refreshToken!, link.idPe, link.idToken, key.toString('hex')])
      expect(all).not.toContain(secret);
    await until(() => b.get('p1') !== undefined);
    expect(b.get('p1')).toEqual(link);
    expect(JSON.stringify(b)).not.toContain(link.accessToken);
    // an update merges into the row as stored, not into a copy that missed another instance's write
    await b.update('p1', { accessToken: 'rotated-by-b', refreshToken: 'rotated-rt' });
    const merged = await a.update('p1', { status: 'consent-withdrawn' });
    expect(merged).toMatchObject({
      accessToken: 'rotated-by-b',
      refreshToken: 'rotated-rt',
      status: 'consent-withdrawn',
    });
    expect(await b.fresh('p1')).toEqual(merged);
    expect(await a.remove('p1')).toBe(true);
    await until(() => b.get('p1') === undefined);
    await expect(b.update('p1', {})).rejects.toMatchObject({ code: 'MEDGW_ERR_NOT_LINKED' });
    expect(await b.remove('p1')).toBe(false);
  });

  it('refuses an instance with another key, and a sealed link moved to another patient', async () => {
    const url = server.database();
    const key = randomBytes(32);
    const a = await store(url, key);
    await a.put(link);
    await expect(
      PostgresTokenStore.open(await pool(url), new AesGcmSealer(randomBytes(32))),
    ).rejects.toMatchObject({
      code: 'MEDGW_ERR_TOKEN_KEY',
    });
    const admin = await pool(url);
    await admin.query(
      `INSERT INTO medgw_token_link (patient_id, sealed) SELECT 'p2', sealed FROM medgw_token_link WHERE patient_id = 'p1'`,
    );
    await expect(PostgresTokenStore.open(await pool(url), new AesGcmSealer(key))).rejects.toMatchObject({
      code: 'MEDGW_ERR_TOKEN_STORE',
    });
  });
});

describe('token refresh across instances', () => {
  it('two instances refreshing one patient at once spend the refresh token once', async () => {
    const url = server.database();
    const key = randomBytes(32);
    const a = await gateway(url, key);
    const b = await gateway(url, key);
    const flow = await a.pairing.startDeviceLink('marie');
    await approveUserCode(side.sandbox, flow.verificationUri, flow.userCode, { login: 'marie.martin' });
    const linked = await flow.complete();
    await until(() => b.store.get('marie') !== undefined);

    const refreshed = events('token.refreshed');
    const [fromA, fromB] = await Promise.all([a.pairing.refresh('marie'), b.pairing.refresh('marie')]);
    // one refresh-token grant at the sandbox, no reuse, both instances on the same new tokens
    expect(events('token.refreshed')).toBe(refreshed + 1);
    expect(events('token.reuse-revoked')).toBe(0);
    expect(fromA.accessToken).not.toBe(linked.accessToken);
    expect(fromB.accessToken).toBe(fromA.accessToken);
    expect((await a.store.fresh('marie'))?.status).toBe('linked');

    // the chain is alive: each instance sends with its credentials, and refreshes again later
    for (const g of [a, b]) {
      const client = new MesClient({ baseUrl: side.sandbox.url, tokens: g.pairing });
      try {
        const outcome = await client.send('marie', {
          id: `reading-${randomBytes(4).toString('hex')}`,
          observation: sampleObservation('glucose'),
          device: GLUCOMETER,
        });
        expect(outcome).toMatchObject({ status: 'delivered' });
      } finally {
        client.close();
      }
    }
    const again = await b.pairing.refresh('marie');
    expect(again.accessToken).not.toBe(fromA.accessToken);
    expect(events('token.refreshed')).toBe(refreshed + 2);
    expect(events('token.reuse-revoked')).toBe(0);
  }, 60_000);

  it('the sandbox revokes the whole chain when a rotated refresh token is spent again', async () => {
    const url = server.database();
    const a = await gateway(url, randomBytes(32));
    const flow = await a.pairing.startDeviceLink('jean');
    await approveUserCode(side.sandbox, flow.verificationUri, flow.userCode, { login: 'jean.dupont' });
    const first = await flow.complete();
    await a.pairing.refresh('jean');
    const rotated = a.store.get('jean');
    expect(rotated?.refreshToken).not.toBe(first.refreshToken);
    // a second spender of the first refresh token (what an unserialized instance would do)
    const config = await a.pairing.configuration();
    const endpoint = config.serverMetadata().token_endpoint!;
    const answer = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('medgw-gateway:medgw-sandbox-secret').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refreshToken! }),
    });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toBe('invalid_grant');
    expect(events('token.reuse-revoked')).toBeGreaterThanOrEqual(1);
    // the rotated refresh token went with the chain: the patient must link again
    await expect(a.pairing.refresh('jean')).rejects.toMatchObject({ code: 'MEDGW_ERR_REAUTH_REQUIRED' });
    expect(a.store.get('jean')?.status).toBe('reauth-required');
  }, 60_000);
});
