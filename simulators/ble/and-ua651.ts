/**
 * A&D UA-651BLE upper-arm cuff, as public reports describe it:
 * - the standard Blood Pressure Service 0x1810 with Device Information, Current Time and Battery, and
 *   A&D's vendor service 233BF000-5A34-1B6D-975C-000D5690ABE4 (one characteristic 233BF001-…), as
 *   listed by public collector code and BlueZ service dumps of A&D devices;
 * - it switches itself off when the central runs a full service discovery ("switches off as soon as a
 *   discoverServices is initiated", andengineering/AndroidSampleCode#1): modelled as a discovery
 *   budget of three services — the standard blood-pressure, clock and identity services — so a
 *   collector that discovers only those succeeds and one that discovers everything loses the link;
 * - it bonds (legacy pairing, derdilla/blood-pressure-monitor-fl#724) before its measurement service
 *   answers, pushes its stored readings once indications are enabled and ends the connection itself.
 */
import { type CuffOptions, SimCuff } from './cuff.ts';
import type { SimService } from './peripheral.ts';

/** A&D's vendor service and characteristic (noble's form: lower-case, no dashes). */
export const AND_VENDOR = {
  service: '233bf0005a341b6d975c000d5690abe4',
  characteristic: '233bf0015a341b6d975c000d5690abe4',
} as const;

/** Services the UA-651BLE tolerates being discovered on one connection. */
export const UA651_DISCOVERY_BUDGET = 3;

const vendorService: SimService = {
  uuid: AND_VENDOR.service,
  characteristics: [
    { uuid: AND_VENDOR.characteristic, properties: ['write', 'indicate'], write: () => undefined },
  ],
};

export class SimAndUa651 extends SimCuff {
  constructor(options: CuffOptions) {
    super({
      discoveryBudget: UA651_DISCOVERY_BUDGET,
      requireBonding: true,
      disconnectWhenDone: true,
      ...options,
      advertisement: { localName: 'A&D_UA-651BLE', serviceUuids: ['1810'], ...options.advertisement },
      info: { manufacturer: 'A&D Medical', model: 'UA-651BLE', serial: '5140300001', ...options.info },
      extraServices: [vendorService, ...(options.extraServices ?? [])],
    });
  }
}
