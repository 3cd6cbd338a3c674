/**
 * The simulated MQTT thermometer of `npm start`: connects to the embedded broker as itself (its own
 * credential, its own topic, like any device), publishes one body-temperature reading in JSON at start
 * and then every `demo.mqttIntervalSeconds`, and waits for the PUBACK and the gateway's receipt.
 * Measured values never reach a log line.
 */
import type { Logger } from 'pino';
import { SimulatedMqttDevice } from '../../simulators/mqtt/device.ts';
import type { SimReading } from '../../simulators/mqtt/payloads.ts';
import type { Clock } from '../contracts.ts';
import { shortId } from '../log.ts';

export interface DemoThermometerOptions {
  readonly url: string;
  readonly deviceId: string;
  readonly secret: string;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Body temperature in Cel, one decimal (default: 36.4–37.3). */
  readonly temperature?: () => number;
}

export class DemoThermometer {
  #device: SimulatedMqttDevice | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;
  #seq: number;
  /** A reading whose receipt never came: sent again as is (same seq), so it collapses if it did arrive. */
  #unconfirmed: SimReading | undefined;
  /** Receipts by status, for the log and tests. */
  readonly receipts = { accepted: 0, duplicate: 0, rejected: 0, failed: 0 };

  constructor(private readonly o: DemoThermometerOptions) {
    // seconds since the epoch: sequence numbers stay unique across restarts, so readings never collapse
    this.#seq = Math.floor(o.clock.now() / 1000) % 0x1_0000_0000;
  }

  async start(): Promise<void> {
    const device = new SimulatedMqttDevice({
      url: this.o.url,
      deviceId: this.o.deviceId,
      secret: this.o.secret,
      encoding: 'json',
      reconnectPeriod: 2_000,
    });
    await device.connect();
    this.#device = device;
    this.o.log.info(
      { device: shortId(this.o.deviceId), everySeconds: Math.round(this.o.intervalMs / 1000) },
      'simulated MQTT thermometer connected; it publishes a reading now and then',
    );
    this.#tick();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#inFlight = this.#publishOne().finally(() => {
      this.#inFlight = undefined;
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.o.intervalMs);
    });
  }

  async #publishOne(): Promise<void> {
    const device = this.#device;
    if (!device) return;
    const reading = this.#unconfirmed ?? this.#next();
    const seq = reading.seq;
    try {
      const { receipt } = await device.publish(reading);
      this.#unconfirmed = undefined;
      this.receipts[receipt.status]++;
      const level = receipt.status === 'rejected' ? 'warn' : 'info';
      this.o.log[level](
        { device: shortId(this.o.deviceId), seq, status: receipt.status, code: receipt.code ?? undefined },
        'simulated MQTT thermometer: reading published',
      );
    } catch (e) {
      this.#unconfirmed = reading;
      this.receipts.failed++;
      if (!this.#stopped) {
        this.o.log.warn(
          { device: shortId(this.o.deviceId), seq, err: e instanceof Error ? e.message : String(e) },
          'simulated MQTT thermometer: no receipt for a reading; it is sent again at the next interval',
        );
      }
    }
  }

  #next(): SimReading {
    const celsius = this.o.temperature?.() ?? 36.4 + Math.round(Math.random() * 9) / 10;
    return {
      kind: 'body-temperature',
      time: new Date(this.o.clock.now()).toISOString(),
      seq: this.#seq++,
      values: { temperature: { value: Math.round(celsius * 10) / 10, unit: 'Cel' } },
    };
  }

  /** Stops publishing, lets the reading in flight finish (bounded by its receipt timeout), disconnects. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
    await this.#device?.close();
    this.#device = undefined;
  }
}
