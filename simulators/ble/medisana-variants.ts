/**
 * Two Medisana cuffs that advertise differently from the BU 5xx (simulators/ble/medisana-bu5xx.ts), with
 * the same GATT and the same habit of indicating their whole history at every connection:
 * - the BU 570 seen as "1872B": local name "1872B", service 0x1810, no manufacturer data
 *   (bkbilly/medisanabp_ble#2);
 * - the BT 580: manufacturer data with company id 31256 = 0x7A18 (bkbilly/medisanabp_ble#3). What follows
 *   the company id in its advertisement is not published: the simulator puts the address there, as the
 *   BU 5xx does; nothing reads it.
 */
import type { CuffOptions } from './cuff.ts';
import { SimMedisanaBu5xx } from './medisana-bu5xx.ts';

export class SimMedisanaBu570 extends SimMedisanaBu5xx {
  constructor(options: CuffOptions) {
    super({
      ...options,
      advertisement: {
        localName: '1872B',
        serviceUuids: ['1810'],
        manufacturerData: undefined,
        ...options.advertisement,
      },
      info: { model: 'BU 570', ...options.info },
    });
  }
}

export class SimMedisanaBt580 extends SimMedisanaBu5xx {
  constructor(options: CuffOptions) {
    const address = Buffer.from(options.address.split(':').map((h) => Number.parseInt(h, 16))).reverse();
    super({
      ...options,
      advertisement: {
        localName: 'BT580',
        serviceUuids: ['1810'],
        manufacturerData: Buffer.concat([Buffer.from([0x18, 0x7a]), address]),
        ...options.advertisement,
      },
      info: { model: 'BT 580', ...options.info },
    });
  }
}
