/**
 * Server-sent events for the pages: a `change` event names what changed (readings, pairing,
 * exchanges, registry), never a value. Sources: forwarder events, BLE pairing progress, the pages'
 * own actions, the other instances' changes when the storage is shared (shared-changes.ts, through
 * the operations service), and a light poll of the journal's counts (the pipeline has no event of
 * its own; the poll also sees another instance's deliveries).
 */
import type { ServerResponse } from 'node:http';
import type { OpsTopic } from '../ops/operations.ts';
import type { WebDeps } from './deps.ts';

export type Topic = OpsTopic;

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastCounts = '';
  private readonly onForwarder = () => this.publish('exchanges');
  private readonly onBle = () => this.publish('pairing');

  constructor(
    private readonly deps: WebDeps,
    private readonly pollMs = 500,
  ) {}

  start(): void {
    this.deps.national?.events?.on('event', this.onForwarder);
    this.deps.ble?.on('progress', this.onBle);
    this.lastCounts = this.counts();
    this.timer = setInterval(() => {
      if (this.clients.size === 0) return;
      const now = this.counts();
      if (now !== this.lastCounts) {
        this.lastCounts = now;
        this.publish('readings');
      }
    }, this.pollMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.write(': keep-alive\n\n');
    }, 15_000);
    this.heartbeat.unref();
  }

  stop(): void {
    this.deps.national?.events?.off('event', this.onForwarder);
    this.deps.ble?.off('progress', this.onBle);
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private counts(): string {
    const s = this.deps.journal.stats(this.deps.clock.now());
    return JSON.stringify(s.byState);
  }

  /** Adds an event-stream response (headers already written). */
  add(res: ServerResponse): void {
    this.clients.add(res);
    res.write('retry: 2000\n\n');
    res.on('close', () => this.clients.delete(res));
  }

  get size(): number {
    return this.clients.size;
  }

  publish(topic: Topic): void {
    const frame = `event: change\ndata: ${JSON.stringify({ topic })}\n\n`;
    for (const c of this.clients) c.write(frame);
  }
}
