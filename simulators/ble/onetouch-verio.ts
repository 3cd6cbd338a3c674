/**
 * LifeScan OneTouch Verio Reflect / Flex glucometer, as Tidepool uploader's BSD-2-Clause BLE driver
 * describes it (lib/drivers/onetouch/oneTouchVerioBLE.js, commit 01858093192408ce3499763af07aa5a40452acb0):
 * - no Glucose Service: LifeScan's service af9df7a1-e595-11e3-96b4-0002a5d5c51b, commands written to
 *   af9df7a2-…, answers notified on af9df7a3-…; Device Information beside it; it advertises
 *   "OneTouch <4 characters>" (NightscoutFoundation/xDrip#120: "OneTouch J7RG");
 * - packets: 0x01, STX 0x02, 16-bit LE length (packet size − 1), prefix 0x03, payload, ETX 0x03, CRC-16
 *   (polynomial 0x1021 seeded 0xFFFF) over STX…ETX, LE; answers start with status 0x06;
 * - get time 20 02, set time 20 01 + seconds (answered by the one-byte acknowledgement 0x81), record counter
 *   0A 02 06 (the index of the newest record), number of records held 27 00, record B3 + index: time,
 *   glucose mg/dL, control-solution byte, 4 more bytes; times are seconds since 2000-01-01 local time.
 * - until it is bonded it answers every command with a non-success status (issue 11: "command not
 *   allowed"); the status the real meter uses is not published, 0x09 is the one error status the shared
 *   binary protocol description names (glucometers-tech/glucometer-protocols shared-binary-protocol.md).
 * The encoder below is written on its own (a table CRC), not with drivers/lifescan.
 */
import { MedgwError } from '../../kernel/errors.ts';
import { AttError, type PeripheralOptions, SimPeripheral, type SimService } from './peripheral.ts';

export const VERIO_SIM = {
  service: 'af9df7a1e59511e396b40002a5d5c51b',
  write: 'af9df7a2e59511e396b40002a5d5c51b',
  notify: 'af9df7a3e59511e396b40002a5d5c51b',
} as const;

/** 2000-01-01T00:00:00Z in ms: the meter counts seconds from there, in its local time. */
const EPOCH_2000_MS = Date.UTC(2000, 0, 1);
const OK = 0x06;
/** The refusal of a meter that is not bonded (see above). */
export const VERIO_REFUSED = 0x09;
const ACK = 0x81;

/** CRC-16/CCITT-FALSE by table (poly 0x1021, init 0xFFFF). */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
    t[i] = c & 0xffff;
  }
  return t;
})();

export function verioSimCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc;
}

/** A meter packet around `payload` (status + data for an answer). */
export function encodeVerioPacket(payload: readonly number[]): Buffer {
  const body = Buffer.from([0x02, 0, 0, 0x03, ...payload, 0x03]);
  body.writeUInt16LE(body.length + 2, 1); // STX … CRC: the packet without the leading 0x01
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(verioSimCrc(body));
  return Buffer.concat([Buffer.of(0x01), body, crc]);
}

export interface VerioRecord {
  /** Glucose in mg/dL as the meter stores it (0: not a valid reading). */
  readonly mgdl: number;
  readonly controlSolution?: boolean;
}

interface Stored extends VerioRecord {
  readonly index: number;
  /** Seconds since 2000-01-01, meter local time. */
  readonly seconds: number;
}

export interface VerioOptions extends PeripheralOptions {
  /** Lifetime index of the newest record before any measurement (the counter does not start at 0). */
  readonly counterStart?: number;
}

export class SimOneTouchVerio extends SimPeripheral {
  private readonly records: Stored[] = [];
  private counter: number;
  private bonded = false;
  /** Indexes asked with B3, in order (for tests). */
  readonly recordRequests: number[] = [];
  /** Commands answered with the refusal because the link was not bonded. */
  refusedCommands = 0;
  /** One-byte acknowledgements the central wrote after answers. */
  hostAcks = 0;
  /** Clock values written with 20 01 (seconds since 2000). */
  readonly clockWrites: number[] = [];

  constructor(options: VerioOptions) {
    super(
      { ...options, requireBonding: false },
      {
        localName: `OneTouch ${options.address.replaceAll(':', '').slice(-4).toUpperCase()}`,
        primaryService: VERIO_SIM.service,
        info: {
          manufacturer: 'LifeScan',
          model: 'OneTouch Verio Flex',
          serial: 'JGF2K4B1',
          firmware: '1.0',
        },
      },
    );
    this.counter = options.counterStart ?? 100;
    // Tidepool finds it by name alone: it is not known to advertise its service.
    this.advertisement = { ...this.advertisement, serviceUuids: [], ...options.advertisement };
    this.batteryPercent = null;
  }

  /** A test on the meter: stored with the next index and the meter's clock now. */
  measure(record: VerioRecord): number {
    this.counter += 1;
    this.records.push({
      ...record,
      index: this.counter,
      seconds: Math.floor((this.deviceWallMs() - EPOCH_2000_MS) / 1000),
    });
    return this.counter;
  }

  get held(): number {
    return this.records.length;
  }

  override bond(centralAddress: string): void {
    super.bond(centralAddress);
    this.bonded = true;
  }

  override clearBonds(): void {
    super.clearBonds();
    this.bonded = false;
  }

  protected buildServices(): SimService[] {
    return [
      this.deviceInformationService(),
      {
        uuid: VERIO_SIM.service,
        characteristics: [
          {
            uuid: VERIO_SIM.write,
            properties: ['write', 'writeWithoutResponse'],
            write: (data) => this.command(data),
          },
          { uuid: VERIO_SIM.notify, properties: ['notify'] },
        ],
      },
    ];
  }

  private command(data: Buffer): void {
    if (data.length === 1 && data[0] === ACK) {
      this.hostAcks += 1;
      return;
    }
    const payload = this.openPacket(data);
    if (!this.bonded) {
      this.refusedCommands += 1;
      this.answer([VERIO_REFUSED]);
      return;
    }
    const [op, a, b] = payload;
    if (op === 0x20 && a === 0x02) {
      this.answer([OK, ...u32(Math.floor((this.deviceWallMs() - EPOCH_2000_MS) / 1000))]);
    } else if (op === 0x20 && a === 0x01 && payload.length === 6) {
      const seconds = Buffer.from(payload.subarray(2, 6)).readUInt32LE(0);
      this.clockWrites.push(seconds);
      this.shiftClock(EPOCH_2000_MS + seconds * 1000 - this.deviceWallMs());
      void this.notify(VERIO_SIM.service, VERIO_SIM.notify, Buffer.of(ACK));
    } else if (op === 0x0a && a === 0x02 && b === 0x06) {
      this.answer([OK, ...u32(this.counter)]);
    } else if (op === 0x27) {
      this.answer([OK, this.records.length & 0xff, this.records.length >> 8]);
    } else if (op === 0xb3 && payload.length === 3) {
      const index = a! | (b! << 8);
      this.recordRequests.push(index);
      const r = this.records.find((x) => x.index === index);
      if (!r) this.answer([VERIO_REFUSED]);
      else
        this.answer([
          OK,
          ...u32(r.seconds),
          r.mgdl & 0xff,
          r.mgdl >> 8,
          r.controlSolution ? 1 : 0,
          0,
          0,
          0,
          0,
        ]);
    } else {
      this.answer([VERIO_REFUSED]);
    }
  }

  /** Checks a host packet (0x01, STX, length, prefix, …, ETX, CRC) and returns the command bytes. */
  private openPacket(data: Buffer): Buffer {
    const ok =
      data.length >= 8 &&
      data[0] === 0x01 &&
      data[1] === 0x02 &&
      data.readUInt16LE(2) === data.length - 1 &&
      data[4] === 0x03 &&
      data[data.length - 3] === 0x03 &&
      data.readUInt16LE(data.length - 2) === verioSimCrc(data.subarray(1, data.length - 2));
    if (!ok) throw new AttError(0x0e, `not a LifeScan packet: ${data.toString('hex')}`);
    return data.subarray(5, data.length - 3);
  }

  private answer(payload: readonly number[]): void {
    const frame = encodeVerioPacket(payload);
    const mode = this.faults.frame;
    let out = frame;
    if (mode === 'corrupt' && payload.length === 12) {
      // One-shot: a bit flips in the CRC of the next record answer.
      this.faults.frame = undefined;
      out = Buffer.from(frame);
      out[out.length - 1] = out[out.length - 1]! ^ 0x01;
    }
    void this.notify(VERIO_SIM.service, VERIO_SIM.notify, out);
  }
}

function u32(n: number): number[] {
  if (n < 0 || n > 0xffffffff) throw new MedgwError('MEDGW_ERR_SIM_OPTION', `${n} does not fit 32 bits`);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
