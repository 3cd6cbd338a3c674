/**
 * `devices add` on two instances at once, against one real Mosquitto (dynamic-security plugin) and one
 * real PostgreSQL: the registry row decides (its primary key), only the winner provisions the broker,
 * so the device connects with the winner's secret and no other; the loser gets
 * MEDGW_ERR_REGISTRY_EXISTS. An add interrupted between the registry and the broker is named by the
 * next start and repaired with `devices add --again` (gateway/registry/operations.ts), here through
 * the other instance and through the real command line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAdminOps } from '../../gateway/admin/ops.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import { shortId } from '../../gateway/log.ts';
import { type DynsecOptions, DynsecProvisioner, withDynsec } from '../../gateway/mqtt/dynsec.ts';
import { ExternalBrokerClient } from '../../gateway/mqtt/external.ts';
import type { DeviceProvisioner } from '../../gateway/registry/operations.ts';
import { PostgresRegistry } from '../../gateway/registry/postgres.ts';
import { hashSecret } from '../../gateway/registry/secrets.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { type RunningPostgres, startPostgres } from '../postgres/cluster.ts';
import { killAllGateways, runMedgw } from '../support/gateway.ts';
import { type RunningDynsecMosquitto, startMosquittoDynsec } from './mosquitto.ts';

const clock = { now: () => Date.now() };
let broker: RunningDynsecMosquitto;
let pg: RunningPostgres;
let url: string;
let admin: DynsecOptions;
const root = mkdtempSync(join(tmpdir(), 'medgw-dynsec-race-'));

/** Every secret each instance handed to the broker, in order. */
const provisioned: { instance: string; id: string; secret: string }[] = [];

/** The real provisioner, recording what it was asked to provision. */
function recording(instance: string, inner: DeviceProvisioner): DeviceProvisioner {
  return {
    provision(id, secret) {
      provisioned.push({ instance, id, secret });
      return inner.provision(id, secret);
    },
    forget: (id) => inner.forget(id),
  };
}

interface Instance {
  readonly name: string;
  readonly registry: PostgresRegistry;
  readonly ops: LocalAdminOps;
}
const instances: Instance[] = [];

async function instance(name: string): Promise<Instance> {
  const registry = await PostgresRegistry.connect(url);
  const journal = new MemoryJournal({ clock });
  const ops = new LocalAdminOps(
    registry,
    journal,
    clock,
    undefined,
    'Europe/Paris',
    recording(name, new DynsecProvisioner(admin)),
  );
  const i = { name, registry, ops };
  instances.push(i);
  return i;
}

async function connects(id: string, secret: string): Promise<boolean> {
  const dev = new SimulatedMqttDevice({ url: broker.url, deviceId: id, secret, protocolVersion: 5 });
  try {
    await dev.connect();
    return true;
  } catch (e) {
    if (/not authori[sz]ed/i.test(String((e as Error).message))) return false;
    throw e;
  } finally {
    await dev.close();
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`still not: ${what}`);
}

beforeAll(async () => {
  [broker, pg] = await Promise.all([startMosquittoDynsec(), startPostgres()]);
  url = pg.database();
  admin = {
    url: broker.url,
    adminUser: broker.admin.user,
    adminPassword: broker.admin.password,
    timeoutMs: 5_000,
  };
}, 60_000);

afterAll(async () => {
  for (const i of instances) await i.registry.close();
  await killAllGateways();
  await Promise.allSettled([broker?.stop(), pg?.stop()]);
  rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('devices add on two instances at once', () => {
  it('the registry decides: one instance wins, only it provisions the broker, the device connects with its secret only', async () => {
    const a = await instance('a');
    const b = await instance('b');
    // several rounds: the two adds start in the same tick, in both orders
    for (let round = 0; round < 6; round++) {
      const id = `race-${round}`;
      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      const outcomes = await Promise.allSettled([
        first.ops.addDevice({ id, transport: 'mqtt' }),
        second.ops.addDevice({ id, transport: 'mqtt' }),
      ]);
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won, `round ${round}: exactly one add succeeds`).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(MedgwError);
      expect((lost[0] as MedgwError).code).toBe('MEDGW_ERR_REGISTRY_EXISTS');
      const secret = won[0]?.secret ?? '';
      // the loser never reached the broker: what it holds is the winner's secret
      const sent = provisioned.filter((p) => p.id === id);
      expect(sent.map((p) => p.secret)).toEqual([secret]);
      expect(await connects(id, secret)).toBe(true);
      // both copies of the registry hold the winner's hash (the loser's through NOTIFY)
      for (const i of [a, b]) {
        await until(`${i.name} holds ${id}`, () => i.registry.getDevice(id) !== undefined);
        expect(i.registry.getDevice(id)?.secretHash).toBe(hashSecret(secret));
      }
    }
  });

  it('a broker that refuses frees the id again; an add interrupted before the broker is repaired with --again, and the old secret is refused', async () => {
    const [a, b] = instances as [Instance, Instance];
    // a client medgw did not create under that name: the broker step refuses, the row goes away
    await withDynsec(admin, (x) =>
      x.runAll([{ command: 'createClient', username: 'race-taken', password: 'not-ours' }]),
    );
    await expect(a.ops.addDevice({ id: 'race-taken', transport: 'mqtt' })).rejects.toMatchObject({
      code: 'MEDGW_ERR_MQTT_DYNSEC_REFUSED',
    });
    expect(a.registry.getDevice('race-taken')).toBeUndefined();
    await b.registry.reload();
    expect(b.registry.getDevice('race-taken')).toBeUndefined();

    // a crash between the two steps: the row is written, the broker never heard of the device
    await a.registry.putDevice({
      id: 'race-crashed',
      transport: 'mqtt',
      secretHash: hashSecret('a secret nobody was shown'),
      createdAt: clock.now(),
    });
    expect(await connects('race-crashed', 'a secret nobody was shown')).toBe(false);
    // the next start says which registered devices the broker does not know, and how to repair them
    const said: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          said.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    );
    const gateway = new ExternalBrokerClient(
      { sink: { ingest: async () => ({ status: 'accepted' }) } as never, log },
      {
        url: broker.url,
        username: 'race-gw',
        password: `gw-${process.pid}`,
        group: 'race',
        clientId: 'race-gw',
        connections: 1,
        dynsec: admin,
        mqttDevices: () =>
          a.registry
            .listDevices()
            .filter((d) => d.transport === 'mqtt')
            .map((d) => d.id),
      },
    );
    await gateway.start();
    await gateway.stop();
    const warned = said.filter((l) => String(l.msg).includes('no client at the broker'));
    expect(warned).toHaveLength(1);
    // the devices added above have their clients: only the interrupted one is named, by its pseudonym
    expect(warned[0]).toMatchObject({ count: 1, devices: [shortId('race-crashed')] });
    expect(String(warned[0]?.msg)).toContain('medgw devices add --again --id <id>');
    await until('b sees the crashed add', () => b.registry.getDevice('race-crashed') !== undefined);
    // adding it again is refused (the registry holds it); --again, from the other instance, repairs it
    await expect(b.ops.addDevice({ id: 'race-crashed', transport: 'mqtt' })).rejects.toMatchObject({
      code: 'MEDGW_ERR_REGISTRY_EXISTS',
    });
    const repaired = await b.ops.addDevice({ id: 'race-crashed', transport: 'mqtt', again: true });
    expect(await connects('race-crashed', repaired.secret ?? '')).toBe(true);
    // issued once more: the previous secret stops working at the broker and in the registry
    const again = await a.ops.addDevice({ id: 'race-crashed', transport: 'mqtt', again: true });
    expect(again.secret).not.toBe(repaired.secret);
    expect(await connects('race-crashed', again.secret ?? '')).toBe(true);
    expect(await connects('race-crashed', repaired.secret ?? '')).toBe(false);
    await until(
      'b holds the new hash',
      () => b.registry.getDevice('race-crashed')?.secretHash === hashSecret(again.secret ?? ''),
    );
    // --again changes nothing else, and a Bluetooth device has no secret
    await expect(
      a.ops.addDevice({ id: 'race-crashed', transport: 'mqtt', again: true, patientId: 'p' }),
    ).rejects.toMatchObject({ code: 'MEDGW_ERR_ADMIN_BAD_REQUEST' });
    await a.ops.addDevice({ id: 'race-ble', transport: 'ble' });
    await expect(a.ops.addDevice({ id: 'race-ble', transport: 'mqtt', again: true })).rejects.toMatchObject({
      code: 'MEDGW_ERR_ADMIN_BAD_REQUEST',
    });
    await expect(
      a.ops.addDevice({ id: 'race-nobody', transport: 'mqtt', again: true }),
    ).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
  });

  it('medgw devices add, twice at once on two data directories sharing the database, then add --again', async () => {
    const env = {
      MEDGW_STORAGE_KIND: 'postgres',
      MEDGW_STORAGE_URL: url,
      MEDGW_MQTT_MODE: 'external',
      MEDGW_MQTT_EXTERNAL_URL: broker.url,
      MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_USER: broker.admin.user,
      MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD: broker.admin.password,
    };
    const add = (dir: string, extra: string[] = []) =>
      runMedgw(['devices', 'add', '--id', 'race-cli', '--json', '--data-dir', join(root, dir), ...extra], {
        env,
      });
    const runs = await Promise.all([
      add('one', ['--transport', 'mqtt']),
      add('two', ['--transport', 'mqtt']),
    ]);
    const winners = runs.filter((r) => r.code === 0);
    expect(winners, runs.map((r) => r.stderr).join('\n')).toHaveLength(1);
    const loser = runs.find((r) => r.code !== 0);
    expect(loser?.stderr).toContain('MEDGW_ERR_REGISTRY_EXISTS');
    const secret = (JSON.parse(winners[0]?.stdout ?? '{}') as { secret?: string }).secret ?? '';
    expect(await connects('race-cli', secret)).toBe(true);
    const again = await add('two', ['--again']);
    expect(again.stderr).toBe('');
    const renewed = (JSON.parse(again.stdout) as { secret?: string }).secret ?? '';
    expect(renewed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await connects('race-cli', renewed)).toBe(true);
    expect(await connects('race-cli', secret)).toBe(false);
  });
});
