/**
 * A&D Medical UA-651BLE upper-arm cuff: the standard Blood Pressure Service 0x1810, two connection quirks.
 * - It switches itself off (error E 10 on its display) when the central starts a full service
 *   discovery: andengineering/AndroidSampleCode#1, "BPM (UA-651BLE) switches off as soon as a
 *   discoverServices is initiated". Public collectors for it discover only the services they use
 *   (1810, 180A, 180F and A&D's vendor service): the definition discovers only Blood Pressure, Current
 *   Time and Device Information — Battery and the vendor service are left alone.
 * - It pairs with LE legacy pairing only: derdilla/blood-pressure-monitor-fl#724 ("works with A&D
 *   UA-651BLE and UA-651CNBLE in the legacy Bluetooth mode"); the adapter must allow legacy pairing.
 */
import { bloodPressureProfile, currentTimeProfile, deviceInformationProfile } from '../profiles/index.ts';
import * as step from './steps.ts';
import type { DriverDefinition } from './types.ts';

const PROFILES = [bloodPressureProfile, currentTimeProfile, deviceInformationProfile];

export const andUa651ble: DriverDefinition = {
  id: 'and-ua-651ble',
  vendor: 'A&D Medical',
  model: 'UA-651BLE',
  generic: false,
  description:
    'Upper-arm cuff. Pair it once with the cuff in its pairing mode (see its manual; legacy pairing), then it sends its readings after each measurement. Only the services medgw reads are discovered: a full discovery switches the cuff off (E 10).',
  match: { ble: { services: ['1810'], localName: /^A&D_UA-651/ } },
  profiles: PROFILES,
  steps: standardSteps(),
  quirks: [],
  pairing: 'legacy',
  sources: [
    'andengineering/AndroidSampleCode#1 (the cuff switches off as soon as a service discovery starts)',
    'derdilla/blood-pressure-monitor-fl#724 (works in the legacy Bluetooth pairing mode)',
    'public collector code for "A&D_UA-651BLE": discovers 1810, 180A, 180F and 233BF000-5A34-1B6D-975C-000D5690ABE4 only',
  ],
  examples: [{ localName: 'A&D_UA-651BLE', serviceUuids: ['1810'] }],
};

function standardSteps() {
  return step.standardSteps(PROFILES, {
    discover: step.discover({ only: PROFILES.map((p) => p.service) }),
  });
}
