/**
 * A simulated MQTT medical device: connects as itself (client id = username = device id, its secret as
 * password), subscribes to its receipts, publishes readings at QoS 1 in JSON, CBOR or protobuf, and
 * waits for both the PUBACK and the receipt. Faults on demand: malformed payload, wrong topic,
 * re-publish of the same `seq`, bad credentials (give a wrong secret), oversized payload.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { encodeReading, type SimEncoding, type SimReading } from './payloads.ts';

export interface SimReceipt {
  readonly seq: number | null;
  readonly status: 'accepted' | 'rejected' | 'duplicate';
  readonly code: string | null;
  readonly message: string | null;
}

export interface SimDeviceOptions {
  /** `mqtt://127.0.0.1:1883` or `mqtts://…`. */
  readonly url: string;
  readonly deviceId: string;
  readonly secret: string;
  readonly encoding?: SimEncoding;
  /** Client id / username to present, when a test wants them to differ from the device id. */
  readonly clientId?: string;
  readonly username?: string;
  /** Keep the session (clean = false) so unacknowledged messages are sent again after a reconnection. */
  readonly persistentSession?: boolean;
  /** Reconnect automatically (ms between attempts); 0 = never (default). */
  readonly reconnectPeriod?: number;
  readonly protocolVersion?: 4 | 5;
  /** How long `publish` waits for the receipt once the PUBACK came (default 10 s). */
  readonly receiptTimeoutMs?: number;
  readonly extra?: IClientOptions;
}

export interface PublishOutcome {
  readonly receipt: SimReceipt;
  /** True once the broker acknowledged the message (PUBACK). */
  readonly acked: boolean;
}

const TOPIC = (id: string) => `medgw/v1/devices/${id}`;

export class SimulatedMqttDevice {
  client: MqttClient | undefined;
  /** Every receipt received, in arrival order. */
  readonly receipts: SimReceipt[] = [];
  private waiters: { match: (r: SimReceipt) => boolean; resolve: (r: SimReceipt) => void }[] = [];
  private closed = false;

  constructor(readonly options: SimDeviceOptions) {}

  get id(): string {
    return this.options.deviceId;
  }

  measurementTopic(encoding: SimEncoding = this.options.encoding ?? 'json'): string {
    return `${TOPIC(this.id)}/measurements/${encoding}`;
  }

  receiptTopic(): string {
    return `${TOPIC(this.id)}/receipts`;
  }

  /** Connects and subscribes to the receipts; rejects with the broker's refusal (bad credentials). */
  async connect(): Promise<void> {
    const o = this.options;
    const client = await mqtt.connectAsync(o.url, {
      clientId: o.clientId ?? o.deviceId,
      username: o.username ?? o.deviceId,
      password: o.secret,
      clean: !(o.persistentSession ?? false),
      reconnectPeriod: o.reconnectPeriod ?? 0,
      connectTimeout: 5_000,
      protocolVersion: o.protocolVersion ?? 4,
      ...o.extra,
    });
    this.client = client;
    // Readings and receipts are small: without noDelay, Nagle holds the next publish behind the
    // receipt's PUBACK until the broker's delayed ACK (~40 ms).
    const noDelay = () =>
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    noDelay();
    client.on('connect', noDelay);
    client.on('message', (topic, payload) => {
      if (topic !== this.receiptTopic()) return;
      const receipt = JSON.parse(payload.toString('utf8')) as SimReceipt;
      this.receipts.push(receipt);
      const i = this.waiters.findIndex((w) => w.match(receipt));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w?.resolve(receipt);
      }
    });
    client.on('error', () => {
      // refusals surface through connect()/publish(); nothing else to do for a simulator
    });
    const granted = await client.subscribeAsync(this.receiptTopic(), { qos: 1 });
    if (granted[0]?.qos === 128) throw new Error('the broker refused the receipts subscription');
  }

  /** Waits for the receipt that matches (by seq; `null` for a payload whose seq could not be read). */
  waitForReceipt(seq: number | null, timeoutMs = 10_000): Promise<SimReceipt> {
    const expected = this.expectReceipt(seq);
    expected.arm(timeoutMs);
    return expected.promise;
  }

  /**
   * A receipt waited for before its message is published: the clock starts only when `arm` is called
   * (after the PUBACK, however slow it was), and `cancel` settles it when the publish itself failed.
   * Either way the promise is settled through whoever awaits it, never left to reject on its own.
   */
  private expectReceipt(seq: number | null): {
    promise: Promise<SimReceipt>;
    arm: (timeoutMs: number) => void;
    cancel: (reason: Error) => void;
  } {
    const already = this.receipts.findIndex((r) => r.seq === seq);
    if (already >= 0) {
      const [r] = this.receipts.splice(already, 1);
      if (r) return { promise: Promise.resolve(r), arm: () => undefined, cancel: () => undefined };
    }
    let timer: NodeJS.Timeout | undefined;
    let settle: { resolve: (r: SimReceipt) => void; reject: (e: Error) => void } | undefined;
    const promise = new Promise<SimReceipt>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const waiter = {
      match: (r: SimReceipt) => r.seq === seq,
      resolve: (r: SimReceipt) => {
        clearTimeout(timer);
        const i = this.receipts.indexOf(r);
        if (i >= 0) this.receipts.splice(i, 1);
        settle?.resolve(r);
      },
    };
    this.waiters.push(waiter);
    const cancel = (reason: Error) => {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
      settle?.reject(reason);
    };
    return {
      promise,
      arm: (timeoutMs) => {
        if (!this.waiters.includes(waiter)) return;
        timer = setTimeout(
          () => cancel(new Error(`no receipt for seq ${seq} within ${timeoutMs} ms of its PUBACK`)),
          timeoutMs,
        );
      },
      cancel,
    };
  }

  /** Publishes, then waits for the receipt: both outcomes are awaited here, whichever fails first. */
  private async publishAndWait(
    topic: string,
    payload: Uint8Array,
    seq: number | null,
    timeoutMs = this.options.receiptTimeoutMs ?? 10_000,
  ): Promise<PublishOutcome> {
    const receipt = this.expectReceipt(seq);
    try {
      await this.publishRaw(topic, payload);
    } catch (e) {
      receipt.cancel(e instanceof Error ? e : new Error(String(e)));
      await receipt.promise.catch(() => undefined);
      throw e;
    }
    receipt.arm(timeoutMs);
    return { acked: true, receipt: await receipt.promise };
  }

  /** Publishes raw bytes at QoS 1; resolves on PUBACK, rejects if the broker closes the connection instead. */
  publishRaw(topic: string, payload: Buffer | Uint8Array, qos: 0 | 1 = 1): Promise<void> {
    const client = this.requireClient();
    return new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new Error('the broker closed the connection without acknowledging'));
      client.once('close', onClose);
      client.publish(topic, Buffer.from(payload), { qos }, (err) => {
        client.removeListener('close', onClose);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Publishes one reading and waits for its PUBACK and its receipt. */
  async publish(
    reading: SimReading,
    encoding: SimEncoding = this.options.encoding ?? 'json',
  ): Promise<PublishOutcome> {
    return this.publishAndWait(
      this.measurementTopic(encoding),
      encodeReading(encoding, reading),
      reading.seq,
    );
  }

  /** Fault: a payload that is not a reading; resolves with its receipt (seq null unless the JSON had one). */
  async publishMalformed(
    payload: Buffer,
    encoding: SimEncoding = 'json',
    seq: number | null = null,
  ): Promise<PublishOutcome> {
    return this.publishAndWait(this.measurementTopic(encoding), payload, seq);
  }

  async close(): Promise<void> {
    if (this.closed || !this.client) return;
    this.closed = true;
    await this.client.endAsync(true);
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error(`device ${this.id} is not connected`);
    return this.client;
  }
}
