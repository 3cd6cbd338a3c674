/**
 * Sanitas SBF72 / SBF73 and Beurer BF720 / BF915: diagnostic scales on the standard Weight Scale (0x181D),
 * Body Composition (0x181B) and User Data (0x181C) services. A definition of their own rather than the
 * BF600's: the BF600/BF850 have no Body Composition Service in the public descriptions, these do, and
 * public collectors handle them apart (openScale's SanitasSbf72Handler, ble-scale-sync's BF720 adapter).
 * The facts, from those public descriptions (GPL projects: read, re-implemented here, nothing copied):
 * - weight on Weight Measurement 0x2A9D, then body fat, muscle, water, impedance… on Body Composition
 *   Measurement 0x2A9C (both indicated, same user index and time stamp): the weight is forwarded, the body
 *   composition stays local (drivers/vocabulary.ts: Mon espace santé takes none of its kinds);
 * - the link must be bonded before the User Data Service answers (a BF788 snoop: SMP pairing, then the
 *   consent) — just works, no code on the display;
 * - every connection gives the consent `02 <user index> <consent code LE>` on the User Control Point
 *   0x2A9F, answered `20 02 01` (success) or `20 02 05` (user not authorized). A person created in the
 *   scale's own menu is not a UDS user: the consent only works for a user registered through Register
 *   New User (BF915: every slot refused the consent with every code until one was registered);
 * - with its stored weights the scale sends body composition records whose every value is zero (only the
 *   basal metabolism varies): placeholders, not measurements (a BF788 snoop of the same family: 35 zeroed
 *   records beside the backfilled history, one real one). They are dropped with
 *   MEDGW_ERR_BLE_COMPOSITION_PLACEHOLDER, counted, never kept as a 0 % body fat;
 * - the vendor service 0xFFFF (user list, initials, activity level) is ignored deliberately: it serves the
 *   scale's own display of names; the standard services carry everything medgw forwards or keeps.
 */

import type { RecordDrop } from '../profiles/index.ts';
import {
  bodyCompositionProfile,
  currentTimeProfile,
  deviceInformationProfile,
  userDataProfile,
  weightScaleProfile,
} from '../profiles/index.ts';
import type { Measurement } from '../types.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [
  weightScaleProfile,
  bodyCompositionProfile,
  userDataProfile,
  currentTimeProfile,
  deviceInformationProfile,
];

/**
 * A 0x2A9C record whose body fat and every other body value is 0 (basal metabolism aside: the scale
 * computes it from the person's profile, not from a measurement) is a placeholder (ble-scale-sync#229).
 */
export function compositionPlaceholder(m: Measurement): RecordDrop | undefined {
  if (m.source !== '2A9C') return undefined;
  const measured = m.components.filter((c) => c.name !== 'basal-metabolism');
  const zero = measured.every((c) => 'mantissa' in c.value && c.value.mantissa === 0);
  return measured.length > 0 && zero
    ? {
        code: 'MEDGW_ERR_BLE_COMPOSITION_PLACEHOLDER',
        message: 'the scale sent a body composition record with every value at zero: a placeholder, left out',
      }
    : undefined;
}

export const sanitasSbf72: DriverDefinition = {
  id: 'sanitas-sbf72',
  vendor: 'Sanitas / Beurer',
  model: 'SBF72, SBF73 (Beurer BF720, BF915)',
  generic: false,
  description:
    'Diagnostic scale with body composition. To pair: put batteries in, then start pairing here while the scale is awake (step on it briefly: the display lights). Nothing to type: the scale bonds by itself, and the gateway registers you as a new user of the scale (a person created only in the scale menu is not enough). Afterwards, weigh yourself barefoot: the weight is sent to Mon espace santé, body fat, muscle and water stay in the gateway.',
  pairingHelp: {
    en: 'Wake the scale (step on it briefly: the display lights), then start pairing here. Nothing to type: the scale pairs by itself and the gateway registers you as a new user of the scale. Weigh yourself barefoot: the weight is sent to Mon espace santé; body fat, muscle and water stay in the gateway.',
    fr: "Réveillez la balance (montez dessus un instant : l'écran s'allume), puis lancez l'appairage ici. Rien à saisir : la balance s'appaire seule et la passerelle vous enregistre comme nouvel utilisateur. Pesez-vous pieds nus : le poids est envoyé à Mon espace santé ; masse grasse, muscles et eau restent dans la passerelle.",
  },
  match: {
    ble: { services: ['181D'], localName: /^(?:Sanitas |Beurer )?(?:SBF72|SBF73|BF720|BF915)\b/i },
  },
  profiles: PROFILES,
  // Bond, discover, identity, clock (CTS write), battery, subscribe 0x2A9D + 0x2A9C + UCP, the queued
  // readings of the unknown user, then the consent user by user (each consent releases that user's).
  steps: standardSteps(PROFILES),
  hooks: { filterRecord: compositionPlaceholder },
  quirks: [],
  pairing: 'just-works',
  sources: [
    'oliexdev/openScale SanitasSbf72Handler (Sanitas SBF72 and compatible BF720, BF915, SBF73: WSS + BCS + UDS beside a vendor service 0xFFFF for the user list); its device test names "SANITAS SBF72", "SANITAS SBF73", "Beurer BF915"',
    'KristianP26/ble-scale-sync src/scales/beurer-bf720.ts (0x2A9D weight, 0x2A9C body composition, UCP consent 02/index/code LE answered 20 02 01 or 20 02 05, bonding first; Beurer company id 0x0611) and issues #168 (BF720 snoop), #229 (BF788 snoop with zeroed body composition records), #335 (BF915: consent refused for scale-menu users until Register New User), #417',
    'Bluetooth SIG BCS v1.0 §2-3 (the analyzer also instantiates WSS; 0x2A9C Indicate, 0x2A9B Read) and UDS v1.0 §3.3 (User Control Point)',
  ],
  examples: [
    { localName: 'SBF72', serviceUuids: ['181D', '181B', '181C'] },
    { localName: 'SANITAS SBF73', serviceUuids: ['181D'] },
    { localName: 'BF720', serviceUuids: ['181D', '181B'] },
    { localName: 'Beurer BF915', serviceUuids: ['181D'] },
  ],
};
