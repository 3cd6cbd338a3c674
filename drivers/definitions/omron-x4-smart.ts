/**
 * Omron X4 Smart (HEM-7155T) upper-arm cuff: one of the Omron models that send their readings on the
 * standard Blood Pressure Service 0x1810 (most Omron cuffs use Omron's own protocol instead, which medgw
 * does not speak). What public reports say, and what this definition does with it:
 * - pairing: hold the Bluetooth button until "P" blinks (pairing mode); once bonded, "P" gives way to a
 *   small square. Just works: nothing to type. Its measurement service answers only on the bonded link;
 * - after a measurement the cuff connects and sends **only its latest reading**, then ends the connection
 *   itself; the readings taken while the gateway was out of reach stay in the cuff until the person starts
 *   a transfer with a short press on the Bluetooth button, which sends them all and clears the cuff's
 *   memory. The pairing help says so; each reading arrives once either way (the transfer does not
 *   repeat what was already sent);
 * - its clock: Omron cuffs on the standard service answer a Current Time write with ATT 0x80
 *   ("application error"; reported for the HEM-6232T, assumed here until an X4 capture says otherwise):
 *   the gateway reads the clock and corrects the reading times instead (`corrected`).
 *
 * No public capture of this cuff's Blood Pressure Measurement 0x2A35 was found (searched: omblepy and
 * hass-omron issues, derdilla/blood-pressure-monitor-fl issues and tests, ble_monitor#1003, flutter_blue
 * blood-pressure threads, pages); what is published for Omron is its own EEPROM record format. So it has no
 * fixture of its own: whether its 0x2A35 carries User ID and Measurement Status is to record on a real cuff
 * (docs/adding-a-device.md, open points).
 */
import { bloodPressureProfile, currentTimeProfile, deviceInformationProfile } from '../profiles/index.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [bloodPressureProfile, currentTimeProfile, deviceInformationProfile];

export const omronX4Smart: DriverDefinition = {
  id: 'omron-x4-smart',
  vendor: 'Omron',
  model: 'X4 Smart (HEM-7155T)',
  generic: false,
  description:
    'Upper-arm cuff. To pair: hold the Bluetooth button until "P" blinks on the display, then start pairing here (nothing to type); when "P" turns into a small square, it is paired. After each measurement the cuff sends that reading by itself. Readings taken while the gateway was out of reach: press the Bluetooth button briefly near the gateway to send them all.',
  pairingHelp: {
    en: 'Hold the Bluetooth button until "P" blinks on the display, then start pairing here. Nothing to type: when "P" turns into a small square, it is paired. Readings taken while the gateway was out of reach: press the Bluetooth button briefly near the gateway.',
    fr: "Maintenez le bouton Bluetooth jusqu'à ce que « P » clignote à l'écran, puis lancez l'appairage ici. Rien à saisir : quand « P » devient un petit carré, l'appairage est fait. Mesures prises loin de la passerelle : appuyez brièvement sur le bouton Bluetooth près de la passerelle.",
  },
  match: { ble: { services: ['1810'], localName: /^X4 Smart/ } },
  profiles: PROFILES,
  steps: standardSteps(PROFILES),
  quirks: [],
  pairing: 'just-works',
  sources: [
    'derdilla/blood-pressure-monitor-fl docs/bluetooth.md (Omron X4 Smart, name "X4 Smart", standard 0x1810: returns the latest measurement after measuring; download mode supported and removes the stored measurements; disconnects by itself after reading)',
    'userx14/omblepy README and issue #2 (Omron pairing mode: hold the Bluetooth button until the blinking "P"; short press for a normal transfer, the small square)',
    'eigger/hass-omron#11 (HEM-6232T, standard 0x1810 advertised: "Failed to sync time via CTS … error=128 Application error")',
  ],
  examples: [{ localName: 'X4 Smart', serviceUuids: ['1810'] }],
};
