/**
 * The BLE store (UDS consent codes, gateway/ble/store.ts) on a PostgreSQL registry shared by two
 * instances (issue 12): a consent one instance writes is used by the other, which built its store
 * before the write, once the registry's change notification reached it; a forget on one drops it on
 * the other; two instances writing two devices at the same moment keep both (one section per device);
 * and the single section of earlier versions is still read, and shadowed by a forget.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BleStore } from '../../gateway/ble/store.ts';
import { PostgresRegistry } from '../../gateway/registry/postgres.ts';
import { AesGcmSealer } from '../../gateway/secrets/index.ts';
import { openPool, type Pool } from '../../gateway/storage/postgres.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
const pools: Pool[] = [];
const registries: PostgresRegistry[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(registries.map((r) => r.close()));
  await Promise.allSettled(pools.map((p) => p.end()));
  await server?.stop();
}, 30_000);

async function instance(url: string): Promise<PostgresRegistry> {
  const pool = await openPool(url, { max: 3 });
  pools.push(pool);
  const r = await PostgresRegistry.open(pool);
  registries.push(r);
  return r;
}

/** Resolves once a change of a BLE section reached `r` and `test` holds (no timer: the notification). */
function sectionReaches(r: PostgresRegistry, test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (test()) return resolve();
    const off = r.onChange((change) => {
      if (change.kind === 'section' && change.id.startsWith('ble') && test()) {
        off();
        resolve();
      }
    });
  });
}

const SCALE = 'C4:7C:8D:00:00:01';
const CUFF = 'C4:7C:8D:00:00:02';

describe('BLE store on a PostgreSQL registry shared by two instances', () => {
  it('uses a consent the other instance wrote after both stores were built, and follows its forget', async () => {
    const url = server.database();
    const a = await instance(url);
    const b = await instance(url);
    // every instance has the same key (MEDGW_TOKEN_KEY or the same token.key)
    const key = randomBytes(32);
    const onA = new BleStore(a, new AesGcmSealer(key));
    const onB = new BleStore(b, new AesGcmSealer(key));
    expect(onB.udsUsers(SCALE)).toEqual([]);

    await onA.putUdsUser(SCALE, { index: 1, consentCode: 4321 });
    await sectionReaches(b, () => onB.udsUsers(SCALE).length > 0);
    expect(onB.udsUsers(SCALE)).toEqual([{ index: 1, consentCode: 4321 }]);

    // B writes another device: A's consent stays, and A sees B's
    await onB.putUdsUser(CUFF, { index: 0, consentCode: 7 });
    await sectionReaches(a, () => onA.udsUsers(CUFF).length > 0);
    expect(onA.udsUsers(SCALE)).toEqual([{ index: 1, consentCode: 4321 }]);
    expect(onA.udsUsers(CUFF)).toEqual([{ index: 0, consentCode: 7 }]);
    expect(onB.udsUsers(SCALE)).toEqual([{ index: 1, consentCode: 4321 }]);

    // a forget on B: A no longer consents as that user
    await onB.forget(SCALE);
    await sectionReaches(a, () => onA.udsUsers(SCALE).length === 0);
    expect(onA.udsUsers(SCALE)).toEqual([]);
    expect(onA.udsUsers(CUFF)).toEqual([{ index: 0, consentCode: 7 }]);

    // the consent code is sealed in the database, never in clear
    const { rows } = await (pools[0] as Pool).query<{ value: unknown }>(
      'SELECT value FROM medgw_registry_section WHERE name = $1',
      [`ble:${CUFF}`],
    );
    expect(JSON.stringify(rows[0]?.value)).toContain('sealed');
    expect(JSON.stringify(rows[0]?.value)).not.toMatch(/"consentCode"|:7[,}]/);
  }, 60_000);

  it('keeps both consents when two writes of one instance run at once', async () => {
    const a = await instance(server.database());
    const store = new BleStore(a, new AesGcmSealer(randomBytes(32)));
    await Promise.all([
      store.putUdsUser(SCALE, { index: 1, consentCode: 1111 }),
      store.putUdsUser(SCALE, { index: 2, consentCode: 2222 }),
      store.putUdsUser(CUFF, { index: 0, consentCode: 3333 }),
    ]);
    expect(store.udsUsers(SCALE)).toEqual([
      { index: 1, consentCode: 1111 },
      { index: 2, consentCode: 2222 },
    ]);
    expect(store.udsUsers(CUFF)).toEqual([{ index: 0, consentCode: 3333 }]);
  }, 60_000);

  it('keeps both when two instances write two devices at the same moment', async () => {
    const url = server.database();
    const a = await instance(url);
    const b = await instance(url);
    const key = randomBytes(32);
    const onA = new BleStore(a, new AesGcmSealer(key));
    const onB = new BleStore(b, new AesGcmSealer(key));
    // neither waits for the other's notification before writing
    await Promise.all([
      onA.putUdsUser(SCALE, { index: 1, consentCode: 1234 }),
      onB.putUdsUser(CUFF, { index: 0, consentCode: 42 }),
    ]);
    for (const [r, store] of [
      [a, onA],
      [b, onB],
    ] as const) {
      await sectionReaches(r, () => store.udsUsers(SCALE).length > 0 && store.udsUsers(CUFF).length > 0);
      expect(store.udsUsers(SCALE)).toEqual([{ index: 1, consentCode: 1234 }]);
      expect(store.udsUsers(CUFF)).toEqual([{ index: 0, consentCode: 42 }]);
    }
    // and the database holds both, whatever either copy says
    const fresh = new BleStore(await instance(url), new AesGcmSealer(key));
    expect(fresh.udsUsers(SCALE)).toEqual([{ index: 1, consentCode: 1234 }]);
    expect(fresh.udsUsers(CUFF)).toEqual([{ index: 0, consentCode: 42 }]);
  }, 60_000);

  it('reads the single section of earlier versions, and a forget shadows it', async () => {
    const url = server.database();
    const a = await instance(url);
    const sealer = new AesGcmSealer(randomBytes(32));
    await a.putSection('ble', {
      devices: {
        [SCALE]: { udsUsers: [{ index: 3, sealed: sealer.seal('9876') }] },
        [CUFF]: { udsUsers: [{ index: 0, sealed: sealer.seal('5') }] },
      },
    });
    const store = new BleStore(a, sealer);
    expect(store.udsUsers(SCALE)).toEqual([{ index: 3, consentCode: 9876 }]);
    await store.putUdsUser(SCALE, { index: 4, consentCode: 1111 });
    expect(store.udsUsers(SCALE)).toEqual([
      { index: 3, consentCode: 9876 },
      { index: 4, consentCode: 1111 },
    ]);
    await store.forget(CUFF);
    expect(store.udsUsers(CUFF)).toEqual([]);
    const fresh = new BleStore(await instance(url), sealer);
    expect(fresh.udsUsers(CUFF)).toEqual([]);
    expect(fresh.udsUsers(SCALE)).toHaveLength(2);
  }, 60_000);
});
