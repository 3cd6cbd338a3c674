/**
 * The embedded MQTT broker (aedes 1.2, MQTT 3.1.1) with deny-by-default hooks:
 * - authenticate: client id = username = a registered MQTT device id. The right secret of a device
 *   is let in at once (one SHA-256 compared in constant time, registry/secrets.ts), ahead of the queue
 *   and of any back-off; any other answer waits its turn in a bounded queue (a bounded number at a
 *   time; an older scrypt record is checked on the thread pool, then migrated to the fast hash), so a
 *   burst of connections never stalls the PUBACKs and receipts of devices already connected.
 *   An unknown id takes the same path and the same time as a wrong secret for a known one (a dummy
 *   hash) and gets the same answer (CONNACK 4). Wrong secrets back off per device id and per remote
 *   address (limits.ts);
 * - a token bucket per device (limits.ts): a message over it is not stored (MEDGW_ERR_MQTT_RATE_LIMITED
 *   receipt; QoS 1: no PUBACK and the connection closes, QoS 0: dropped), audited in the device's
 *   summary of refused inputs; a device that keeps exceeding it is disconnected and backs off;
 * - authorizePublish: only `medgw/v1/devices/{ownId}/measurements/{json|cbor|protobuf}`, not retained;
 * - authorizeSubscribe: only `medgw/v1/devices/{ownId}/receipts` (any other filter gets SUBACK 0x80);
 * - authorizeForward: a device receives its own receipts and nothing else. Receipts are handed
 *   straight to their device's connection (client.publish, which still passes this hook), at the
 *   QoS it subscribed with, without routing through the broker.
 *
 * Acknowledgement after commit: aedes runs `authorizePublish` before it writes the PUBACK (QoS 1) or
 * PUBREC (QoS 2) (node_modules/aedes/lib/handlers/publish.js: authorizePublish, then enqueuePublish),
 * so the hook decodes the payload and awaits the pipeline, which resolves only once the journal has
 * committed. A receipt goes to the device's receipts topic for every message.
 *
 * Journal full (or gateway stopping): the device gets a `rejected` receipt with MEDGW_ERR_JOURNAL_FULL
 * (or MEDGW_ERR_PIPELINE_STOPPED), then the connection is closed WITHOUT a PUBACK: MQTT 3.1.1 has no
 * negative PUBACK (MQTT-3.3.5-2: acknowledge or close), so a PUBACK keeps meaning "stored". The message
 * stays in the device's session and is sent again after it reconnects.
 */

import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type PubrelPacket } from 'aedes';
import type { Logger } from 'pino';
import { MedgwError } from '../../kernel/errors.ts';
import type { Component, ReadingSink, Registry } from '../contracts.ts';
import { shortId } from '../log.ts';
import {
  encodeReceipt,
  ingestMessage,
  MAX_PAYLOAD_BYTES,
  type PayloadDecoder,
  type Receipt,
} from './ingest.ts';
import {
  type AuthLimitOptions,
  DEFAULT_AUTH_LIMITS,
  DEFAULT_RATE_LIMIT,
  DeviceRateLimit,
  FailureBackoff,
  type RateLimitOptions,
} from './limits.ts';
import { guardedConnection } from './packet-guard.ts';
import { parseMeasurementTopic, receiptTopic } from './topics.ts';

export interface BrokerOptions {
  /** TCP port (0 = any free port, see `address()`). */
  readonly port: number;
  readonly host?: string;
  /** Optional TLS listener, when a certificate and its key are configured (PEM). */
  readonly tls?: { readonly port: number; readonly cert: string | Buffer; readonly key: string | Buffer };
  /**
   * Queued secret checks running at once (an older record's scrypt, 16 MiB each, on the thread pool);
   * the others wait their turn. Default: the cores less one, at least 2 and at most 4 (libuv's default pool size).
   */
  readonly authConcurrency?: number;
  /** Per-device token bucket (defaults: DEFAULT_RATE_LIMIT, config mqtt.rateLimit). */
  readonly rateLimit?: Partial<RateLimitOptions>;
  /** Secret-guessing limits (defaults: DEFAULT_AUTH_LIMITS, config mqtt.auth). */
  readonly authLimits?: Partial<AuthLimitOptions>;
  /** The clock of the rate limit and the back-offs (tests). */
  readonly now?: () => number;
}

export interface BrokerContext {
  readonly registry: Registry;
  readonly sink: ReadingSink;
  /** Defaults to the drivers' payload codecs (drivers/mqtt). */
  readonly decode?: PayloadDecoder;
  readonly log: Logger;
}

/** Why a connection, publish, subscription or forward was refused (counted, logged with MEDGW_ERR_MQTT_*). */
export type RefusalReason =
  | 'no-credentials'
  | 'client-id-mismatch'
  | 'unknown-device'
  | 'bad-secret'
  | 'auth-busy'
  | 'auth-backoff'
  | 'rate-backoff'
  | 'rate-limited'
  | 'will'
  | 'publish-topic'
  | 'retained'
  | 'oversized'
  | 'subscribe-topic'
  | 'forward';

export interface BrokerCounters {
  connections: number;
  refused: Record<RefusalReason, number>;
  receipts: { accepted: number; rejected: number; duplicate: number };
  /** Messages closed without a PUBACK because nothing could be stored (journal full, stopping). */
  unacknowledged: number;
  /** Devices disconnected because they kept exceeding their rate limit. */
  rateDisconnects: number;
  /** Connections let in at once: the right secret of a fast-hash record, or of a scrypt one proven before. */
  knownSecret: number;
  /** Older scrypt records rewritten to the fast hash after their device's successful login. */
  secretsMigrated: number;
}

/**
 * Largest MQTT packet a client may send: a reading payload (MAX_PAYLOAD_BYTES) plus topic and header
 * room. A bigger publish between the two limits gets a `rejected` receipt; beyond this one the
 * connection is closed before the packet is buffered.
 */
export const MAX_PACKET_BYTES = 4 * MAX_PAYLOAD_BYTES;

/** A refusal reason is logged at most once per window; the others are counted (and said on the next line). */
const REFUSAL_LOG_WINDOW_MS = 10_000;

/** Pending connections the listening sockets queue (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

/** How long to wait for the device to take its receipt before closing a connection without PUBACK. */
const RECEIPT_GRACE_MS = 2_000;

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3, Table 3.1): 3 server unavailable, 4 bad user name or password, 5 not authorized. */
function authError(message: string, returnCode: 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export class EmbeddedBroker implements Component {
  readonly name = 'mqtt-broker';
  readonly counters: BrokerCounters = {
    connections: 0,
    refused: {
      'no-credentials': 0,
      'client-id-mismatch': 0,
      'unknown-device': 0,
      'bad-secret': 0,
      'auth-busy': 0,
      'auth-backoff': 0,
      'rate-backoff': 0,
      'rate-limited': 0,
      will: 0,
      'publish-topic': 0,
      retained: 0,
      oversized: 0,
      'subscribe-topic': 0,
      forward: 0,
    },
    receipts: { accepted: 0, rejected: 0, duplicate: 0 },
    unacknowledged: 0,
    rateDisconnects: 0,
    knownSecret: 0,
    secretsMigrated: 0,
  };
  private aedes: Aedes | undefined;
  private servers: Server[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly withWill = new WeakSet<Client>();
  /** When each refusal reason was last logged, and how many since were only counted. */
  private readonly refusalLog = new Map<RefusalReason, { at: number; unlogged: number }>();
  /** Clients being disconnected for their rate. */
  private readonly cutOff = new WeakSet<Client>();
  private readonly authQueue: (() => Promise<void>)[] = [];
  private authRunning = 0;
  private readonly authConcurrency: number;
  private readonly authLimits: AuthLimitOptions;
  private readonly rate: DeviceRateLimit;
  private readonly idFailures: FailureBackoff;
  private readonly addressFailures: FailureBackoff;
  /** The remote address of each connection aedes was handed (for the per-address back-off). */
  private readonly remote = new WeakMap<object, string>();
  private readonly log: Logger;
  private ports: { port: number; tlsPort?: number } | undefined;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly options: BrokerOptions,
  ) {
    this.log = ctx.log.child({ component: 'mqtt' });
    this.authConcurrency = Math.max(
      1,
      Math.floor(options.authConcurrency ?? Math.min(4, Math.max(2, availableParallelism() - 1))),
    );
    const now = options.now ?? Date.now;
    this.authLimits = { ...DEFAULT_AUTH_LIMITS, ...options.authLimits };
    this.rate = new DeviceRateLimit({ ...DEFAULT_RATE_LIMIT, ...options.rateLimit }, now);
    this.idFailures = new FailureBackoff(this.authLimits, now);
    this.addressFailures = new FailureBackoff(this.authLimits, now);
  }

  /** Where devices connect, for the start-up banner. */
  endpoints(): { name: string; url: string }[] {
    if (!this.ports) return [];
    const host = this.options.host && this.options.host !== '0.0.0.0' ? this.options.host : '127.0.0.1';
    const out = [{ name: 'MQTT broker', url: `mqtt://${host}:${this.ports.port}` }];
    if (this.ports.tlsPort !== undefined)
      out.push({ name: 'MQTT broker (TLS)', url: `mqtts://${host}:${this.ports.tlsPort}` });
    return out;
  }

  /** The ports actually bound (after start). */
  address(): { port: number; tlsPort?: number } {
    if (!this.ports) throw new MedgwError('MEDGW_ERR_START_FAILED', 'the MQTT broker is not started yet');
    return this.ports;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      maxClientsIdLength: 128,
      // A will message would be published by the broker on the device's behalf: not a reading, refused.
      preConnect: (client, packet, done) => {
        if (packet.will) this.withWill.add(client);
        done(null, true);
      },
      // The right secret answers at once; other checks wait their turn, authConcurrency at a time (an
      // older record's scrypt on the thread pool): a burst of connections does not stall the PUBACKs
      // and receipts of devices already connected.
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => {
        if (sub.topic === receiptTopic(client.id)) {
          done(null, { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 });
          return;
        }
        this.refuse('subscribe-topic', client.id);
        done(null, null);
      },
      authorizeForward: (client, packet) => {
        if (packet.topic === receiptTopic(client.id)) return packet;
        this.refuse('forward', client.id);
        return null;
      },
    });
    aedes.on('clientReady', () => {
      this.counters.connections += 1;
    });
    aedes.on('clientError', (client, err) => {
      this.log.debug({ device: shortId(client?.id ?? '-'), err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => {
      this.log.debug({ err: err.message }, 'connection error');
    });
    this.aedes = aedes;
    let port: number;
    let tlsPort: number | undefined;
    try {
      // Small request/acknowledge exchanges: without noDelay, Nagle and delayed ACKs add ~40 ms per PUBACK.
      const tcp = createNetServer({ noDelay: true }, (socket) => this.accept(aedes, socket));
      this.servers.push(tcp);
      port = await listen(tcp, this.options.port, this.options.host);
      if (this.options.tls) {
        const secure = createTlsServer(
          { cert: this.options.tls.cert, key: this.options.tls.key, noDelay: true },
          (socket) => this.accept(aedes, socket),
        );
        this.servers.push(secure);
        tlsPort = await listen(secure, this.options.tls.port, this.options.host);
      }
    } catch (e) {
      await this.stop();
      throw new MedgwError(
        'MEDGW_ERR_START_FAILED',
        `the MQTT broker cannot listen on ${this.options.host ?? '0.0.0.0'} port ${this.options.port}${this.options.tls ? ` / TLS ${this.options.tls.port}` : ''}: ${e instanceof Error ? e.message : String(e)}; choose a free port (mqtt.port, mqtt.tls.port)`,
      );
    }
    this.ports = tlsPort !== undefined ? { port, tlsPort } : { port };
    this.log.info({ port, tlsPort }, 'MQTT broker listening');
  }

  async stop(): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return;
    this.aedes = undefined;
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers = [];
    // Drain: messages being committed finish (and get their PUBACK) before the clients are closed.
    await Promise.allSettled([...this.inflight]);
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
  }

  /** Hands a new connection to aedes behind the packet size guard. */
  private accept(aedes: Aedes, socket: Socket): void {
    const conn = guardedConnection(socket, MAX_PACKET_BYTES, (announced) => {
      this.counters.refused.oversized += 1;
      this.log.warn(
        { code: 'MEDGW_ERR_PAYLOAD_TOO_LARGE', bytes: announced },
        'MQTT packet too large, connection closed',
      );
    });
    this.remote.set(conn, socket.remoteAddress ?? '-');
    aedes.handle(conn);
  }

  private refuse(reason: RefusalReason, deviceId: string | undefined): void {
    this.counters.refused[reason] += 1;
    const code =
      reason === 'will' ||
      reason === 'no-credentials' ||
      reason === 'client-id-mismatch' ||
      reason === 'unknown-device' ||
      reason === 'bad-secret'
        ? 'MEDGW_ERR_MQTT_AUTH'
        : reason === 'auth-busy' || reason === 'auth-backoff'
          ? 'MEDGW_ERR_MQTT_AUTH_BUSY'
          : reason === 'rate-backoff' || reason === 'rate-limited'
            ? 'MEDGW_ERR_MQTT_RATE_LIMITED'
            : 'MEDGW_ERR_MQTT_TOPIC';
    // one line per reason per window, with how many were not logged: a flood of refusals is counted,
    // not written out line by line
    const now = Date.now();
    const last = this.refusalLog.get(reason);
    if (last && now - last.at < REFUSAL_LOG_WINDOW_MS) {
      last.unlogged += 1;
      return;
    }
    this.refusalLog.set(reason, { at: now, unlogged: 0 });
    this.log.warn(
      {
        device: shortId(deviceId ?? '-'),
        code,
        reason,
        ...(last?.unlogged ? { unlogged: last.unlogged } : {}),
      },
      'MQTT request refused',
    );
  }

  private enqueueAuth(check: () => Promise<void>): void {
    this.authQueue.push(check);
    this.drainAuth();
  }

  /** Starts queued checks while fewer than authConcurrency are running. */
  private drainAuth(): void {
    while (this.authRunning < this.authConcurrency) {
      const check = this.authQueue.shift();
      if (!check) return;
      this.authRunning += 1;
      void check()
        .catch((e: unknown) => {
          this.log.error(
            { code: 'MEDGW_ERR_MQTT_AUTH', err: e instanceof Error ? e.message : String(e) },
            'authentication hook failed',
          );
        })
        .finally(() => {
          this.authRunning -= 1;
          this.drainAuth();
        });
    }
  }

  /**
   * The cheap checks answer at once. Then the right secret lets the device in at once (one SHA-256
   * in constant time; an older scrypt record only if proven before in this process); otherwise,
   * unless its id or address is backing off or the queue is full, the check waits its turn. A known
   * and an unknown id take that same path (the registry checks an unknown id against a dummy hash)
   * and get the same answer.
   */
  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    if (!username || !password) {
      this.refuse('no-credentials', client.id);
      done(authError('a device id and secret are required', 5), false);
      return;
    }
    if (client.id !== username) {
      this.refuse('client-id-mismatch', client.id);
      done(authError('the client id must equal the username (the device id)', 5), false);
      return;
    }
    if (this.withWill.has(client)) {
      this.refuse('will', client.id);
      done(authError('a will message is not accepted', 5), false);
      return;
    }
    const secret = password.toString('utf8');
    if (this.ctx.registry.knowsDeviceSecret?.(username, secret)) {
      this.counters.knownSecret += 1;
      // an older scrypt record proven before whose migration did not happen yet: try it again
      void this.upgradeSecret(username, secret);
      this.admit(username, done);
      return;
    }
    const address = this.remote.get(client.conn as object) ?? '-';
    if (this.idFailures.blockedFor(username) > 0 || this.addressFailures.blockedFor(address) > 0) {
      this.refuse('auth-backoff', username);
      done(authError('too many wrong secrets: back off before trying again', 3), false);
      return;
    }
    if (this.authQueue.length >= this.authLimits.maxPending) {
      this.refuse('auth-busy', username);
      done(authError('too many connections are waiting for their secret check', 3), false);
      return;
    }
    this.enqueueAuth(() => this.checkSecret(client, username, secret, address, done));
  }

  /** A proven device: in, unless it is backing off after being disconnected for its rate. */
  private admit(
    deviceId: string,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const wait = this.rate.backoffRemaining(deviceId);
    if (wait > 0) {
      this.refuse('rate-backoff', deviceId);
      done(authError(`rate limit exceeded: reconnect in ${Math.ceil(wait / 1000)} s`, 3), false);
      return;
    }
    done(null, true);
  }

  private async checkSecret(
    client: Client,
    username: string,
    secret: string,
    address: string,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    // a device that went away while waiting its turn costs no scrypt (aedes ignores the answer)
    if (client.closed) {
      done(authError('the connection closed before its secret was checked', 5), false);
      return;
    }
    // its id or address started backing off while it waited (the guesses queued before it failed)
    if (this.idFailures.blockedFor(username) > 0 || this.addressFailures.blockedFor(address) > 0) {
      this.refuse('auth-backoff', username);
      done(authError('too many wrong secrets: back off before trying again', 3), false);
      return;
    }
    let ok: boolean;
    try {
      ok = await this.ctx.registry.verifyDeviceSecretAsync(username, secret);
    } catch (e) {
      // deny by default: a check that cannot complete is a refusal
      this.log.error(
        {
          device: shortId(username),
          code: 'MEDGW_ERR_MQTT_AUTH',
          err: e instanceof Error ? e.message : String(e),
        },
        'secret check failed',
      );
      ok = false;
    }
    if (!ok) {
      this.idFailures.fail(username);
      this.addressFailures.fail(address);
      // the reason is counted for operators; the device sees one answer for both
      const known = this.ctx.registry.getDevice(username)?.transport === 'mqtt';
      this.refuse(known ? 'bad-secret' : 'unknown-device', username);
      done(authError('bad user name or password', 4), false);
      return;
    }
    this.idFailures.succeed(username);
    // durable before the CONNACK: the next connection of this device costs one SHA-256, not a scrypt
    await this.upgradeSecret(username, secret);
    this.admit(username, done);
  }

  /**
   * Migrates an older scrypt record of a device that just proved its secret to the fast hash. A
   * failed registry write costs nothing but a log line: the device is in, its record stays scrypt and
   * the next login tries again.
   */
  private async upgradeSecret(deviceId: string, secret: string): Promise<void> {
    try {
      if (await this.ctx.registry.upgradeDeviceSecret?.(deviceId, secret)) this.counters.secretsMigrated += 1;
    } catch (e) {
      this.log.warn(
        {
          device: shortId(deviceId),
          code: e instanceof MedgwError ? e.code : 'MEDGW_ERR_DATADIR',
          err: e instanceof Error ? e.message : String(e),
        },
        'device secret still stored as scrypt: the registry write failed, the next login tries again',
      );
    }
  }

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    if (!client) {
      done(new Error('publishes without a client are not accepted'));
      return;
    }
    const target = parseMeasurementTopic(packet.topic);
    if (!target || target.deviceId !== client.id) {
      this.refuse('publish-topic', client.id);
      done(new Error('topic not allowed'));
      return;
    }
    if (packet.retain) {
      this.refuse('retained', client.id);
      done(new Error('retained measurements are not accepted'));
      return;
    }
    if (this.cutOff.has(client)) {
      // being disconnected for its rate: what it sent meanwhile is neither read nor acknowledged
      done(new Error('MEDGW_ERR_MQTT_RATE_LIMITED: disconnecting'));
      return;
    }
    const { decision, firstOver } = this.rate.take(client.id);
    if (decision !== 'ok') {
      this.overRate(client, packet, decision, firstOver, done);
      return;
    }
    const work = ingestMessage(this.ctx, client.id, target.encoding, packet.payload as Uint8Array).then(
      async (outcome) => {
        this.counters.receipts[outcome.receipt.status] += 1;
        if (outcome.ack) {
          // committed (or refused for good): PUBACK now, the receipt right behind it. Both are
          // written to the corked connection and leave in one system call (one TCP segment).
          const conn = client.conn as { cork?: () => void; uncork?: () => void } | undefined;
          conn?.cork?.();
          done(null);
          const sent = this.sendReceipt(client, outcome.receipt, false);
          setImmediate(() => conn?.uncork?.());
          await sent;
          return;
        }
        await this.sendReceipt(client, outcome.receipt, true);
        this.counters.unacknowledged += 1;
        done(new Error(`${outcome.receipt.code}: not stored, no PUBACK`));
      },
      (e: unknown) => {
        this.log.error(
          { device: shortId(client.id), err: e instanceof Error ? e.message : String(e) },
          'ingest failed',
        );
        this.counters.unacknowledged += 1;
        done(new Error('ingest failed, no PUBACK'));
      },
    );
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /**
   * A message over the device's rate: not stored, counted into its audit summary. QoS 1 cannot be
   * refused with a PUBACK (MQTT 3.1.1 has no negative one), so the connection closes without one and
   * the message stays in the device's session; a QoS 0 one is dropped. The device hears why once per
   * window (a receipt); one that keeps exceeding is disconnected and must back off.
   */
  private overRate(
    client: Client,
    packet: PublishPacket,
    decision: 'over' | 'disconnect',
    firstOver: boolean,
    done: (error?: Error | null) => void,
  ): void {
    this.counters.refused['rate-limited'] += 1;
    const code = 'MEDGW_ERR_MQTT_RATE_LIMITED';
    const message = 'over the device rate limit; not stored, send it again more slowly';
    this.ctx.sink.recordRejection?.({ deviceId: client.id, transport: 'mqtt', code, message });
    const disconnect = decision === 'disconnect' || packet.qos > 0;
    const receipt: Receipt = { seq: null, status: 'rejected', code, message };
    if (!disconnect) {
      if (firstOver) {
        this.counters.receipts.rejected += 1;
        void this.sendReceipt(client, receipt, false);
      }
      done(null);
      return;
    }
    this.counters.receipts.rejected += 1;
    const backoff = this.rate.strike(client.id);
    this.counters.rateDisconnects += 1;
    this.log.warn(
      { device: shortId(client.id), code, backoffMs: backoff },
      'device over its rate limit: disconnected, it may reconnect after the back-off',
    );
    if (packet.qos > 0) this.counters.unacknowledged += 1;
    // the receipt first (written out: the device learns why), then the connection closes without a PUBACK
    this.cutOff.add(client);
    const work = this.sendReceipt(client, receipt, false).then(() =>
      done(new Error(`${code}: disconnected for ${backoff} ms`)),
    );
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /** Publishes the receipt; when the connection is about to be closed, waits until the device took it. */
  private sendReceipt(client: Client, receipt: Receipt, waitForAck: boolean): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.resolve();
    const topic = receiptTopic(client.id);
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      // A device receives nothing but its receipts, so its next PUBACK is for one.
      const onAck = (packet: PublishPacket | PubrelPacket | undefined, c: Client) => {
        if (c === client && (!packet || !('topic' in packet) || packet.topic === topic)) finish();
      };
      const finish = () => {
        if (timer) clearTimeout(timer);
        aedes.removeListener('ack', onAck);
        resolve();
      };
      if (waitForAck) {
        aedes.on('ack', onAck);
        timer = setTimeout(finish, RECEIPT_GRACE_MS);
      }
      // Straight to the device's own connection, at the QoS it subscribed with (at most 1), and only
      // if it subscribed: a receipt is for its device alone, so no broker routing is needed.
      const subscription = (
        client as unknown as { subscriptions: Record<string, { qos?: number } | undefined> }
      ).subscriptions[topic];
      if (!subscription) {
        finish();
        return;
      }
      const qos = Math.min(subscription.qos ?? 0, 1) as 0 | 1;
      client.publish(
        { cmd: 'publish', topic, payload: encodeReceipt(receipt), qos, retain: false, dup: false },
        (err) => {
          if (err) this.log.warn({ device: shortId(client.id), err: err.message }, 'receipt not published');
          if (!waitForAck || qos === 0) finish();
        },
      );
    });
  }
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // a deep accept queue (Node's default is 511): under a connection flood a device's SYN is queued,
    // not dropped and retried a second later
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.removeListener('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
