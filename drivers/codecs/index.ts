/** Every characteristic codec, one file each. Add a codec: write its file and list it here. */
import type { CharacteristicCodec } from '../codec.ts';
import { lifescanVerioNotification } from '../lifescan/verio.ts';
import { bloodPressureFeature } from './blood-pressure-feature.ts';
import { bloodPressureMeasurement } from './blood-pressure-measurement.ts';
import { bodyCompositionMeasurement } from './body-composition-measurement.ts';
import { cgmFeature } from './cgm-feature.ts';
import { cgmMeasurement } from './cgm-measurement.ts';
import { cgmSessionRunTime } from './cgm-session-run-time.ts';
import { cgmSessionStartTime } from './cgm-session-start-time.ts';
import { cgmSpecificOps } from './cgm-specific-ops.ts';
import { cgmStatus } from './cgm-status.ts';
import { currentTime } from './current-time.ts';
import { dateTime } from './date-time.ts';
import { glucoseContext } from './glucose-context.ts';
import { glucoseFeature } from './glucose-feature.ts';
import { glucoseMeasurement } from './glucose-measurement.ts';
import { intermediateCuffPressure } from './intermediate-cuff-pressure.ts';
import { localTimeInformation } from './local-time-information.ts';
import { plxContinuous } from './plx-continuous.ts';
import { plxFeatures } from './plx-features.ts';
import { plxSpotCheck } from './plx-spot-check.ts';
import { racp } from './racp.ts';
import { systemId } from './system-id.ts';
import { temperatureMeasurement } from './temperature-measurement.ts';
import { udiForMedicalDevices } from './udi.ts';
import { userControlPoint } from './user-control-point.ts';
import { weightMeasurement } from './weight-measurement.ts';
import { weightScaleFeature } from './weight-scale-feature.ts';

// biome-ignore lint/suspicious/noExplicitAny: codecs have their own field types; the registry is heterogeneous.
export const CODECS: readonly CharacteristicCodec<any>[] = [
  weightMeasurement,
  weightScaleFeature,
  bodyCompositionMeasurement,
  bloodPressureMeasurement,
  intermediateCuffPressure,
  bloodPressureFeature,
  temperatureMeasurement,
  plxSpotCheck,
  plxContinuous,
  plxFeatures,
  userControlPoint,
  glucoseMeasurement,
  glucoseContext,
  glucoseFeature,
  racp,
  cgmMeasurement,
  cgmFeature,
  cgmStatus,
  cgmSessionStartTime,
  cgmSessionRunTime,
  cgmSpecificOps,
  currentTime,
  dateTime,
  localTimeInformation,
  systemId,
  udiForMedicalDevices,
  // Not a GATT-standard characteristic: LifeScan's own notification (128-bit UUID), drivers/lifescan/.
  lifescanVerioNotification,
];
