/**
 * The gateway role follows the code: a `medgw-gateway-<group>` role left at the broker by an older
 * version (other topics, a receipt right denied, an ACL of its own) is brought to the ACLs this
 * version wants when a gateway starts (gateway/mqtt/dynsec.ts alignRoleAcls), the change logged
 * without any secret; a role that is right already is left alone. Real Debian Mosquitto with its
 * dynamic-security plugin.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortId } from '../../gateway/log.ts';
import {
  type Acl,
  DynsecAdmin,
  type DynsecOptions,
  gatewayAcls,
  gatewayRole,
  withDynsec,
} from '../../gateway/mqtt/dynsec.ts';
import { ExternalBrokerClient } from '../../gateway/mqtt/external.ts';
import { type RunningDynsecMosquitto, startMosquittoDynsec } from './mosquitto.ts';

let broker: RunningDynsecMosquitto;
let admin: DynsecOptions;
const GATEWAY_PASSWORD = `gw-${Math.random().toString(36).slice(2)}`;

/** What an older medgw could have left: the measurements under another root, receipts denied, an extra ACL. */
function staleAcls(group: string): Acl[] {
  return [
    { acltype: 'subscribeLiteral', topic: `$share/${group}/medgw/v0/devices/+/measurements/+`, allow: true },
    { acltype: 'publishClientReceive', topic: 'medgw/v0/devices/+/measurements/+', allow: true },
    { acltype: 'publishClientSend', topic: 'medgw/v1/devices/+/receipts', allow: false },
    { acltype: 'subscribePattern', topic: 'medgw/v0/#', allow: true },
  ];
}

const key = (a: Acl) => `${a.acltype} ${a.topic} ${a.allow}`;
const keys = (acls: readonly Acl[]) => acls.map(key).sort();

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        out.push(String(chunk));
        done();
      },
    }),
  );
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function stale(group: string, user: string): Promise<void> {
  await withDynsec(admin, (a) =>
    a.runAll([
      { command: 'createRole', rolename: gatewayRole(group), acls: staleAcls(group) },
      {
        command: 'createClient',
        username: user,
        password: GATEWAY_PASSWORD,
        roles: [{ rolename: gatewayRole(group) }],
      },
    ]),
  );
}

function gateway(
  group: string,
  user: string,
  log: pino.Logger,
  mqttDevices?: () => Iterable<string>,
): ExternalBrokerClient {
  return new ExternalBrokerClient(
    { sink: { ingest: async () => ({ status: 'accepted' }) } as never, log },
    {
      url: broker.url,
      username: user,
      password: GATEWAY_PASSWORD,
      group,
      clientId: `medgw-role-test-${group}`,
      connections: 1,
      reconnectPeriodMs: 200,
      dynsec: admin,
      ...(mqttDevices ? { mqttDevices } : {}),
    },
  );
}

beforeAll(async () => {
  broker = await startMosquittoDynsec();
  admin = { url: broker.url, adminUser: broker.admin.user, adminPassword: broker.admin.password };
});

afterAll(async () => {
  await broker?.stop();
});

describe('the gateway role after an upgrade', () => {
  it('a stale role is aligned at start, logged without secrets, and the gateway subscribes with it', async () => {
    await stale('g1', 'gw-1');
    // the stale role would refuse the shared subscription this version takes
    const { log, lines } = capture();
    const gw = gateway('g1', 'gw-1', log);
    try {
      await gw.start();
    } finally {
      await gw.stop();
    }
    const acls = await withDynsec(admin, (a) => a.getRoleAcls(gatewayRole('g1')));
    expect(keys(acls ?? [])).toEqual(keys(gatewayAcls('g1')));
    const updated = lines().filter((l) => String(l.msg).startsWith('gateway role updated'));
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({ level: 40, group: 'g1', role: 'medgw-gateway-g1' });
    expect(updated[0]?.added).toEqual(
      expect.arrayContaining([
        'allow subscribeLiteral $share/g1/medgw/v1/devices/+/measurements/+',
        'allow publishClientSend medgw/v1/devices/+/receipts',
      ]),
    );
    expect(updated[0]?.removed).toEqual(
      expect.arrayContaining([
        'deny publishClientSend medgw/v1/devices/+/receipts',
        'allow subscribePattern medgw/v0/#',
      ]),
    );
    const all = lines()
      .map((l) => JSON.stringify(l))
      .join('\n');
    expect(all).not.toContain(GATEWAY_PASSWORD);
    expect(all).not.toContain(broker.admin.password);

    // started again: the role is right, nothing changes and nothing is logged about it
    const again = capture();
    const gw2 = gateway('g1', 'gw-1', again.log);
    try {
      await gw2.start();
    } finally {
      await gw2.stop();
    }
    expect(again.lines().filter((l) => String(l.msg).startsWith('gateway role updated'))).toHaveLength(0);
  });

  it('a registered MQTT device the broker has no client for is named at start by its pseudonym, never its id', async () => {
    // an add interrupted between the registry and the broker: the registry knows the device, the broker not
    const serial = 'bp-cuff-SN-4471-0093';
    const { log, lines } = capture();
    const gw = gateway('g3', 'gw-3', log, () => [serial]);
    try {
      await gw.start();
    } finally {
      await gw.stop();
    }
    const warned = lines().filter((l) => String(l.msg).startsWith('registered MQTT devices have no client'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, count: 1, devices: [shortId(serial)] });
    expect(String(warned[0]?.msg)).toContain('medgw devices add --again --id');
    expect(
      lines()
        .map((l) => JSON.stringify(l))
        .join('\n'),
    ).not.toContain(serial);
  });

  it('several instances aligning one stale role at the same moment all succeed, and the role ends right', async () => {
    await stale('g2', 'gw-2');
    const admins = await Promise.all([1, 2, 3].map(() => DynsecAdmin.connect(admin)));
    try {
      const results = await Promise.all(admins.map((a) => a.ensureGateway('gw-2', undefined, 'g2')));
      // whatever their order, no one failed, and at least one found the role stale
      expect(results.some((r) => r.added.length + r.removed.length > 0)).toBe(true);
      expect(keys((await admins[0]?.getRoleAcls(gatewayRole('g2'))) ?? [])).toEqual(keys(gatewayAcls('g2')));
      // a missing role is no role to align
      expect(await admins[0]?.alignRoleAcls('medgw-gateway-nobody', gatewayAcls('x'))).toBeUndefined();
    } finally {
      await Promise.all(admins.map((a) => a.close()));
    }
  });
});
