/**
 * Medisana BU 570 connect advertising only as "1872B": the same cuff as the BU 5xx family
 * (drivers/definitions/medisana-bu-5xx.ts: standard Blood Pressure Service 0x1810 with time stamp, pulse
 * and User ID, its whole history indicated at every connection), seen by a collector with the local name
 * "1872B", the service 0x1810 and no manufacturer data, so the BU 5xx matcher (Medisana's company id)
 * misses it and it would fall to the generic blood-pressure driver, which maps no household users.
 * Source: bkbilly/medisanabp_ble pull request #2, "Update manifest.json to support BU 570"
 * (AdvertisementData(local_name='1872B', service_uuids=['0x1810']); GATT: Device Information and 0x1810;
 * the component's parser, a standard 0x2A35 reading, decodes it). The same report says Home Assistant could
 * not connect to it ("Timeout waiting for connect response" after 20 s) while a script of the reporter
 * read it: a connection trouble not understood yet, to confirm on a real cuff.
 * Real bytes: a BU 570 reading from the README of Hotwheels93/medisana-bu570-ble (its advertisement is not
 * in that capture): drivers/fixtures/2A35/medisana-bu-570-user-1.json.
 */
import { medisanaBu5xx } from './medisana-bu-5xx.ts';
import type { DriverDefinition } from './types.ts';

export const medisanaBu570: DriverDefinition = {
  ...medisanaBu5xx,
  id: 'medisana-bu-570',
  model: 'BU 570 connect (advertising as "1872B")',
  match: { ble: { services: ['1810'], localName: /^1872B$/ } },
  sources: [
    'bkbilly/medisanabp_ble#2 (BU 570: local name "1872B", service 0x1810 advertised, Device Information + 0x1810 in its GATT, no manufacturer data; decoded by the same 0x2A35 parser as the other BU 5xx)',
    ...medisanaBu5xx.sources,
  ],
  examples: [{ localName: '1872B', serviceUuids: ['1810'] }],
};
