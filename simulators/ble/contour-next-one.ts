/**
 * Ascensia Contour Next One, as the public descriptions cited in
 * drivers/definitions/ascensia-contour-next-one.ts tell it:
 * - the standard Glucose Service 0x1808 with its RACP, Device Information, Battery, and a Current Time
 *   0x2A2B the central may read but not write (`ctsWritable: false`);
 * - the glucose service answers only on a bonded link; bonding takes a passkey, accepted only while the
 *   meter is in pairing mode (`pairingMode`): out of it, a bond attempt fails;
 * - the private Ascensia service 00000000-0002-11E2-9E96-0800200C9A66 (0x1021 read, 0x1022 write and
 *   indicate, 0x1026 clock): present, counted when a central touches it (`privateServiceUsed`); a
 *   discovery of every service finds it;
 * - it advertises as `Contour78…` + serial digits.
 */
import { type GlucometerOptions, SimGlucometer } from './glucometer.ts';
import type { SimCharacteristic } from './peripheral.ts';

/** 128-bit UUIDs of the private service and its characteristics, as noble writes them. */
const base = (short: string) => `0000${short}000211e29e960800200c9a66`;
export const CONTOUR_PRIVATE = {
  service: base('0000'),
  info: base('1021'),
  command: base('1022'),
  clock: base('1026'),
} as const;

export class SimContourNextOne extends SimGlucometer {
  /**
   * Pairing mode (the person held OK until the blue light flashes): only then does the meter accept a
   * pairing request. It leaves pairing mode once bonded.
   */
  pairingMode: boolean;

  constructor(options: GlucometerOptions & { pairingMode?: boolean }) {
    const serial = options.info?.serial ?? '5213142';
    const touched = { count: 0 };
    const used = (): void => {
      touched.count += 1;
    };
    /** A read of the private service: counted, then answered with `value`. */
    const readUsed = (value: Buffer) => (): Buffer => {
      used();
      return value;
    };
    const characteristics: SimCharacteristic[] = [
      { uuid: CONTOUR_PRIVATE.info, properties: ['read'], read: readUsed(Buffer.from([0x01])) },
      { uuid: CONTOUR_PRIVATE.command, properties: ['write', 'indicate'], write: () => used() },
      {
        uuid: CONTOUR_PRIVATE.clock,
        properties: ['read', 'write'],
        read: readUsed(Buffer.alloc(7)),
        write: () => used(),
      },
    ];
    super({
      requireBonding: true,
      ctsWritable: false,
      ...options,
      advertisement: { localName: `Contour7801H${serial}`, serviceUuids: ['1808'], ...options.advertisement },
      info: {
        manufacturer: 'Ascensia Diabetes Care',
        model: 'CONTOUR NEXT ONE',
        serial,
        firmware: '1.20',
        ...options.info,
      },
      extraServices: [{ uuid: CONTOUR_PRIVATE.service, characteristics }, ...(options.extraServices ?? [])],
    });
    this.touched = touched;
    this.pairingMode = options.pairingMode ?? true;
  }

  private readonly touched: { count: number };

  /** Reads and writes a central made on the private service (the gateway makes none). */
  get privateServiceUsed(): number {
    return this.touched.count;
  }

  override pairingRefusal(): string | undefined {
    return this.pairingMode ? undefined : 'the meter is not in pairing mode: it refuses to pair';
  }

  override bond(centralAddress: string): void {
    super.bond(centralAddress);
    this.pairingMode = false;
  }
}
