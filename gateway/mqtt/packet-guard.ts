/**
 * A size limit on every MQTT packet a client sends, applied before aedes buffers it: the guard reads
 * each fixed header's Remaining Length (MQTT 3.1.1 §2.2.3: 1 to 4 bytes, 7 bits each) and closes the
 * connection as soon as a packet announces more than the limit. aedes itself has no such limit, so
 * without the guard one client could make the broker buffer a 256 MB packet.
 */
import type { Socket } from 'node:net';
import { Duplex, Transform, type TransformCallback } from 'node:stream';

export class PacketTooLargeError extends Error {
  constructor(readonly announced: number) {
    super(`an MQTT packet announced ${announced} bytes`);
  }
}

class PacketSizeGuard extends Transform {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      if (this.state === 'type') {
        i += 1;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      const byte = chunk[i] ?? 0;
      i += 1;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if ((byte & 0x80) !== 0) {
        // a fifth length byte is malformed (§2.2.3); aedes' parser reports it, the guard lets it through
        if (this.lengthBytes >= 4) this.state = 'type';
        continue;
      }
      if (this.length > this.maxBytes) {
        callback(new PacketTooLargeError(this.length));
        return;
      }
      this.remaining = this.length;
      this.state = this.remaining > 0 ? 'body' : 'type';
    }
    callback(null, chunk);
  }
}

/**
 * The connection aedes is given: reads pass through the guard, writes go straight to the socket.
 * Writes aedes makes in one tick (mqtt-packet corks the stream per packet: header, topic, payload…)
 * reach the socket as one corked batch, so a packet costs one system call, not one per chunk.
 */
class GuardedConnection extends Duplex {
  constructor(
    private readonly socket: Socket,
    private readonly guard: PacketSizeGuard,
  ) {
    super();
    guard.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) guard.pause();
    });
    guard.on('end', () => this.push(null));
  }

  override _read(): void {
    this.guard.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.socket.cork();
    const last = chunks.length - 1;
    chunks.forEach(({ chunk }, i) => {
      if (i === last) this.socket.write(chunk, callback);
      else this.socket.write(chunk);
    });
    this.socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

/**
 * The connection aedes is given: reads pass through the guard, writes go to the socket. `onRefused`
 * is called once when a packet is too large; the socket is then destroyed.
 */
export function guardedConnection(
  socket: Socket,
  maxBytes: number,
  onRefused: (announced: number) => void,
): Duplex {
  const guard = new PacketSizeGuard(maxBytes);
  socket.pipe(guard);
  const conn = new GuardedConnection(socket, guard);
  guard.on('error', (err) => {
    if (err instanceof PacketTooLargeError) onRefused(err.announced);
    socket.destroy();
  });
  socket.on('error', () => conn.destroy());
  socket.on('close', () => conn.destroy());
  return conn;
}
