/**
 * Beurer BF600 family (also sold as BF850): multi-user scale on the standard Weight Scale Service with the
 * User Data Service — each household member is a UDS user with a consent code. (Sanitas SBF72/SBF73 and
 * Beurer BF720/BF915 add the Body Composition Service: sanitas-sbf72.ts.)
 */
import {
  currentTimeProfile,
  deviceInformationProfile,
  userDataProfile,
  weightScaleProfile,
} from '../profiles/index.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [weightScaleProfile, userDataProfile, currentTimeProfile, deviceInformationProfile];

export const beurerBf600: DriverDefinition = {
  id: 'beurer-bf600',
  vendor: 'Beurer',
  model: 'BF600 (BF850)',
  generic: false,
  description:
    'Multi-user diagnostic scale: register each household member once (UDS Register New User), consent on every connection, set the clock through CTS.',
  pairingHelp: {
    en: 'Wake the scale (step on it briefly), then start pairing here and give your user number and the 4-digit code the scale shows. Each person in the household pairs once with their own number.',
    fr: "Réveillez la balance (montez dessus un instant), puis lancez l'appairage ici et indiquez votre numéro d'utilisateur et le code à 4 chiffres affiché par la balance. Chaque personne du foyer s'appaire une fois avec son propre numéro.",
  },
  match: { ble: { services: ['181D'], localName: /^(?:Beurer )?(BF600|BF850)/i } },
  profiles: PROFILES,
  steps: standardSteps(PROFILES),
  quirks: [],
  pairing: 'just-works',
  sources: [
    'oliexdev/openScale StandardWeightProfileHandler.kt (WSS + UDS consent + CTS write on connect)',
    'openScale model table: "bf600"/"bf850" names select the standard Beurer/Sanitas handler',
  ],
  examples: [
    { localName: 'BF600', serviceUuids: ['181D', '181C'] },
    { localName: 'BF850', serviceUuids: ['181D'] },
  ],
};
