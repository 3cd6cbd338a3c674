/**
 * Medisana BT 580: a blood pressure monitor read by the same Home Assistant component as the BU 5xx
 * (bkbilly/medisanabp_ble, a standard Blood Pressure Measurement 0x2A35 parser) once that component
 * matches its manufacturer data company id 31256 (0x7A18) instead of the BU 5xx's 0x4842. Nothing else
 * is published about it (its buttons, its pairing mode, its advertised name), so the definition takes the
 * BU 5xx's procedure and stays cautious in its pairing help.
 * Source: bkbilly/medisanabp_ble issue #3, "BT580": "for the BT580 I have to change the manufacturer_id
 * to 31256", after which the reporter's readings came through the standard parser.
 * No public capture of its 0x2A35 was found (searched: bkbilly/medisanabp_ble and
 * Rudertier/medisana_blood_pressure issues and tests, the Home Assistant community thread on the BU 575 /
 * BU 584): no fixture of its own, to record on a real monitor (docs/adding-a-device.md, open points).
 */
import { medisanaBu5xx } from './medisana-bu-5xx.ts';
import type { DriverDefinition } from './types.ts';

/** The company id the BT 580 advertises in its manufacturer data (31256 decimal). */
export const MEDISANA_BT580_COMPANY_ID = 0x7a18;

export const medisanaBt580: DriverDefinition = {
  ...medisanaBu5xx,
  id: 'medisana-bt-580',
  model: 'BT 580',
  description:
    'Blood pressure monitor on the standard Bluetooth blood pressure service. To pair: switch its Bluetooth on, start pairing here and take a measurement: it connects once it shows the result (nothing to type).',
  pairingHelp: {
    en: 'Switch the Bluetooth of the monitor on (see its manual), start pairing here, then take a measurement: the monitor connects once it shows the result. Nothing to type.',
    fr: "Activez le Bluetooth du tensiomètre (voir sa notice), lancez l'appairage ici, puis prenez une mesure : le tensiomètre se connecte dès qu'il affiche le résultat. Rien à saisir.",
  },
  match: { ble: { services: ['1810'], manufacturerId: MEDISANA_BT580_COMPANY_ID } },
  sources: [
    'bkbilly/medisanabp_ble#3 ("for the BT580 I have to change the manufacturer_id to 31256"; the maintainer added it; read by the component\'s standard 0x2A35 parser)',
  ],
  examples: [{ serviceUuids: ['1810'], manufacturerId: MEDISANA_BT580_COMPANY_ID }],
};
