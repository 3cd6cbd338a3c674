/** Every device profile, by service. */
import { bloodPressureProfile } from './blood-pressure.ts';
import { bodyCompositionProfile } from './body-composition.ts';
import { cgmProfile } from './cgm.ts';
import { currentTimeProfile } from './current-time.ts';
import { deviceInformationProfile } from './device-information.ts';
import { glucoseProfile } from './glucose.ts';
import { healthThermometerProfile } from './health-thermometer.ts';
import { pulseOximeterProfile } from './pulse-oximeter.ts';
import type { DeviceProfile } from './types.ts';
import { userDataProfile } from './user-data.ts';
import { weightScaleProfile } from './weight-scale.ts';

export type {
  CollectMethod,
  DeviceProfile,
  ProfileCharacteristic,
  ProfileSession,
  RecordAssembler,
  RecordDrop,
  RecordFilter,
} from './types.ts';
export {
  bloodPressureProfile,
  bodyCompositionProfile,
  cgmProfile,
  currentTimeProfile,
  deviceInformationProfile,
  glucoseProfile,
  healthThermometerProfile,
  pulseOximeterProfile,
  userDataProfile,
  weightScaleProfile,
};

/** Measurement profiles (a generic driver exists for each) and the companions. */
export const MEASUREMENT_PROFILES: readonly DeviceProfile[] = [
  glucoseProfile,
  bloodPressureProfile,
  weightScaleProfile,
  healthThermometerProfile,
  pulseOximeterProfile,
  cgmProfile,
];
/** Blocks a definition lists beside a measurement profile (BCS beside WSS), with no generic driver. */
export const SECONDARY_PROFILES: readonly DeviceProfile[] = [bodyCompositionProfile];
export const COMPANION_PROFILES: readonly DeviceProfile[] = [
  userDataProfile,
  currentTimeProfile,
  deviceInformationProfile,
];
export const PROFILES: readonly DeviceProfile[] = [
  ...MEASUREMENT_PROFILES,
  ...SECONDARY_PROFILES,
  ...COMPANION_PROFILES,
];
