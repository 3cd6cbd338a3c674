/**
 * Beurer BM85 blood-pressure cuff. A public capture (derdilla/blood-pressure-monitor-fl@17aba3d0,
 * app/test/features/bluetooth/logic/characteristics/ble_measurement_data_test.dart, "decodes beurer sample
 * data": `56 6A 00 47 00 00 00 EA 07 08 0B 12 1F 00 00 3F 00 00 00`) shows that it
 * - sets the RFU flag bit 6 (flags 0x56)                          → ignore-reserved-flags
 * - sends a User ID byte although flag bit 3 is clear             → user-id-without-flag
 * - sends Pulse Rate and Measurement Status big-endian (`00 3F`)  → pulse-status-big-endian
 * - leaves the mean arterial pressure at 0x0000                   → mean-arterial-zero-unset
 */
import { bloodPressureProfile, currentTimeProfile, deviceInformationProfile } from '../profiles/index.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [bloodPressureProfile, currentTimeProfile, deviceInformationProfile];

export const beurerBm85: DriverDefinition = {
  id: 'beurer-bm85',
  vendor: 'Beurer',
  model: 'BM85',
  generic: false,
  description: 'Upper-arm cuff with two users; pushes stored readings as indications after each measurement.',
  pairingHelp: {
    en: "Press the cuff's Bluetooth button, then start pairing here. Nothing to type. Use your own user button (1 or 2) every time: each user is a different person in the gateway.",
    fr: "Appuyez sur le bouton Bluetooth du tensiomètre, puis lancez l'appairage ici. Rien à saisir. Utilisez toujours votre bouton d'utilisateur (1 ou 2) : chaque utilisateur est une personne différente dans la passerelle.",
  },
  match: { ble: { services: ['1810'], localName: /^BM85/ } },
  profiles: PROFILES,
  steps: standardSteps(PROFILES),
  quirks: [
    'ignore-reserved-flags',
    'user-id-without-flag',
    'pulse-status-big-endian',
    'mean-arterial-zero-unset',
  ],
  pairing: 'just-works',
  sources: [
    'derdilla/blood-pressure-monitor-fl@17aba3d0 ble_measurement_data_test.dart (BM85 captures, users 0 and 1)',
    'Beurer cuffs advertise their model name (BM54, BM67, BC57 in public BLE device-name tables)',
  ],
  examples: [{ localName: 'BM85', serviceUuids: ['1810'] }],
};
