/**
 * A&D Medical UA-651BLE upper-arm cuff: the standard Blood Pressure Service 0x1810 with three
 * connection quirks, each from a public description:
 * - It switches itself off (E 10 on its display) when the central starts a full service discovery:
 *   andengineering/AndroidSampleCode#1, "BPM (UA-651BLE) switches off as soon as a discoverServices is
 *   initiated". The definition discovers only Blood Pressure and Device Information; Battery and
 *   A&D's vendor service 233BF000-… are left alone.
 * - Its clock is the Date Time 0x2A08 characteristic inside the Blood Pressure Service (no Current
 *   Time Service): the collector writes the local time there before enabling indications
 *   (obniz/obniz src/parts/Ble/UA651BLE/index.ts, after A&D's UA-651BLE communication description).
 * - It pairs with LE legacy pairing only (derdilla/blood-pressure-monitor-fl#724, "works ... in the
 *   legacy Bluetooth mode"), in its pairing mode: hold the power button until "Pr" shows (obniz/obniz
 *   src/parts/Ble/UA651BLE/README-ja.md). It ends the connection itself once it has sent its readings.
 */
import { encodeDateTime } from '../datetime.ts';
import { bloodPressureProfile, deviceInformationProfile } from '../profiles/index.ts';
import type { DeviceLink } from './link.ts';
import * as step from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [bloodPressureProfile, deviceInformationProfile];
const BLOOD_PRESSURE = '1810';
const DATE_TIME = '2A08';

/** Writes the gateway's local time into the cuff's Date Time 0x2A08 (GSS Date Time, 7 bytes). */
export async function setCuffClock(link: DeviceLink): Promise<void> {
  if (!link.allows(BLOOD_PRESSURE, DATE_TIME, 'write')) return;
  const now = link.localTime();
  await link.write(BLOOD_PRESSURE, DATE_TIME, encodeDateTime(now));
  link.clockSet(now);
}

export const andUa651ble: DriverDefinition = {
  id: 'and-ua-651ble',
  vendor: 'A&D Medical',
  model: 'UA-651BLE',
  generic: false,
  description:
    'Upper-arm cuff. Pair it once: hold the power button until "Pr" shows (legacy pairing); it then sends its readings after each measurement and switches its radio off. Only the services medgw reads are discovered: a full discovery switches the cuff off (E 10).',
  pairingHelp: {
    en: 'Hold the cuff\'s power (START) button until "Pr" shows on the display, then start pairing here. Nothing to type. Afterwards the cuff sends each reading right after the measurement, then switches its Bluetooth off.',
    fr: "Maintenez le bouton marche (START) du tensiomètre jusqu'à ce que « Pr » s'affiche, puis lancez l'appairage ici. Rien à saisir. Ensuite, le tensiomètre envoie chaque mesure juste après l'avoir prise, puis coupe son Bluetooth.",
  },
  match: { ble: { services: ['1810'], localName: /^A&D_UA-651/ } },
  profiles: PROFILES,
  steps: [
    step.bond(),
    step.discover({ only: PROFILES.map((p) => p.service) }),
    step.identity(),
    step.run('set the cuff clock (Date Time 0x2A08)', setCuffClock),
    step.battery(),
    step.subscribe(),
    step.collectPushed(),
  ],
  quirks: [],
  pairing: 'legacy',
  sources: [
    'andengineering/AndroidSampleCode#1 (the cuff switches off as soon as a service discovery starts)',
    'obniz/obniz src/parts/Ble/UA651BLE (local name "A&D_UA-651BLE_…", clock in Date Time 0x2A08 of 0x1810, pairing mode "Pr", disconnects after sending)',
    'derdilla/blood-pressure-monitor-fl#724 (works in the legacy Bluetooth pairing mode)',
  ],
  examples: [{ localName: 'A&D_UA-651BLE_7C2F01', serviceUuids: ['1810'] }],
};
