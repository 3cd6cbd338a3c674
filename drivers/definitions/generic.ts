/**
 * Generic profile drivers: any device that implements a standard health service works through these,
 * with no quirk, and says so ("generic <service> driver") in the device list and the logs.
 */
import {
  bloodPressureProfile,
  cgmProfile,
  currentTimeProfile,
  type DeviceProfile,
  deviceInformationProfile,
  glucoseProfile,
  healthThermometerProfile,
  pulseOximeterProfile,
  userDataProfile,
  weightScaleProfile,
} from '../profiles/index.ts';
import { standardSteps } from './steps.ts';
import type { DriverDefinition } from './types.ts';

function generic(
  profile: DeviceProfile,
  extra: readonly DeviceProfile[],
  pairing: DriverDefinition['pairing'],
): DriverDefinition {
  const profiles = [profile, ...extra, currentTimeProfile, deviceInformationProfile];
  return {
    id: `generic-${profile.id}`,
    vendor: 'any',
    model: `generic ${profile.name} driver`,
    generic: true,
    description: `Any device implementing the ${profile.name} service 0x${profile.service} (${profile.spec.split(' §')[0]}), without model-specific quirks.`,
    match: { ble: { services: [profile.service] } },
    profiles,
    steps: standardSteps(profiles),
    quirks: [],
    pairing,
    sources: [profile.spec],
    examples: [{ serviceUuids: [profile.service] }],
  };
}

export const genericGlucose = generic(glucoseProfile, [], 'just-works');
export const genericBloodPressure = generic(bloodPressureProfile, [], 'just-works');
export const genericWeightScale = generic(weightScaleProfile, [userDataProfile], 'just-works');
export const genericHealthThermometer = generic(healthThermometerProfile, [], 'just-works');
export const genericPulseOximeter = generic(pulseOximeterProfile, [], 'just-works');
export const genericCgm = generic(cgmProfile, [], 'just-works');

export const GENERIC_DEFINITIONS: readonly DriverDefinition[] = [
  genericGlucose,
  genericBloodPressure,
  genericWeightScale,
  genericHealthThermometer,
  genericPulseOximeter,
  genericCgm,
];
