/**
 * The simulated MQTT devices of the ingest benchmark, in their own process (as real devices are not
 * in the gateway's process): bench/ingest.ts starts it with an IPC channel, sends the fleet, says
 * `go`, and gets back the PUBACK latencies; `close` disconnects the devices and ends the process.
 */
import { checkReceipts, connectFleet, type Fleet, publishAll } from './ingest.ts';

export interface FleetOrder {
  readonly fleet: Fleet;
  readonly perDevice: number;
  readonly window: number;
  /** Wait for one `accepted` receipt per reading before answering (gateway side). */
  readonly receipts: boolean;
  /** How long to wait for the receipts after the last PUBACK (default 10 s). */
  readonly receiptTimeoutMs?: number;
}

export type FleetReport =
  | { readonly type: 'connected' }
  | { readonly type: 'acked'; readonly latencies: number[] }
  | { readonly type: 'checked' }
  | { readonly type: 'failed'; readonly message: string };

function send(m: FleetReport): Promise<void> {
  return new Promise((resolve) => process.send?.(m, () => resolve()));
}

function next(): Promise<unknown> {
  return new Promise((resolve) => process.once('message', resolve));
}

try {
  const order = (await next()) as FleetOrder;
  const devices = await connectFleet(order.fleet);
  await send({ type: 'connected' });
  await next(); // go
  const { latencies } = await publishAll(devices, order.perDevice, order.window, 0);
  await send({ type: 'acked', latencies });
  if (order.receipts) await checkReceipts(devices, order.perDevice, order.receiptTimeoutMs);
  await send({ type: 'checked' });
  await next(); // close
  await Promise.allSettled(devices.map((d) => d.close()));
} catch (e) {
  await send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
}
process.disconnect?.();
