/**
 * Ascensia (formerly Bayer) Contour Next One glucometer — and the Contour Plus One, which advertises the
 * same way: a standard Glucose Profile meter (records pulled through the RACP) with three things the
 * standard does not say, each decided here:
 * - **bond in pairing mode, with a passkey**: the meter only pairs while its pairing mode is on (the blue
 *   light flashes) and shows a 6-digit code to type (Ascensia user guide; GLS v1.0.1 §5: bonding
 *   mandatory). Later connections reuse the bond: the meter connects on its own after each test.
 * - **its clock is read and corrects the record times**: its Current Time 0x2A2B is read at every
 *   connection and the offset to the gateway's clock corrects the record times (`corrected` time
 *   quality), as xDrip's glucose-meter service does for it (CurrentTimeRx time difference subtracted
 *   from each record). No public source says whether the meter accepts a Current Time write: the clock
 *   step writes only where the characteristic allows it, a refused write is logged, and the correction
 *   never depends on one (the simulator models the read-only case).
 * - **control-solution records are skipped**: a check of the meter with control solution (GLS Type 10,
 *   or Sample Location 4) is not a patient result. The generic path quarantines it
 *   (MEDGW_ERR_CONTROL_SOLUTION in drivers/normalize), where a person confirming the quarantine could
 *   lift it; for this meter, whose owners run control checks routinely, the record is left out in the
 *   session instead (`filterRecord`): counted, logged with MEDGW_ERR_CONTROL_SOLUTION, never stored, never
 *   forwarded. Tidepool's BLE driver (BSD-2, lib/drivers/bluetoothLE/bluetoothLEDriver.js: "check that
 *   it's not control solution", record.type !== 10) and Glucoripper ("skips control-solution readings")
 *   do the same.
 * - **the private Contour service 00000000-0002-11E2-9E96-0800200C9A66 is ignored deliberately**: its
 *   characteristics (0x1021 read, 0x1022 write/indicate, 0x1026 clock) serve Ascensia's own app; every
 *   reading and the clock are on the standard services. Discovery asks only for the standard services.
 *
 * Real bytes: two stored records of a Contour Next One, each followed by its context record, and the RACP
 * end of report, published in the README of LiamsGitHub/GlucometerBluetoothToHealthKit
 * (drivers/fixtures/2A18/ascensia-contour-next-one-*.json, 2A34/…, 2A52/…): the meter sends concentration
 * in kg/L, type capillary whole blood with no sample location (0xF), a time offset of -420 min beside its
 * base time, and the meal marker in a context record carrying only the Meal field. No public capture of a
 * control-solution record or of a Current Time write was found (searched: xDrip, Tidepool uploader,
 * flutter_blue, react-native-ble-plx and nativescript ble issues, glucometerutils, Glucoripper, pages):
 * the control-solution rule above rests on the GLS type/location codes; to record on a real meter.
 */
import type { RecordDrop } from '../profiles/index.ts';
import { currentTimeProfile, deviceInformationProfile, glucoseProfile } from '../profiles/index.ts';
import type { Measurement } from '../types.ts';
import * as step from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [glucoseProfile, currentTimeProfile, deviceInformationProfile];

/** The private Ascensia service, as noble names it (lower-case, no dashes): never discovered. */
export const CONTOUR_PRIVATE_SERVICE = '00000000000211e29e960800200c9a66';

/** A control-solution check (GLS Type 10 or Sample Location 4) is left out with its code. */
export function controlSolution(m: Measurement): RecordDrop | undefined {
  const c = m.context;
  const control =
    m.kind === 'glucose' &&
    (c?.['type'] === 'control-solution' || c?.['sampleLocation'] === 'control-solution');
  return control
    ? {
        code: 'MEDGW_ERR_CONTROL_SOLUTION',
        message: 'a control-solution check of the meter, not a patient result: left out',
      }
    : undefined;
}

export const ascensiaContourNextOne: DriverDefinition = {
  id: 'ascensia-contour-next-one',
  vendor: 'Ascensia',
  model: 'Contour Next One (Contour Plus One)',
  generic: false,
  description:
    'Glucometer. To pair: with the meter off, press and hold its OK button for about 3 seconds until the blue light flashes (pairing mode), then start pairing here; the meter shows a 6-digit code: type it on the pair page or in `medgw pair`. After that the meter sends its new results when it is near the gateway; control-solution checks are left out.',
  pairingHelp: {
    en: 'With the meter off, press and hold its OK button for about 3 seconds until the blue light flashes, then start pairing here. The meter shows a 6-digit code: type it here. Afterwards the meter sends its new results when it is near the gateway; control-solution checks are never sent.',
    fr: "Lecteur éteint, maintenez le bouton OK environ 3 secondes jusqu'à ce que le voyant bleu clignote, puis lancez l'appairage ici. Le lecteur affiche un code à 6 chiffres : saisissez-le ici. Ensuite, le lecteur envoie ses nouveaux résultats quand il est près de la passerelle ; les tests de solution de contrôle ne sont jamais envoyés.",
  },
  match: { ble: { services: ['1808'], localName: /^Contour\d/ } },
  profiles: PROFILES,
  steps: [
    step.bond(),
    // Only the standard services: the private Contour service is left alone on purpose.
    step.discover({ only: ['1808', '1805', '180A', '180F'] }),
    step.identity(),
    step.clock(), // read: the offset corrects the record times (written only where writable)
    step.battery(),
    step.subscribe(),
    step.collectStored(),
  ],
  hooks: { filterRecord: controlSolution },
  quirks: [],
  pairing: 'passkey',
  sources: [
    'Ascensia CONTOUR NEXT ONE user guide (pairing mode: hold OK about 3 s until the blue light flashes; the meter displays a PIN to enter on the device being paired)',
    'NightscoutFoundation/xDrip BluetoothGlucoseMeter (standard GLS + RACP for the Contour Next One; record times corrected by the Current Time difference; control-solution tests ignored) and issue #104',
    'tidepool-org/uploader lib/drivers/bluetoothLE/bluetoothLEDriver.js (BSD-2: a GLS record of type 10, control solution, is never uploaded)',
    'syschimp Glucoripper README (Contour Next One / Contour Plus One tested on GLS + RACP; skips control-solution readings)',
    'private Ascensia service 00000000-0002-11E2-9E96-0800200C9A66 with 0x1021 (read), 0x1022 (write, indicate), 0x1026 (clock), listed by nRF Connect in public BLE projects for the meter (e.g. weliem/blessed-android examples)',
    'advertised name "Contour" + model and serial digits, e.g. "Contour7801H5213142" (public BLE device-name tables of telehealth SDKs)',
  ],
  examples: [{ localName: 'Contour7801H5213142', serviceUuids: ['1808'] }],
};
