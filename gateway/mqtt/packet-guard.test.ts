import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedConnection } from './packet-guard.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A loopback TCP pair: the server side socket and the client socket. */
async function pair(): Promise<{ server: Socket; client: Socket }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const client = connect((srv.address() as AddressInfo).port, '127.0.0.1');
  const [server] = (await accepted) as [Socket];
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

describe('guardedConnection', () => {
  it('hands the socket one corked batch for the chunks written in one tick, and the bytes arrive in order', async () => {
    const { server, client } = await pair();
    const conn = guardedConnection(server, 1024, () => undefined);
    const corkedAtWrite: number[] = [];
    const write = server.write.bind(server) as (...args: unknown[]) => boolean;
    server.write = ((...args: unknown[]) => {
      corkedAtWrite.push(server.writableCorked);
      return write(...args);
    }) as typeof server.write;
    const received: Buffer[] = [];
    client.on('data', (d: Buffer) => received.push(d));
    // what mqtt-packet does for one packet: cork, several writes, uncork on the next tick
    conn.cork();
    conn.write(Buffer.from([0x30, 0x05]));
    conn.write(Buffer.from([0x00, 0x01, 0x74]));
    conn.write(Buffer.from('ok'));
    process.nextTick(() => conn.uncork());
    while (Buffer.concat(received).length < 7) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x30, 0x05, 0x00, 0x01, 0x74, 0x6f, 0x6b]));
    expect(corkedAtWrite).toEqual([1, 1, 1]);
  });

  it('passes reads through and closes the socket when a packet announces more than the limit', async () => {
    const { server, client } = await pair();
    let refused = -1;
    const conn = guardedConnection(server, 100, (announced) => {
      refused = announced;
    });
    client.write(Buffer.from([0xe0, 0x00])); // DISCONNECT, 0 bytes: passes
    const [first] = (await once(conn, 'data')) as [Buffer];
    expect(first).toEqual(Buffer.from([0xe0, 0x00]));
    client.write(Buffer.from([0x30, 0xc8, 0x01])); // PUBLISH announcing 200 bytes
    await once(server, 'close');
    expect(refused).toBe(200);
    expect(conn.destroyed).toBe(true);
  });
});
