/**
 * Medisana BU 5xx connect upper-arm cuffs (BU 530, BU 570, BU 575, BU 580, BU 584): the standard Blood
 * Pressure Service 0x1810, recognized by the manufacturer data Medisana puts in its advertisements
 * (company id 0x4842, the octets "BH", followed by the cuff's address; local name "LS BPM"). Public
 * descriptions, and what this definition does with them:
 * - every Blood Pressure Measurement carries a time stamp, the pulse and a **User ID** (the cuff's user
 *   1 or 2 buttons): each user is mapped to a household member (device users), an unmapped one is
 *   quarantined by the pipeline (MEDGW_ERR_HOUSEHOLD_USER), never given to the wrong person;
 * - on **every connection the cuff indicates its whole stored history**, not only what is new (a BU 570
 *   showed "only the 9th value of the history" in a collector that kept the last): the re-sent readings
 *   collapse on their reading ids (device + time stamp + values), so each is kept once;
 * - taking measurements back to back gives "E4": the person rests a few minutes between two.
 * Real bytes: a BU 570 reading published in the README of Hotwheels93/medisana-bu570-ble, flags 0x1E with
 * time stamp, pulse, User ID 1 and Measurement Status 0x0004 (irregular pulse), little-endian as BLS says
 * (drivers/fixtures/2A35/medisana-bu-5xx-bu-570-user-1.json). The re-sent history has no published frames.
 */
import { bloodPressureProfile, currentTimeProfile, deviceInformationProfile } from '../profiles/index.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [bloodPressureProfile, currentTimeProfile, deviceInformationProfile];

/** Medisana's company id as its cuffs advertise it: the octets 42 48 ("BH") read little-endian. */
export const MEDISANA_COMPANY_ID = 0x4842;

export const medisanaBu5xx: DriverDefinition = {
  id: 'medisana-bu-5xx',
  vendor: 'Medisana',
  model: 'BU 5xx connect (BU 530, BU 570, BU 575, BU 580, BU 584)',
  generic: false,
  description:
    'Upper-arm cuff with two users. To pair: switch Bluetooth on in the cuff settings, start pairing here and take a measurement: the cuff connects once it shows the result (nothing to type). Use your own user button (1 or 2) every time: each user is a different person in the gateway. Rest a few minutes between two measurements (the cuff shows E4 otherwise).',
  pairingHelp: {
    en: 'Switch Bluetooth on in the cuff settings, start pairing here, then take a measurement: the cuff connects once it shows the result. Nothing to type. Use your own user button (1 or 2) every time; rest a few minutes between two measurements (the cuff shows E4 otherwise).',
    fr: "Activez le Bluetooth dans les réglages du tensiomètre, lancez l'appairage ici, puis prenez une mesure : le tensiomètre se connecte dès qu'il affiche le résultat. Rien à saisir. Utilisez toujours votre bouton d'utilisateur (1 ou 2) ; reposez-vous quelques minutes entre deux mesures (sinon le tensiomètre affiche E4).",
  },
  match: { ble: { services: ['1810'], manufacturerId: MEDISANA_COMPANY_ID } },
  profiles: PROFILES,
  steps: standardSteps(PROFILES),
  quirks: [],
  pairing: 'just-works',
  sources: [
    'bkbilly/medisanabp_ble manifest.json (manufacturer_id 18498 = 0x4842) and medisana_bp/parser.py (0x2A35 with time stamp, pulse and user id; Battery Level read), issues #1 (BU 570 sends its stored history), #2 (BU 570: local name "1872B", services DIS + 0x1810), #4 (BU 530, BU 570, BU 580, BU 584 reported working; E4 between close measurements)',
    'custom-components/ble_monitor#1345 (advertisement of a Medisana cuff: local name "LS BPM", manufacturer data ff 42 48 + address, service 0x1810)',
    'derdilla/blood-pressure-monitor-fl#741 (Medisana BU 572 on the standard Blood Pressure Service)',
  ],
  examples: [{ localName: 'LS BPM', serviceUuids: ['1810'], manufacturerId: MEDISANA_COMPANY_ID }],
};
