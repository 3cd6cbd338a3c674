/**
 * Beurer BF105, BF500, BF788 and BF950: diagnostic scales on the standard Weight Scale (0x181D), Body
 * Composition (0x181B) and User Data (0x181C) services, the procedure of the Sanitas SBF72 family
 * (drivers/definitions/sanitas-sbf72.ts: bond Just Works, register the owner with Register New User or
 * give a known user's consent code, weight forwarded, body composition kept local, zeroed placeholder
 * records left out). A definition of their own so each is recognised by its name and cited; the facts,
 * from public descriptions (GPL projects: read, nothing copied):
 * - BF105 and BF950: oliexdev/openScale pull request #753, "Basic support for Beurer BF105, BF600, BF850,
 *   BF950 and Silvercrest SBF77" — new scale user created when none exists, binding to an existing user
 *   with its consent code, weight and body composition read from the scale; BF950 tested by a user, BF105
 *   listed as needing tests (its captures: openScale#635);
 * - BF500: openScale pull request #1110, "Initial support for Beurer BF500" — "a mix of BF105 and BF600":
 *   a user transferred to the scale, weight, body water and body fat measured; the scale's automatic
 *   user recognition did not work for that author (the consent per user still decides);
 * - BF788: KristianP26/ble-scale-sync#229 — a BF788 snoop with the Weight Scale / Body Composition / User
 *   Data exchange and the zeroed body composition records this family sends beside stored weights.
 * The scales' vendor characteristics (user initials, scale settings) only serve the scale's display and
 * are left alone.
 * Real bytes read with this definition: a BF105 body composition indication quoted in openScale#635
 * (drivers/fixtures/2A9C/beurer-bf950-bf105-composition.json) and the BF788 weight of ble-scale-sync#229
 * (2A9D/beurer-bf950-bf788-weight.json). None from the BF950 itself: its snoops (openScale#502,
 * ble-scale-sync#255, #290) are attached files whose bytes no page quotes.
 */
import { sanitasSbf72 } from './sanitas-sbf72.ts';
import type { DriverDefinition } from './types.ts';

export const beurerBf950: DriverDefinition = {
  ...sanitasSbf72,
  id: 'beurer-bf950',
  vendor: 'Beurer',
  model: 'BF105, BF500, BF788, BF950',
  description:
    'Diagnostic scale with body composition. To pair: wake the scale (step on it briefly: the display lights), then start pairing here. Nothing to type: the scale bonds by itself, and the gateway registers you as a new user of the scale (or, with `medgw pair --user <n>=<code>`, uses the user and consent code the scale already shows). Weigh yourself barefoot: the weight is sent to Mon espace santé, body fat, muscle and water stay in the gateway.',
  pairingHelp: {
    en: 'Wake the scale (step on it briefly: the display lights), then start pairing here. Nothing to type: the scale pairs by itself and the gateway registers you as a new user of the scale. Weigh yourself barefoot: the weight is sent to Mon espace santé; body fat, muscle and water stay in the gateway.',
    fr: "Réveillez la balance (montez dessus un instant : l'écran s'allume), puis lancez l'appairage ici. Rien à saisir : la balance s'appaire seule et la passerelle vous enregistre comme nouvel utilisateur. Pesez-vous pieds nus : le poids est envoyé à Mon espace santé ; masse grasse, muscles et eau restent dans la passerelle.",
  },
  match: { ble: { services: ['181D'], localName: /^(?:Beurer )?(?:BF105|BF500|BF788|BF950)\b/i } },
  sources: [
    'oliexdev/openScale#753 (Beurer BF105 and BF950 on WSS + BCS + UDS: user creation, consent code, weight and body composition; BF950 tested) and #635 (BF105 captures)',
    'oliexdev/openScale#1110 (Beurer BF500: "a mix of BF105 and BF600", user transfer, weight, body water and fat)',
    'KristianP26/ble-scale-sync#229 (Beurer BF788 snoop: the standard services and zeroed body composition placeholders)',
    'Bluetooth SIG WSS v1.0, BCS v1.0 and UDS v1.0 (User Control Point)',
  ],
  examples: [
    { localName: 'BF105', serviceUuids: ['181D'] },
    { localName: 'BF500', serviceUuids: ['181D'] },
    { localName: 'BF788', serviceUuids: ['181D', '181B', '181C'] },
    { localName: 'Beurer BF950', serviceUuids: ['181D'] },
  ],
};
