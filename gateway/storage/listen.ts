/**
 * LISTEN on one PostgreSQL channel for a store that keeps a copy in memory (registry, tokens): a
 * notification names what changed, as a hint only. The connection is held out of the pool's reuse
 * (it LISTENs) and destroyed on close; when it drops, the listener waits `relistenMs`, listens again
 * and calls `onRelisten` so the store reloads everything (notifications sent meanwhile are lost).
 */
import type { Pool, PoolClient } from './postgres.ts';

export interface ChannelListener {
  close(): void;
}

export interface ListenOptions {
  readonly channel: string;
  readonly onPayload: (payload: string) => void;
  /** After the connection came back: what was notified meanwhile is lost, reload. */
  readonly onRelisten: () => Promise<void>;
  readonly relistenMs?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

/** Channels are fixed names of ours, never outside input: checked, then quoted as identifiers. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export async function listenChannel(pool: Pool, o: ListenOptions): Promise<ChannelListener> {
  if (!CHANNEL.test(o.channel)) throw new Error(`not a channel name: ${o.channel}`);
  let closed = false;
  let current: { drop: (e?: Error) => void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const warn = (e: unknown, msg: string) =>
    o.log?.warn({ channel: o.channel, err: e instanceof Error ? e.message : String(e) }, msg);

  const again = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect()
        .then(() => {
          o.log?.warn({ channel: o.channel }, 'listening for changes again; reloading everything');
          return o.onRelisten();
        })
        .catch((e: unknown) => {
          warn(e, 'listening for changes failed; trying again');
          again();
        });
    }, o.relistenMs ?? 1000);
    timer.unref();
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const client: PoolClient = await pool.connect();
    const onNotification = (msg: { channel: string; payload?: string }) => {
      if (msg.channel === o.channel && msg.payload) o.onPayload(msg.payload);
    };
    const onError = (e: Error) => {
      warn(e, 'change notifications lost; listening again, then reloading');
      drop(e);
      again();
    };
    const drop = (e?: Error) => {
      client.off('notification', onNotification);
      client.off('error', onError);
      // pg may report one dropped connection more than once: a later report must not end the process
      client.on('error', () => undefined);
      if (current?.drop === drop) current = undefined;
      // destroyed, never reused: a pooled connection must not keep LISTENing
      client.release(e ?? true);
    };
    client.on('notification', onNotification);
    client.on('error', onError);
    try {
      await client.query(`LISTEN "${o.channel}"`);
    } catch (e) {
      drop(e as Error);
      throw e;
    }
    if (closed) drop();
    else current = { drop };
  };

  await connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      current?.drop();
    },
  };
}
