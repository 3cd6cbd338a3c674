/**
 * Medisana BU 5xx connect cuff, as drivers/definitions/medisana-bu-5xx.ts describes it: the standard Blood
 * Pressure Service advertised with Medisana's manufacturer data (company id 0x4842 "BH" + the address
 * reversed) and the local name "LS BPM"; two users (User ID in each reading); on every connection it
 * indicates its whole stored history again, then the readings not sent yet.
 */
import { BLS, type CuffOptions, SimCuff } from './cuff.ts';

export class SimMedisanaBu5xx extends SimCuff {
  constructor(options: CuffOptions) {
    const address = Buffer.from(options.address.split(':').map((h) => Number.parseInt(h, 16))).reverse();
    super({
      ...options,
      // Every reading it already sent goes again at each connection (its history), before the new ones.
      faults: { resendOld: Number.MAX_SAFE_INTEGER, ...options.faults },
      advertisement: {
        localName: 'LS BPM',
        serviceUuids: [BLS.service],
        manufacturerData: Buffer.concat([Buffer.from([0x42, 0x48]), address]),
        ...options.advertisement,
      },
      info: {
        manufacturer: 'Medisana',
        model: 'BU 575',
        serial: '2311000575',
        firmware: 'V1.3',
        ...options.info,
      },
    });
  }
}
