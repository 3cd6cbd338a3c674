/**
 * LifeScan OneTouch Verio Reflect / Verio Flex glucometers: no Glucose Service, LifeScan's own service
 * (drivers/lifescan/): CRC-framed commands written to one characteristic, answers notified on another,
 * records read one by one by index after the last index the gateway stored. The meter refuses its
 * commands until it is bonded with the central.
 */
import { lifescanOneTouchProfile } from '../lifescan/profile.ts';
import { verioRecordCounter } from '../lifescan/protocol.ts';
import { deviceInformationProfile } from '../profiles/index.ts';
import * as step from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [lifescanOneTouchProfile, deviceInformationProfile];

export const onetouchVerio: DriverDefinition = {
  id: 'onetouch-verio',
  vendor: 'LifeScan',
  model: 'OneTouch Verio Reflect / Verio Flex',
  generic: false,
  description:
    "Glucometer with LifeScan's own Bluetooth service (not the Glucose Service). Pair it once: turn Bluetooth on in the meter settings; when the gateway pairs, the meter shows a 6-digit PIN — type it on the pair page or in `medgw pair`. Until it is paired the meter refuses every command. Records are read one by one after the last one stored; control-solution tests are kept aside, never sent.",
  // The 6-digit PIN comes from the owner's booklets (see sources): to confirm on a real meter.
  pairingHelp: {
    en: "Turn Bluetooth on in the meter's settings, then start pairing here. The meter shows a 6-digit PIN: type it here. Until it is paired the meter answers nothing; afterwards its new results are read after the last one stored, and control-solution tests are never sent.",
    fr: "Activez le Bluetooth dans les réglages du lecteur, puis lancez l'appairage ici. Le lecteur affiche un code PIN à 6 chiffres : saisissez-le ici. Tant qu'il n'est pas appairé, le lecteur ne répond pas ; ensuite, ses nouveaux résultats sont lus après le dernier enregistré, et les tests de solution de contrôle ne sont jamais envoyés.",
  },
  // Tidepool asks the browser for any device whose name starts with "OneTouch" (the service is optional there).
  match: { ble: { services: [], localName: /^OneTouch / } },
  profiles: PROFILES,
  steps: [
    step.bond(),
    step.discover({ only: PROFILES.map((p) => p.service) }),
    step.identity(),
    step.subscribe(),
    step.collectCounter(verioRecordCounter),
  ],
  quirks: [],
  pairing: 'passkey',
  sources: [
    'tidepool-org/uploader lib/drivers/onetouch/oneTouchVerioBLE.js, BSD-2-Clause, commit 01858093192408ce3499763af07aa5a40452acb0 (service and characteristic UUIDs, name prefix "OneTouch", packet layout, commands 20 02 / 20 01 / 0A 02 06 / 27 00 / B3, record layout, control-solution byte, ACK 0x81)',
    'tidepool-org/uploader lib/crc.js, BSD-2-Clause (CRC-16 0x1021 seeded 0xFFFF; vector 02 06 06 03 → 0x41CD)',
    'glucometers-tech/glucometer-protocols src/lifescan/shared-binary-protocol.md and onetouch-verio-2015.md, CC-BY-SA-4.0 (framing, status 0x06 success, epoch 2000-01-01)',
    'NightscoutFoundation/xDrip#120 (a Verio Flex advertises as "OneTouch J7RG"; it pairs with the phone but does not follow the Glucose Service)',
    "OneTouch Verio Flex / Verio Reflect owner's booklets (pairing shows a 6-digit PIN on the meter; not among the stored sources: to confirm on a real meter)",
  ],
  examples: [{ localName: 'OneTouch J7RG', serviceUuids: [] }],
};
