/**
 * Mosquitto's dynamic-security plugin, driven by medgw: with an external Mosquitto the broker, not the
 * gateway, authenticates devices. `medgw devices add --transport mqtt` creates the device's broker
 * client (user name = client id = device id, the generated 256-bit secret as password) and its role;
 * `medgw devices forget` deletes both (the plugin also disconnects the device at once). `medgw start`
 * gives the gateway's own user its role (read every measurement through the shared subscription,
 * write receipts).
 *
 * The plugin is driven over MQTT: a JSON `{"commands":[…]}` published to `$CONTROL/dynamic-security/v1`
 * by a client holding the plugin's admin role, answered on `$CONTROL/dynamic-security/v1/response` with
 * `{"responses":[…]}`, one entry per command, in order, each with `error` when the command failed
 * (eclipse/mosquitto plugins/dynamic-security/README.md; https://mosquitto.org/documentation/dynamic-security/).
 * The response topic is shared by every admin client, so each command carries a `correlationData` the
 * plugin echoes: several gateway instances (or mosquitto_ctrl) may administer the broker at once.
 *
 * Roles (explicit topics, no `%u` substitution: the Mosquitto 2.0 plugin does not substitute in ACLs):
 *   medgw-device-<id>        publishClientSend    medgw/v1/devices/<id>/measurements/+
 *                            subscribeLiteral     medgw/v1/devices/<id>/receipts
 *                            publishClientReceive medgw/v1/devices/<id>/receipts
 *   medgw-gateway-<group>    subscribeLiteral     $share/<group>/medgw/v1/devices/+/measurements/+
 *                            publishClientReceive medgw/v1/devices/+/measurements/+
 *                            publishClientSend    medgw/v1/devices/+/receipts
 * Mosquitto 2.0 checks a shared subscription against its full `$share/<group>/…` filter, hence the
 * literal. Everything else falls to the plugin's default access (`mosquitto_ctrl dynsec init`: publish
 * and subscribe denied), so a device cannot publish under another device's topic nor read its receipts.
 *
 * Nothing half-done (gateway/registry/operations.ts): `add` inserts the registry row first, which
 * decides between instances adding one id at once, and only the winner provisions the broker (a
 * broker that refuses or does not answer: the row is removed again; an add interrupted between the
 * two is repaired by `add --again`); `forget` changes the broker first. A refused command is undone
 * (a role created for a client the plugin then refused is deleted) and reported as
 * MEDGW_ERR_MQTT_DYNSEC_REFUSED; no answer at all is MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE. medgw marks
 * the clients it creates (`textname`) and deletes or replaces only those: a device id that names a
 * broker client medgw did not create (the admin, a gateway user) is refused, never overwritten.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { MedgwError } from '../../kernel/errors.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceProvisioner } from '../registry/operations.ts';
import { ALL_MEASUREMENTS, TOPIC_ROOT } from './topics.ts';

export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
export const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
/** The `textname` medgw gives the broker clients it creates: only those are ever replaced or deleted. */
export const DEVICE_TEXTNAME = 'medgw device';

export interface DynsecOptions {
  /** mqtt:// or mqtts:// URL of the broker (mqtt.external.url). */
  readonly url: string;
  readonly adminUser: string;
  /** The admin password, or where to read it (first line): read at each connection. */
  readonly adminPassword: string | { readonly file: string };
  /** Connection and answer timeout (ms). */
  readonly timeoutMs?: number;
  /** TLS material and other mqtt.js options. */
  readonly extra?: IClientOptions;
}

export type DynsecCommand = { readonly command: string } & Record<string, unknown>;

export interface DynsecResponse {
  readonly command: string;
  readonly error?: string;
  readonly data?: unknown;
}

export type AclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

export interface Acl {
  readonly acltype: AclType;
  readonly topic: string;
  readonly allow: boolean;
  readonly priority?: number;
}

export const deviceRole = (deviceId: string): string => `medgw-device-${deviceId}`;
export const gatewayRole = (group: string): string => `medgw-gateway-${group}`;

/** What a device may do: publish its own measurements, read its own receipts, nothing else. */
export function deviceAcls(deviceId: string): Acl[] {
  const base = `${TOPIC_ROOT}/${deviceId}`;
  return [
    { acltype: 'publishClientSend', topic: `${base}/measurements/+`, allow: true },
    { acltype: 'subscribeLiteral', topic: `${base}/receipts`, allow: true },
    { acltype: 'publishClientReceive', topic: `${base}/receipts`, allow: true },
  ];
}

/** What the gateway user may do: take every measurement through the group's shared subscription, answer receipts. */
export function gatewayAcls(group: string): Acl[] {
  return [
    { acltype: 'subscribeLiteral', topic: `$share/${group}/${ALL_MEASUREMENTS}`, allow: true },
    { acltype: 'publishClientReceive', topic: ALL_MEASUREMENTS, allow: true },
    { acltype: 'publishClientSend', topic: `${TOPIC_ROOT}/+/receipts`, allow: true },
  ];
}

const unreachable = (why: string) =>
  new MedgwError(
    'MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE',
    `the broker's dynamic-security plugin gave no answer: ${why}`,
  );
const refused = (why: string) =>
  new MedgwError('MEDGW_ERR_MQTT_DYNSEC_REFUSED', `the broker's dynamic-security plugin refused: ${why}`);

/** One admin connection to the plugin: `run` sends commands and resolves with their answers, in order. */
export class DynsecAdmin {
  private readonly pending = new Map<
    string,
    { resolve: (r: DynsecResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  private constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs: number,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      const responses = (body as { responses?: unknown }).responses;
      if (!Array.isArray(responses)) return;
      for (const r of responses as (DynsecResponse & { correlationData?: unknown })[]) {
        if (typeof r?.correlationData !== 'string') continue;
        const waiter = this.pending.get(r.correlationData);
        if (!waiter) continue; // another admin client's answer
        this.pending.delete(r.correlationData);
        clearTimeout(waiter.timer);
        waiter.resolve({
          command: r.command,
          ...(typeof r.error === 'string' ? { error: r.error } : {}),
          ...(r.data !== undefined ? { data: r.data } : {}),
        });
      }
    });
  }

  /** Connects as the plugin's admin and subscribes to its answers. */
  static async connect(options: DynsecOptions): Promise<DynsecAdmin> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const password = readAdminPassword(options.adminPassword);
    const client = mqtt.connect(options.url, {
      protocolVersion: 5,
      clientId: `medgw-dynsec-${randomUUID()}`,
      username: options.adminUser,
      password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      ...options.extra,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(unreachable(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        client.once('error', (e: Error & { code?: unknown }) => {
          clearTimeout(timer);
          // a CONNACK with a reason code is an answer (bad credentials); a socket error is not
          reject(
            typeof e.code === 'number'
              ? refused(`the admin client "${options.adminUser}" was not let in (${e.message})`)
              : unreachable(
                  /connack timeout/i.test(e.message)
                    ? `${options.url}: no CONNACK within ${timeoutMs} ms`
                    : `${options.url}: ${e.message}`,
                ),
          );
        });
        client.once('close', () => {
          clearTimeout(timer);
          reject(unreachable(`${options.url}: connection closed before CONNACK`));
        });
      });
      const granted = await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
      const code = granted[0]?.qos ?? 128;
      if (code > 1) {
        throw refused(
          `the admin client "${options.adminUser}" may not subscribe to ${RESPONSE_TOPIC} (reason 0x${code.toString(16)}); give it the plugin's admin role`,
        );
      }
    } catch (e) {
      client.end(true);
      if (e instanceof MedgwError) throw e;
      throw unreachable(e instanceof Error ? e.message : String(e));
    }
    return new DynsecAdmin(client, timeoutMs);
  }

  /**
   * Sends commands in one message (the plugin runs them in order) and resolves with one answer per
   * command. A command's own failure is in its answer's `error`; no answer in time rejects with
   * MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE.
   */
  async run(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const tagged = commands.map((c) => ({ ...c, correlationData: randomUUID() }));
    const answers = tagged.map(
      (c) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(c.correlationData);
            reject(unreachable(`no answer to ${c.command} within ${this.timeoutMs} ms`));
          }, this.timeoutMs);
          this.pending.set(c.correlationData, { resolve, reject, timer });
        }),
    );
    // settle every answer even when one rejects, so no timer is left behind
    const all = Promise.allSettled(answers);
    let publishTimer: NodeJS.Timeout | undefined;
    try {
      // a broker that took the connection may still never acknowledge: the PUBACK wait is bounded too
      await Promise.race([
        this.client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 }),
        new Promise<never>((_, reject) => {
          publishTimer = setTimeout(
            () => reject(unreachable(`no answer to ${tagged[0]?.command} within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      clearTimeout(publishTimer);
      for (const c of tagged) {
        const w = this.pending.get(c.correlationData);
        this.pending.delete(c.correlationData);
        if (!w) continue;
        clearTimeout(w.timer);
        w.reject(unreachable('the command was not sent'));
      }
      await all; // every answer settled: no timer left behind
      if (e instanceof MedgwError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      // MQTT 5 PUBACK 0x87: the admin client may not publish to $CONTROL/dynamic-security/v1
      throw /not authori[sz]ed|0x87|135/i.test(message)
        ? refused(`the admin client may not publish to ${CONTROL_TOPIC} (${message})`)
        : unreachable(message);
    }
    clearTimeout(publishTimer);
    const settled = await all;
    const out: DynsecResponse[] = [];
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      out.push(s.value);
    }
    return out;
  }

  /** Runs commands that must all succeed; the first error is thrown as MEDGW_ERR_MQTT_DYNSEC_REFUSED. */
  async runAll(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const answers = await this.run(commands);
    const failed = answers.find((a) => a.error !== undefined);
    if (failed) throw refused(`${failed.command}: ${failed.error}`);
    return answers;
  }

  /** The broker client of this user name, or undefined when there is none. */
  async getClient(
    username: string,
  ): Promise<{ username: string; textname?: string; roles: { rolename: string }[] } | undefined> {
    const [a] = await this.run([{ command: 'getClient', username }]);
    if (a?.error === 'Client not found') return undefined;
    if (a?.error !== undefined) throw refused(`getClient: ${a.error}`);
    const client = (a?.data as { client?: unknown } | undefined)?.client as
      | { username: string; textname?: string; roles?: { rolename: string }[] }
      | undefined;
    if (!client) throw refused('getClient: an answer without client');
    return { ...client, roles: client.roles ?? [] };
  }

  /** The user names of every broker client (one `listClients`, all of them). */
  async listClientNames(): Promise<Set<string>> {
    const [a] = await this.run([{ command: 'listClients', verbose: false, count: -1 }]);
    if (a?.error !== undefined) throw refused(`listClients: ${a.error}`);
    const clients = (a?.data as { clients?: unknown } | undefined)?.clients;
    if (!Array.isArray(clients)) throw refused('listClients: an answer without clients');
    return new Set(
      clients.map((c) => (typeof c === 'string' ? c : String((c as { username?: unknown }).username))),
    );
  }

  /**
   * The MQTT devices of the registry (`deviceIds`) that have no broker client: an add interrupted
   * between the registry and the broker, or a client deleted by hand. They cannot connect; `medgw
   * devices add --again --id <id>` gives each a new secret and its client.
   */
  async unprovisioned(deviceIds: Iterable<string>): Promise<string[]> {
    const known = await this.listClientNames();
    return [...deviceIds].filter((id) => !known.has(id)).sort();
  }

  /**
   * Creates the device's role and broker client. A leftover of an earlier attempt (a client medgw
   * marked, or a role without client) is replaced; a client medgw did not create is refused.
   */
  async provisionDevice(deviceId: string, secret: string): Promise<void> {
    const role = deviceRole(deviceId);
    const existing = await this.getClient(deviceId);
    if (existing && existing.textname !== DEVICE_TEXTNAME) {
      throw refused(
        `the broker already has a client "${deviceId}" that medgw did not create; choose another device id or delete that client`,
      );
    }
    // leftovers of an attempt that got no answer: ours to replace ("not found" answers are fine)
    await this.run([
      ...(existing ? [{ command: 'deleteClient', username: deviceId }] : []),
      { command: 'deleteRole', rolename: role },
    ]);
    const [createdRole, createdClient] = await this.run([
      { command: 'createRole', rolename: role, textname: DEVICE_TEXTNAME, acls: deviceAcls(deviceId) },
      {
        command: 'createClient',
        username: deviceId,
        password: secret,
        // the plugin then lets this user name in only with this client id
        clientid: deviceId,
        textname: DEVICE_TEXTNAME,
        roles: [{ rolename: role }],
      },
    ]);
    if (createdRole?.error === undefined && createdClient?.error === undefined) return;
    // undo what was created, then refuse with the first error
    await this.run([
      ...(createdClient?.error === undefined ? [{ command: 'deleteClient', username: deviceId }] : []),
      ...(createdRole?.error === undefined ? [{ command: 'deleteRole', rolename: role }] : []),
    ]).catch(() => undefined);
    const failed = createdRole?.error !== undefined ? createdRole : createdClient;
    throw refused(`${failed?.command}: ${failed?.error}`);
  }

  /** Deletes the device's broker client (the plugin disconnects it) and its role. Absent: nothing to do. */
  async forgetDevice(deviceId: string): Promise<void> {
    const existing = await this.getClient(deviceId);
    if (existing && existing.textname !== DEVICE_TEXTNAME) {
      throw refused(
        `the broker client "${deviceId}" was not created by medgw; delete it with mosquitto_ctrl if it is this device's`,
      );
    }
    const answers = await this.run([
      ...(existing ? [{ command: 'deleteClient', username: deviceId }] : []),
      { command: 'deleteRole', rolename: deviceRole(deviceId) },
    ]);
    const failed = answers.find((a) => a.error !== undefined && !/not found/i.test(a.error));
    if (failed) throw refused(`${failed.command}: ${failed.error}`);
  }

  /** The ACLs of a role, or undefined when there is no such role. */
  async getRoleAcls(rolename: string): Promise<Acl[] | undefined> {
    const [a] = await this.run([{ command: 'getRole', rolename }]);
    if (a?.error === 'Role not found') return undefined;
    if (a?.error !== undefined) throw refused(`getRole ${rolename}: ${a.error}`);
    const role = (a?.data as { role?: { acls?: unknown } } | undefined)?.role;
    if (!role) throw refused('getRole: an answer without role');
    return Array.isArray(role.acls) ? (role.acls as Acl[]) : [];
  }

  /**
   * Makes an existing role's ACLs exactly `wanted` (an upgrade of medgw that changed the topic tree):
   * the ACLs it lacks are added, the others removed, each change one `addRoleACL`/`removeRoleACL`
   * (one ACL per type and topic in a role, so one whose `allow` differs is removed, then added).
   * Several instances starting together may align one role at once: an ACL another one has just added
   * or removed is not an error. Returns what changed.
   */
  async alignRoleAcls(
    rolename: string,
    wanted: readonly Acl[],
  ): Promise<{ added: Acl[]; removed: Acl[] } | undefined> {
    const current = await this.getRoleAcls(rolename);
    if (current === undefined) return undefined;
    const slot = (a: Acl) => `${a.acltype}\u0000${a.topic}`;
    const same = (a: Acl, b: Acl) =>
      a.allow === b.allow && (b.priority === undefined || (a.priority ?? -1) === b.priority);
    const removed = current.filter((c) => {
      const w = wanted.find((x) => slot(x) === slot(c));
      return !w || !same(c, w);
    });
    const added = wanted.filter((w) => {
      const c = current.find((x) => slot(x) === slot(w));
      return !c || !same(c, w);
    });
    if (removed.length === 0 && added.length === 0) return { added, removed };
    const answers = await this.run([
      ...removed.map((a) => ({ command: 'removeRoleACL', rolename, acltype: a.acltype, topic: a.topic })),
      ...added.map((a) => ({ command: 'addRoleACL', rolename, ...a })),
    ]);
    const failed = answers.find(
      (a) => a.error !== undefined && !/ACL not found|ACL with this topic already exists/i.test(a.error),
    );
    if (failed) throw refused(`${failed.command} ${rolename}: ${failed.error}`);
    return { added, removed };
  }

  /**
   * Gives the gateway's own user its role: creates the role when absent, the user when absent (with
   * `password`), and adds the role to an existing user that lacks it. A role that exists already gets
   * the ACLs this version wants (alignRoleAcls): what changed is returned, for the start log. Safe to
   * repeat; several gateway instances of one group share one role.
   */
  async ensureGateway(
    username: string,
    password: string | undefined,
    group: string,
  ): Promise<{ added: Acl[]; removed: Acl[] }> {
    const role = gatewayRole(group);
    const [createdRole] = await this.run([
      { command: 'createRole', rolename: role, textname: 'medgw gateway', acls: gatewayAcls(group) },
    ]);
    if (createdRole?.error !== undefined && createdRole.error !== 'Role already exists') {
      throw refused(`createRole ${role}: ${createdRole.error}`);
    }
    const aligned =
      createdRole?.error === undefined
        ? { added: [], removed: [] }
        : ((await this.alignRoleAcls(role, gatewayAcls(group))) ?? { added: [], removed: [] });
    const existing = await this.getClient(username);
    if (!existing) {
      if (password === undefined) {
        throw refused(
          `the broker has no client "${username}" and mqtt.external.password is not set to create it`,
        );
      }
      await this.runAll([
        {
          command: 'createClient',
          username,
          password,
          textname: 'medgw gateway',
          roles: [{ rolename: role }],
        },
      ]);
      return aligned;
    }
    if (!existing.roles.some((r) => r.rolename === role)) {
      await this.runAll([{ command: 'addClientRole', username, rolename: role }]);
    }
    return aligned;
  }

  async close(): Promise<void> {
    for (const w of this.pending.values()) {
      clearTimeout(w.timer);
      w.reject(unreachable('the admin connection was closed'));
    }
    this.pending.clear();
    await this.client.endAsync(true).catch(() => undefined);
  }
}

function readAdminPassword(p: DynsecOptions['adminPassword']): string {
  if (typeof p === 'string') return p;
  try {
    const line = readFileSync(p.file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    if (line === '') throw new Error('empty first line');
    return line;
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      `mqtt.external.dynsec.adminPasswordFile: cannot read ${p.file} (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

/** Runs `fn` on a fresh admin connection and closes it. */
export async function withDynsec<T>(
  options: DynsecOptions,
  fn: (admin: DynsecAdmin) => Promise<T>,
): Promise<T> {
  const admin = await DynsecAdmin.connect(options);
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** The plugin settings of a configuration, or undefined when the broker is not managed by medgw. */
export function dynsecOptions(config: Config): DynsecOptions | undefined {
  const m = config.mqtt;
  const d = m.external.dynsec;
  if (m.mode !== 'external' || d.adminUser === undefined || !m.external.url) return undefined;
  const adminPassword =
    d.adminPassword !== undefined
      ? d.adminPassword
      : d.adminPasswordFile !== undefined
        ? { file: d.adminPasswordFile }
        : undefined;
  if (adminPassword === undefined) {
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      'mqtt.external.dynsec.adminUser needs adminPassword (MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD) or adminPasswordFile',
    );
  }
  return { url: m.external.url, adminUser: d.adminUser, adminPassword, timeoutMs: d.timeoutMs };
}

/**
 * The provisioning hook `medgw devices add/forget` (and the admin API) run for MQTT devices: one admin
 * connection per operation (adding a device is rare; no connection is held between them).
 */
export class DynsecProvisioner implements DeviceProvisioner {
  constructor(private readonly options: DynsecOptions) {}

  provision(deviceId: string, secret: string): Promise<void> {
    return withDynsec(this.options, (a) => a.provisionDevice(deviceId, secret));
  }

  forget(deviceId: string): Promise<void> {
    return withDynsec(this.options, (a) => a.forgetDevice(deviceId));
  }
}

/** The provisioner of a configuration: the plugin's when mqtt.external.dynsec is set, else none. */
export function deviceProvisioner(config: Config): DeviceProvisioner | undefined {
  const o = dynsecOptions(config);
  return o ? new DynsecProvisioner(o) : undefined;
}
