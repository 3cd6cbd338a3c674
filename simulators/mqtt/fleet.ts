/**
 * A fleet of simulated MQTT devices for tests and benchmarks: N devices, each publishing readings with
 * increasing `seq`, all waiting for their PUBACKs and receipts.
 */
import { type SimReceipt, SimulatedMqttDevice } from './device.ts';
import { type SimEncoding, type SimReading, sampleReading } from './payloads.ts';

export interface FleetMember {
  readonly deviceId: string;
  readonly secret: string;
}

export interface FleetOptions {
  readonly url: string;
  readonly members: readonly FleetMember[];
  readonly encoding?: SimEncoding;
  readonly kind?: SimReading['kind'];
}

export class MqttFleet {
  readonly devices: SimulatedMqttDevice[];
  private nextSeq = new Map<string, number>();

  constructor(private readonly options: FleetOptions) {
    this.devices = options.members.map(
      (m) =>
        new SimulatedMqttDevice({
          url: options.url,
          deviceId: m.deviceId,
          secret: m.secret,
          encoding: options.encoding ?? 'json',
        }),
    );
  }

  async connect(concurrency = 8): Promise<void> {
    for (let i = 0; i < this.devices.length; i += concurrency) {
      await Promise.all(this.devices.slice(i, i + concurrency).map((d) => d.connect()));
    }
  }

  /** Every device publishes `perDevice` readings, one after the other; resolves with all receipts. */
  async publishAll(perDevice: number, atMs: number = Date.now()): Promise<SimReceipt[]> {
    const all = await Promise.all(
      this.devices.map(async (d) => {
        const out: SimReceipt[] = [];
        for (let i = 0; i < perDevice; i++) {
          const seq = this.nextSeq.get(d.id) ?? 1;
          this.nextSeq.set(d.id, seq + 1);
          const { receipt } = await d.publish(
            sampleReading(this.options.kind ?? 'blood-pressure', seq, atMs - seq * 60_000),
          );
          out.push(receipt);
        }
        return out;
      }),
    );
    return all.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.close()));
  }
}
