/**
 * External-broker mode: medgw connects with mqtt.js (MQTT 5) to a broker it does not own (Mosquitto,
 * EMQX, HiveMQ…) and takes the readings of every device through a shared subscription,
 * `$share/<group>/medgw/v1/devices/+/measurements/+`, so several gateway instances share the load and
 * each message goes to one of them (MQTT 5.0 §4.8.2).
 *
 * Acknowledgement after commit: mqtt.js `customHandleAcks` holds our PUBACK to the broker until the
 * pipeline resolved, i.e. until the journal committed. A receipt is published back on the device's
 * receipts topic for every message. When nothing could be stored (journal full, gateway stopping) the
 * message is left unacknowledged and the connection is dropped; the broker keeps it in the gateway's
 * persistent session (clean start off, session expiry set) and delivers it again after reconnection.
 *
 * Device authentication and topic rights are the broker's job in this mode. With Mosquitto's
 * dynamic-security plugin (`dynsec` option, gateway/mqtt/dynsec.ts) medgw manages them itself: each
 * device gets its broker client and role from `medgw devices add`, and `start()` first gives the
 * gateway user its role. Without it, the broker's own files must let device X
 * publish only to medgw/v1/devices/X/measurements/+ and read only medgw/v1/devices/X/receipts (with
 * Mosquitto: `pattern write medgw/v1/devices/%u/measurements/+` and
 * `pattern read medgw/v1/devices/%u/receipts` in its acl_file), and let the gateway's own user read
 * the measurements and write the receipts. The gateway still refuses readings of devices its registry
 * does not know (MEDGW_ERR_REGISTRY_UNKNOWN receipt).
 */
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MedgwError } from '../../kernel/errors.ts';
import type { Component, ReadingSink } from '../contracts.ts';
import { shortId } from '../log.ts';
import { type DynsecOptions, gatewayRole, withDynsec } from './dynsec.ts';
import { encodeReceipt, ingestMessage, type PayloadDecoder } from './ingest.ts';
import { ALL_MEASUREMENTS, parseMeasurementTopic, receiptTopic } from './topics.ts';

export interface ExternalBrokerOptions {
  /** mqtt:// or mqtts:// URL of the broker. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Shared-subscription group: every gateway instance of one site uses the same group. */
  readonly group: string;
  /** Stable per instance so the broker keeps its session across restarts (default: medgw-<group>-<host>). */
  readonly clientId?: string;
  /** How long the broker keeps the session (and unacknowledged messages) while the gateway is away. */
  readonly sessionExpirySeconds?: number;
  /** Delay before reconnecting after a drop (ms). */
  readonly reconnectPeriodMs?: number;
  /**
   * Connections this instance opens, all in the shared group (client ids `<clientId>-<n>`). mqtt.js
   * takes the next message of a connection only after the previous one is acknowledged, so several
   * connections let several messages share one journal commit. Default 4.
   */
  readonly connections?: number;
  /** TLS material and other mqtt.js options (ca, cert, key, rejectUnauthorized…). */
  readonly extra?: IClientOptions;
  /** Mosquitto's dynamic-security plugin: `start()` gives the gateway user its role before subscribing. */
  readonly dynsec?: DynsecOptions;
  /**
   * With `dynsec`: the registry's MQTT device ids. At start, those the broker has no client for are
   * logged with the command that repairs them (an add interrupted between the registry and the broker).
   */
  readonly mqttDevices?: () => Iterable<string>;
}

export interface ExternalBrokerContext {
  readonly sink: ReadingSink;
  readonly decode?: PayloadDecoder;
  readonly log: Logger;
}

export interface ExternalCounters {
  messages: number;
  receipts: { accepted: number; rejected: number; duplicate: number };
  /** Messages left unacknowledged for the broker to deliver again (nothing stored). */
  unacknowledged: number;
  /** Messages on a topic that is not a measurement topic (acknowledged, ignored, logged). */
  foreign: number;
  reconnects: number;
}

/** MQTT 5 PUBACK reason codes the gateway uses (MQTT 5.0 §3.4.2.1). */
const PUBACK_SUCCESS = 0;
const PUBACK_TOPIC_NAME_INVALID = 0x90;

export class ExternalBrokerClient implements Component {
  readonly name = 'mqtt-external';
  readonly counters: ExternalCounters = {
    messages: 0,
    receipts: { accepted: 0, rejected: 0, duplicate: 0 },
    unacknowledged: 0,
    foreign: 0,
    reconnects: 0,
  };
  private clients: MqttClient[] = [];
  private stopping = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly reconnectTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ctx: ExternalBrokerContext,
    private readonly options: ExternalBrokerOptions,
  ) {
    this.log = ctx.log.child({ component: 'mqtt-external' });
  }

  /** The broker this instance takes readings from, for the start-up banner (never its credentials). */
  endpoints(): { name: string; url: string }[] {
    if (this.clients.length === 0) return [];
    const url = new URL(this.options.url);
    url.username = '';
    url.password = '';
    return [{ name: `MQTT external broker (group ${this.options.group})`, url: url.toString() }];
  }

  /** The shared subscription this instance holds. */
  get subscription(): string {
    return `$share/${this.options.group}/${ALL_MEASUREMENTS}`;
  }

  async start(): Promise<void> {
    this.stopping = false;
    const count = Math.max(1, this.options.connections ?? 4);
    const base = this.options.clientId ?? `medgw-${this.options.group}-${hostname()}`;
    const { dynsec, username, password, group } = this.options;
    if (dynsec) {
      if (username === undefined) {
        throw new MedgwError(
          'MEDGW_ERR_CONFIG',
          'mqtt.external.username is required with mqtt.external.dynsec: the gateway user gets its role under that name',
        );
      }
      const { added, removed, unprovisioned } = await withDynsec(dynsec, async (admin) => ({
        ...(await admin.ensureGateway(username, password, group)),
        unprovisioned: this.options.mqttDevices ? await admin.unprovisioned(this.options.mqttDevices()) : [],
      }));
      if (unprovisioned.length > 0) {
        this.log.warn(
          // a device id may be a serial number that names a person's device: pseudonyms, as everywhere
          { count: unprovisioned.length, devices: unprovisioned.slice(0, 20).map(shortId) },
          'registered MQTT devices have no client at the broker and cannot connect (an add interrupted before the broker?): give each a new secret with `medgw devices add --again --id <id>`',
        );
      }
      if (added.length > 0 || removed.length > 0) {
        // an upgrade changed what the gateway may do: the role's ACLs now say so (topics only, no secret)
        const acl = (a: { acltype: string; topic: string; allow: boolean }) =>
          `${a.allow ? 'allow' : 'deny'} ${a.acltype} ${a.topic}`;
        this.log.warn(
          { group, role: gatewayRole(group), added: added.map(acl), removed: removed.map(acl) },
          'gateway role updated at the broker (dynamic security): its ACLs differed from this version’s',
        );
      }
      this.log.info({ group }, 'gateway role granted by the broker (dynamic security)');
    }
    try {
      for (let n = 1; n <= count; n++) this.clients.push(await this.connect(`${base}-${n}`));
    } catch (e) {
      await Promise.allSettled(this.clients.map((c) => c.endAsync(true)));
      this.clients = [];
      throw e;
    }
    this.log.info({ group: this.options.group, connections: count }, 'subscribed to the external broker');
  }

  private async connect(clientId: string): Promise<MqttClient> {
    const o = this.options;
    // The client exists before it connects: a resumed session may deliver queued messages at once.
    const client: MqttClient = mqtt.connect(o.url, {
      protocolVersion: 5,
      clientId,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      clean: false,
      properties: { sessionExpiryInterval: o.sessionExpirySeconds ?? 3_600 },
      reconnectPeriod: o.reconnectPeriodMs ?? 1_000,
      connectTimeout: 10_000,
      customHandleAcks: (topic, message, _packet, done) => this.handle(client, topic, message, done),
      ...o.extra,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error('connection closed before CONNACK')));
      });
    } catch (e) {
      client.end(true);
      throw new MedgwError(
        'MEDGW_ERR_MQTT_BROKER',
        `cannot connect to the external MQTT broker: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    // Small acknowledgements and receipts: without noDelay, Nagle and delayed ACKs add ~40 ms each.
    const noDelay = () =>
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    noDelay();
    client.on('connect', noDelay);
    client.on('error', (err) =>
      this.log.warn({ code: 'MEDGW_ERR_MQTT_BROKER', err: err.message }, 'broker error'),
    );
    client.on('reconnect', () => {
      this.counters.reconnects += 1;
    });
    const granted = await client.subscribeAsync(this.subscription, { qos: 1 });
    const code = granted[0]?.qos ?? 128;
    if (code > 1) {
      await client.endAsync(true);
      throw new MedgwError(
        'MEDGW_ERR_MQTT_BROKER',
        `the broker refused the shared subscription ${this.subscription} (reason 0x${code.toString(16)}); it must speak MQTT 5 and allow the gateway user to read medgw/v1/devices/+/measurements/+`,
      );
    }
    return client;
  }

  /** Stops taking messages, lets those being committed finish and acknowledge, then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.reconnectTimers) clearTimeout(t);
    this.reconnectTimers.clear();
    const clients = this.clients;
    this.clients = [];
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled(clients.map((c) => c.endAsync()));
  }

  private handle(
    client: MqttClient,
    topic: string,
    message: Buffer,
    done: (error: Error | number, code?: number) => void,
  ): void {
    this.counters.messages += 1;
    const target = parseMeasurementTopic(topic);
    if (!target) {
      this.counters.foreign += 1;
      this.log.warn({ code: 'MEDGW_ERR_MQTT_TOPIC' }, 'message on a topic that is not a measurement topic');
      done(PUBACK_TOPIC_NAME_INVALID);
      return;
    }
    const work = ingestMessage(this.ctx, target.deviceId, target.encoding, message).then(
      (outcome) => {
        this.counters.receipts[outcome.receipt.status] += 1;
        // Before a drop the receipt goes at QoS 0 and the drop waits until it is written: its QoS 1
        // PUBACK could never arrive, mqtt.js reads nothing until this message is acknowledged.
        const qos = outcome.ack ? 1 : 0;
        client.publish(receiptTopic(target.deviceId), encodeReceipt(outcome.receipt), { qos }, (err) => {
          if (err)
            this.log.warn({ device: shortId(target.deviceId), err: err.message }, 'receipt not published');
          if (!outcome.ack) this.dropUnacknowledged(client);
        });
        if (outcome.ack) done(PUBACK_SUCCESS);
      },
      (e: unknown) => {
        this.log.error(
          { device: shortId(target.deviceId), err: e instanceof Error ? e.message : String(e) },
          'ingest failed',
        );
        this.dropUnacknowledged(client);
      },
    );
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /**
   * Nothing was stored: no PUBACK. Dropping the connection makes the broker deliver the message again
   * from the persistent session once the gateway reconnects (after `reconnectPeriodMs`).
   */
  private dropUnacknowledged(client: MqttClient): void {
    this.counters.unacknowledged += 1;
    if (this.stopping) return;
    // A normal DISCONNECT (not forced) flushes the receipt already written; the session stays.
    client.end(false, () => {
      if (this.stopping) return;
      const timer = setTimeout(() => {
        this.reconnectTimers.delete(timer);
        if (!this.stopping) client.reconnect();
      }, this.options.reconnectPeriodMs ?? 1_000);
      this.reconnectTimers.add(timer);
    });
  }
}
