/**
 * Roche Accu-Chek Guide glucometer: a standard Glucose Profile meter (records pulled through the RACP)
 * that bonds with passkey entry — the 6-digit code is shown on the meter's display.
 */
import { currentTimeProfile, deviceInformationProfile, glucoseProfile } from '../profiles/index.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [glucoseProfile, currentTimeProfile, deviceInformationProfile];

export const rocheAccuChekGuide: DriverDefinition = {
  id: 'roche-accu-chek-guide',
  vendor: 'Roche',
  model: 'Accu-Chek Guide',
  generic: false,
  description:
    'Glucometer; pair from the meter (Settings > Wireless > Pairing), then type the code it displays. Records are fetched through the RACP.',
  pairingHelp: {
    en: 'On the meter, open Settings > Wireless > Pairing, then start pairing here. The meter shows a 6-digit code: type it here.',
    fr: "Sur le lecteur, ouvrez Réglages > Sans fil > Appairage, puis lancez l'appairage ici. Le lecteur affiche un code à 6 chiffres : saisissez-le ici.",
  },
  match: { ble: { services: ['1808'], localName: /^meter\+/ } },
  profiles: PROFILES,
  steps: standardSteps(PROFILES),
  quirks: [],
  pairing: 'passkey',
  sources: [
    'NightscoutFoundation/xDrip#208 (standard GLS; pairing with the code the meter displays)',
    'dotintent/react-native-ble-plx#652 (PIN prompt at bonding, RACP report all records)',
    'advertised local name prefix "meter+" (public BLE device-name tables of telehealth SDKs)',
  ],
  examples: [{ localName: 'meter+06577561', serviceUuids: ['1808'] }],
};
