/**
 * A&D UA-651BLE upper-arm cuff, as public reports describe it (see drivers/definitions/and-ua-651ble.ts
 * for the sources):
 * - the standard Blood Pressure Service 0x1810 whose Date Time 0x2A08 (write) sets the cuff clock —
 *   no Current Time Service —, Device Information, Battery, and A&D's vendor service
 *   233BF000-5A34-1B6D-975C-000D5690ABE4 (one characteristic 233BF001-…);
 * - it switches itself off when the central runs a full service discovery: modelled as a discovery
 *   budget of three services, so a collector that discovers only what it reads succeeds and one that
 *   discovers all four loses the link and finds the cuff silent until `switchOn()`;
 * - it needs a bond before its measurement service answers, advertises as `A&D_UA-651BLE_<id>`,
 *   pushes its stored readings once indications are enabled and ends the connection itself.
 */
import { BLS, type CuffOptions, SimCuff } from './cuff.ts';
import { AttError, type SimService } from './peripheral.ts';

/** A&D's vendor service and characteristic (noble's form: lower-case, no dashes). */
export const AND_VENDOR = {
  service: '233bf0005a341b6d975c000d5690abe4',
  characteristic: '233bf0015a341b6d975c000d5690abe4',
} as const;

/** GSS Date Time: year uint16, month, day, hours, minutes, seconds. */
const DATE_TIME_LENGTH = 7;

/** Services the UA-651BLE tolerates being discovered on one connection. */
export const UA651_DISCOVERY_BUDGET = 3;

export class SimAndUa651 extends SimCuff {
  /** Date Time values written by centrals, in order. */
  readonly clockWrites: Buffer[] = [];

  constructor(options: CuffOptions) {
    super({
      discoveryBudget: UA651_DISCOVERY_BUDGET,
      requireBonding: true,
      disconnectWhenDone: true,
      ...options,
      advertisement: {
        localName: `A&D_UA-651BLE_${options.address.replaceAll(':', '').slice(-6)}`,
        serviceUuids: [BLS.service],
        ...options.advertisement,
      },
      info: { manufacturer: 'A&D Medical', model: 'UA-651BLE', serial: '5140300001', ...options.info },
      extraServices: [
        {
          uuid: AND_VENDOR.service,
          characteristics: [
            { uuid: AND_VENDOR.characteristic, properties: ['write', 'indicate'], write: () => {} },
          ],
        },
        ...(options.extraServices ?? []),
      ],
    });
  }

  protected override buildServices(): SimService[] {
    return super
      .buildServices()
      .filter((s) => s.uuid !== '1805')
      .map((s) =>
        s.uuid !== BLS.service
          ? s
          : {
              ...s,
              characteristics: [
                ...s.characteristics,
                { uuid: '2a08', properties: ['write'], write: (data: Buffer) => this.writeDateTime(data) },
              ],
            },
      );
  }

  /** GSS Date Time (7 bytes, no zone): the cuff clock shows this civil time from now on. */
  private writeDateTime(data: Buffer): void {
    if (data.length !== DATE_TIME_LENGTH) throw new AttError(0x0d, `Date Time is ${DATE_TIME_LENGTH} bytes`);
    this.clockWrites.push(Buffer.from(data));
    const wall = Date.UTC(data.readUInt16LE(0), data[2]! - 1, data[3]!, data[4]!, data[5]!, data[6]!);
    this.shiftClock(wall - this.deviceWallMs());
  }
}
