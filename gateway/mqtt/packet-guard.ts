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
  const conn = Duplex.from({ readable: guard, writable: socket });
  guard.on('error', (err) => {
    if (err instanceof PacketTooLargeError) onRefused(err.announced);
    socket.destroy();
  });
  socket.on('error', () => conn.destroy());
  socket.on('close', () => conn.destroy());
  return conn;
}
