/**
 * The broker authenticates devices: a real Mosquitto with its dynamic-security plugin, medgw provisioning
 * each device's broker client and role over $CONTROL/dynamic-security/v1 (gateway/mqtt/dynsec.ts), a
 * gateway taking readings through its shared subscription with the role `medgw start` gives its user,
 * and the real `medgw devices add/forget` command line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAdminOps } from '../../gateway/admin/ops.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import {
  DynsecAdmin,
  type DynsecOptions,
  DynsecProvisioner,
  deviceRole,
  dynsecOptions,
  withDynsec,
} from '../../gateway/mqtt/dynsec.ts';
import { ExternalBrokerClient } from '../../gateway/mqtt/external.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { addPatient, LowRegistry } from '../../gateway/registry/index.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import { encodeReading, sampleReading } from '../../simulators/mqtt/payloads.ts';
import { killAllGateways, runMedgw } from '../support/gateway.ts';
import { type RunningDynsecMosquitto, startMosquittoDynsec } from './mosquitto.ts';

const clock = { now: () => Date.now() };
const log = pino({ level: 'silent' });
const GATEWAY_USER = 'medgw-gw';
const GATEWAY_PASSWORD = `gw-${Math.random().toString(36).slice(2)}`;

let broker: RunningDynsecMosquitto;
let admin: DynsecOptions;
let registry: LowRegistry;
let journal: MemoryJournal;
let ops: LocalAdminOps;
let gateway: ExternalBrokerClient;
const root = mkdtempSync(join(tmpdir(), 'medgw-dynsec-'));

const reading = (seq: number) => sampleReading('glucose', seq, Date.now() - 3_600_000 + seq * 1_000);

async function expectCode(p: Promise<unknown>, code: string): Promise<MedgwError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(MedgwError);
  expect((e as MedgwError).code).toBe(code);
  return e as MedgwError;
}

function device(id: string, secret: string, protocolVersion: 4 | 5 = 5): SimulatedMqttDevice {
  return new SimulatedMqttDevice({ url: broker.url, deviceId: id, secret, protocolVersion });
}

beforeAll(async () => {
  broker = await startMosquittoDynsec();
  admin = {
    url: broker.url,
    adminUser: broker.admin.user,
    adminPassword: broker.admin.password,
    timeoutMs: 5_000,
  };
  registry = await LowRegistry.memory();
  journal = new MemoryJournal({ clock });
  await addPatient(registry, { id: 'p-dynsec', displayName: 'Dynsec patient' }, clock);
  ops = new LocalAdminOps(registry, journal, clock, undefined, 'Europe/Paris', new DynsecProvisioner(admin));
  const pipeline = new Pipeline({ journal, registry, clock, log });
  await pipeline.start();
  // one connection: what one device publishes reaches the gateway in order
  gateway = new ExternalBrokerClient(
    { sink: pipeline, log },
    {
      url: broker.url,
      username: GATEWAY_USER,
      password: GATEWAY_PASSWORD,
      group: 'medgw',
      clientId: `medgw-dynsec-test-${process.pid}`,
      connections: 1,
      reconnectPeriodMs: 200,
      dynsec: admin,
    },
  );
  // the gateway user does not exist yet: start() creates it with its role, then subscribes
  await gateway.start();
});

afterAll(async () => {
  if (broker) process.kill(broker.pid, 'SIGCONT'); // never leave it frozen, whatever failed
  await gateway?.stop();
  await killAllGateways();
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('Mosquitto dynamic security, provisioned by medgw', () => {
  it('an added device connects and publishes; the gateway user reads every device’s measurements', async () => {
    const a = await ops.addDevice({ id: 'dyn-a', transport: 'mqtt', patientId: 'p-dynsec' });
    const b = await ops.addDevice({ id: 'dyn-b', transport: 'mqtt', patientId: 'p-dynsec' });
    expect(a.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const devA = device('dyn-a', a.secret ?? '');
    const devB = device('dyn-b', b.secret ?? '', 4);
    try {
      await devA.connect();
      await devB.connect();
      expect((await devA.publish(reading(1))).receipt.status).toBe('accepted');
      expect((await devB.publish(reading(1), 'cbor')).receipt.status).toBe('accepted');
      expect(journal.list({ deviceId: 'dyn-a' })).toHaveLength(1);
      expect(journal.list({ deviceId: 'dyn-b' })).toHaveLength(1);
      // the broker checks the secret medgw generated: another one is refused
      await expect(device('dyn-a', 'not-the-secret').connect()).rejects.toThrow(/not authori[sz]ed/i);
      // and the client id is bound to the user name
      await expect(
        new SimulatedMqttDevice({
          url: broker.url,
          deviceId: 'dyn-a',
          clientId: 'someone-else',
          secret: a.secret ?? '',
          protocolVersion: 5,
        }).connect(),
      ).rejects.toThrow(/not authori[sz]ed|identifier/i);
    } finally {
      await devA.close();
      await devB.close();
    }
  });

  it('a device cannot publish under another device’s topic nor read its receipts: the message never reaches the gateway', async () => {
    const { secret } = await ops.addDevice({ id: 'dyn-c', transport: 'mqtt', patientId: 'p-dynsec' });
    const intruder = device('dyn-c', secret ?? '');
    const before = gateway.counters.messages;
    try {
      await intruder.connect();
      // MQTT 5: Mosquitto answers the refused QoS 1 publish with PUBACK 0x87 (not authorized)
      await expect(
        intruder.publishRaw('medgw/v1/devices/dyn-a/measurements/json', encodeReading('json', reading(99))),
      ).rejects.toThrow(/not authori[sz]ed/i);
      // SUBACK 0x87 for another device's receipts and for every device's measurements
      for (const topic of ['medgw/v1/devices/dyn-a/receipts', 'medgw/v1/devices/+/measurements/+']) {
        await expect(intruder.client?.subscribeAsync(topic, { qos: 1 })).rejects.toThrow(
          /not authori[sz]ed/i,
        );
      }
      // its own reading, published after, arrives: the refused one would have come before it
      expect((await intruder.publish(reading(100))).receipt.status).toBe('accepted');
      expect(gateway.counters.messages - before).toBe(1);
      expect(journal.list({ deviceId: 'dyn-a' })).toHaveLength(1);
      expect(journal.list({ deviceId: 'dyn-c' })).toHaveLength(1);
    } finally {
      await intruder.close();
    }
  });

  it('a forgotten device is disconnected at once and refused afterwards', async () => {
    const { secret } = await ops.addDevice({ id: 'dyn-d', transport: 'mqtt', patientId: 'p-dynsec' });
    const dev = device('dyn-d', secret ?? '');
    await dev.connect();
    const disconnected = new Promise<number | undefined>((resolve) =>
      dev.client?.once('disconnect', (packet) => resolve(packet.reasonCode)),
    );
    await ops.removeDevice('dyn-d');
    // MQTT 5 DISCONNECT 0x98: administrative action
    expect(await disconnected).toBe(0x98);
    await dev.close();
    await expect(device('dyn-d', secret ?? '').connect()).rejects.toThrow(/not authori[sz]ed/i);
    expect(registry.getDevice('dyn-d')).toBeUndefined();
    expect(journal.auditList({ limit: 1000 }).some((e) => e.event === 'device.removed')).toBe(true);
    // its role went with it
    const roles = await withDynsec(admin, (a) =>
      a.run([{ command: 'getRole', rolename: deviceRole('dyn-d') }]),
    );
    expect(roles[0]?.error).toBe('Role not found');
  });

  it('an unreachable broker refuses devices add and forget with a coded error, nothing half-done', async () => {
    const closed = await new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const offline = new LocalAdminOps(
      registry,
      journal,
      clock,
      undefined,
      'Europe/Paris',
      new DynsecProvisioner({ ...admin, url: `mqtt://127.0.0.1:${port}` }),
    );
    const audited = journal.auditList({ limit: 10_000 }).length;
    const e = await expectCode(
      offline.addDevice({ id: 'dyn-offline', transport: 'mqtt' }),
      'MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE',
    );
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(registry.getDevice('dyn-offline')).toBeUndefined();
    // a Bluetooth device has no broker credentials: added without asking the broker
    await offline.addDevice({ id: 'dyn-ble', transport: 'ble' });
    await offline.removeDevice('dyn-ble');
    // forget: the device stays registered (and can still connect) until the broker confirms
    await expectCode(offline.removeDevice('dyn-a'), 'MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE');
    expect(registry.getDevice('dyn-a')).toBeDefined();
    expect(journal.auditList({ limit: 10_000 }).length).toBe(audited + 2); // the BLE add and remove only
  });

  it('a broker that takes the connection but never answers is a coded refusal too, after the timeout', async () => {
    const quick = { ...admin, timeoutMs: 300 };
    const frozenOps = new LocalAdminOps(
      registry,
      journal,
      clock,
      undefined,
      'Europe/Paris',
      new DynsecProvisioner(quick),
    );
    const connected = await DynsecAdmin.connect(quick);
    // frozen: the kernel still accepts TCP connections, Mosquitto answers nothing
    process.kill(broker.pid, 'SIGSTOP');
    try {
      const e = await expectCode(
        frozenOps.addDevice({ id: 'dyn-silent', transport: 'mqtt' }),
        'MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE',
      );
      expect(e.message).toMatch(/no CONNACK within 300 ms/);
      // connected before: the command goes out and its answer never comes
      const late = await expectCode(
        connected.provisionDevice('dyn-silent', 'x'),
        'MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE',
      );
      expect(late.message).toMatch(/no answer to getClient within 300 ms/);
    } finally {
      process.kill(broker.pid, 'SIGCONT');
      await connected.close();
    }
    expect(registry.getDevice('dyn-silent')).toBeUndefined();
  });

  it('wrong admin credentials, or a device id naming a broker client medgw did not create, are refused', async () => {
    const wrong = new LocalAdminOps(
      registry,
      journal,
      clock,
      undefined,
      'Europe/Paris',
      new DynsecProvisioner({ ...admin, adminPassword: 'wrong' }),
    );
    await expectCode(wrong.addDevice({ id: 'dyn-w', transport: 'mqtt' }), 'MEDGW_ERR_MQTT_DYNSEC_REFUSED');
    expect(registry.getDevice('dyn-w')).toBeUndefined();
    // the admin's and the gateway's own clients are not medgw devices: never overwritten
    for (const id of [broker.admin.user, GATEWAY_USER]) {
      const e = await expectCode(ops.addDevice({ id, transport: 'mqtt' }), 'MEDGW_ERR_MQTT_DYNSEC_REFUSED');
      expect(e.message).toContain('did not create');
      expect(registry.getDevice(id)).toBeUndefined();
    }
    // both still work
    const check = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      username: GATEWAY_USER,
      password: GATEWAY_PASSWORD,
      reconnectPeriod: 0,
    });
    await check.endAsync();
    await withDynsec(admin, async (a) => expect(await a.getClient(GATEWAY_USER)).toBeDefined());
  });

  it('a leftover of an unanswered attempt is replaced: only the new secret lets the device in', async () => {
    await withDynsec(admin, (a) => a.provisionDevice('dyn-e', 'old-secret-from-a-lost-attempt'));
    const { secret } = await ops.addDevice({ id: 'dyn-e', transport: 'mqtt', patientId: 'p-dynsec' });
    await expect(device('dyn-e', 'old-secret-from-a-lost-attempt').connect()).rejects.toThrow(
      /not authori[sz]ed/i,
    );
    const dev = device('dyn-e', secret ?? '');
    await dev.connect();
    await dev.close();
  });

  it('a second gateway instance of the group starts on the same role (idempotent)', async () => {
    const again = await DynsecAdmin.connect(admin);
    try {
      await again.ensureGateway(GATEWAY_USER, GATEWAY_PASSWORD, 'medgw');
      await again.ensureGateway(GATEWAY_USER, undefined, 'medgw');
      const client = await again.getClient(GATEWAY_USER);
      expect(client?.roles.map((r) => r.rolename)).toEqual(['medgw-gateway-medgw']);
    } finally {
      await again.close();
    }
  });

  it('the admin password comes from exactly one place, and a refusal never shows it', () => {
    const base = {
      MEDGW_MQTT_MODE: 'external',
      MEDGW_MQTT_EXTERNAL_URL: 'mqtt://127.0.0.1:1883',
      MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_USER: 'dynsec-admin',
    };
    for (const env of [
      base,
      {
        ...base,
        MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD: 'pw-in-env-123',
        MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD_FILE: '/run/secret',
      },
    ]) {
      let refusal: unknown;
      try {
        loadConfig({ env });
      } catch (e) {
        refusal = e;
      }
      expect(refusal).toBeInstanceOf(MedgwError);
      expect((refusal as MedgwError).code).toBe('MEDGW_ERR_CONFIG');
      expect((refusal as MedgwError).message).toContain('adminPassword');
      expect((refusal as MedgwError).message).not.toContain('pw-in-env-123');
    }
    const ok = loadConfig({
      env: { ...base, MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD_FILE: '/run/secret' },
    });
    expect(dynsecOptions(ok)).toMatchObject({
      adminUser: 'dynsec-admin',
      adminPassword: { file: '/run/secret' },
    });
    // without the plugin's admin, or with the embedded broker, medgw leaves the broker's accounts alone
    expect(
      dynsecOptions(
        loadConfig({ env: { MEDGW_MQTT_MODE: 'external', MEDGW_MQTT_EXTERNAL_URL: 'mqtt://h:1' } }),
      ),
    ).toBeUndefined();
    expect(dynsecOptions(loadConfig({ env: {} }))).toBeUndefined();
  });

  it('medgw devices add and forget on the command line, the admin password read from a file', async () => {
    const passwordFile = join(root, 'dynsec-admin-password');
    writeFileSync(passwordFile, `${broker.admin.password}\n`, { mode: 0o600 });
    const env = {
      MEDGW_MQTT_MODE: 'external',
      MEDGW_MQTT_EXTERNAL_URL: broker.url,
      MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_USER: broker.admin.user,
      MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD_FILE: passwordFile,
    };
    const dataDir = join(root, 'cli');
    const added = await runMedgw(
      ['devices', 'add', '--transport', 'mqtt', '--id', 'dyn-cli', '--data-dir', dataDir],
      { env },
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('dynamic-security plugin now has client "dyn-cli"');
    const secret = /^secret: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // the password never appears in what the command prints
    expect(added.stdout).not.toContain(broker.admin.password);
    const dev = device('dyn-cli', secret);
    await dev.connect();
    await dev.close();
    const forgot = await runMedgw(['devices', 'forget', 'dyn-cli', '--data-dir', dataDir], { env });
    expect(forgot.stderr).toBe('');
    expect(forgot.stdout).toContain('forgot device dyn-cli');
    await expect(device('dyn-cli', secret).connect()).rejects.toThrow(/not authori[sz]ed/i);
    // broker unreachable: refused with the code and its hint, and the registry unchanged
    const offline = await runMedgw(
      ['devices', 'add', '--transport', 'mqtt', '--id', 'dyn-cli-2', '--data-dir', dataDir],
      {
        env: {
          ...env,
          MEDGW_MQTT_EXTERNAL_URL: 'mqtt://127.0.0.1:1',
          MEDGW_MQTT_EXTERNAL_DYNSEC_TIMEOUT_MS: '500',
        },
      },
    );
    expect(offline.code).not.toBe(0);
    expect(offline.stderr).toContain('MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE');
    expect(offline.stderr).not.toContain(broker.admin.password);
    const list = await runMedgw(['devices', 'list', '--json', '--data-dir', dataDir], { env });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
