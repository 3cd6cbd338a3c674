/**
 * Continuous Glucose Monitoring Service 0x181F (CGMS v1.0.1, CGMP v1.0.1): records pulled through the RACP
 * with the Time Offset filter, live records notified at the communication interval.
 */

import { MedgwError } from '../../kernel/errors.ts';
import { decodeCgmFeature } from '../codecs/cgm-feature.ts';
import { cgmMeasurementToMeasurements, decodeCgmMeasurement } from '../codecs/cgm-measurement.ts';
import { decodeCgmSessionStartTime } from '../codecs/cgm-session-start-time.ts';
import { decodeCgmOps, encodeCgmOpsRequest } from '../codecs/cgm-specific-ops.ts';
import { decodeCgmStatus } from '../codecs/cgm-status.ts';
import type { DeviceLink } from '../definitions/link.ts';
import type { DeviceDateTime, Measurement } from '../types.ts';
import { ch, type DeviceProfile, type ProfileSession } from './types.ts';

const SERVICE = '181F';
const MEASUREMENT = '2AA7';

/**
 * CGMP v1.0.1 §4 (collector): read CGM Feature 0x2AA8 — it says whether every protected value carries an
 * E2E-CRC (bit 12) —, CGM Status 0x2AA9 (the current Time Offset), Session Start Time 0x2AAA (every
 * record's time is this start plus its Time Offset), and ask the Specific Ops Control Point 0x2AAC for
 * the communication interval (the request carries the E2E-CRC when the feature says so). Records are
 * then decoded with that CRC expectation — a wrong or missing CRC refuses the record with
 * MEDGW_ERR_CGM_CRC — and placed at session start + offset; the RACP cursor is the Time Offset, and a
 * stored cursor beyond the current offset means a new session (offsets restarted at 0).
 */
export async function startCgmCollection(link: DeviceLink): Promise<ProfileSession> {
  const featureBytes = await link.read(SERVICE, '2AA8');
  if (!featureBytes)
    throw new MedgwError('MEDGW_ERR_BLE_PROFILE', 'the CGM has no readable CGM Feature 0x2AA8');
  const e2eCrc = decodeCgmFeature(featureBytes).features.e2eCrcSupported;
  const statusBytes = await link.read(SERVICE, '2AA9');
  const status = statusBytes ? decodeCgmStatus(statusBytes, undefined, e2eCrc) : undefined;
  const startBytes = await link.read(SERVICE, '2AAA');
  const start = startBytes ? decodeCgmSessionStartTime(startBytes, e2eCrc) : undefined;
  // An unknown start (year 0, the sensor was never given a time) places no record.
  const sessionStart: DeviceDateTime | undefined =
    start && start.sessionStartTime.year !== 0 ? start.sessionStartTime : undefined;
  const facts: Record<string, string | number | boolean> = { e2eCrc };
  if (link.has(SERVICE, '2AAC')) {
    const answer = decodeCgmOps(
      await link.request(
        SERVICE,
        '2AAC',
        encodeCgmOpsRequest({ op: 'get-communication-interval' }, e2eCrc),
        'CGM Specific Ops Control Point: get communication interval',
      ),
      undefined,
      e2eCrc,
    );
    if (answer.communicationInterval !== undefined)
      facts['communicationIntervalMinutes'] = answer.communicationInterval;
  }
  if (status?.status.includes('cgmSessionStopped')) facts['sessionStopped'] = true;
  return {
    decode: (uuid, bytes, quirks) =>
      uuid === MEASUREMENT
        ? cgmMeasurementToMeasurements(decodeCgmMeasurement(bytes, { quirks, e2eCrc }), sessionStart)
        : [],
    cursorOf: (m: Measurement) => {
      const offset = m.context?.['timeOffset'];
      return typeof offset === 'number' ? offset : undefined;
    },
    ...(status ? { cursorLimit: status.timeOffset } : {}),
    facts,
  };
}

export const cgmProfile: DeviceProfile = {
  id: 'cgm',
  name: 'Continuous Glucose Monitoring',
  service: SERVICE,
  spec: 'CGMS v1.0.1 §3 (CGM Measurement Notify, RACP and Specific Ops Control Point Write + Indicate), CGMP v1.0.1 §4',
  notify: [ch(MEASUREMENT, 'cgm-measurement')],
  indicate: [ch('2A52', 'record-access-control-point'), ch('2AAC', 'cgm-specific-ops-control-point')],
  readOnce: [
    ch('2AA8', 'cgm-feature'),
    ch('2AA9', 'cgm-status'),
    ch('2AAA', 'cgm-session-start-time'),
    ch('2AAB', 'cgm-session-run-time'),
  ],
  write: [ch('2A52', 'record-access-control-point'), ch('2AAC', 'cgm-specific-ops-control-point')],
  collect: 'racp',
  steps: [
    'enable notifications on 0x2AA7, indications on 0x2A52 and 0x2AAC',
    'read CGM Feature 0x2AA8 (E2E-CRC supported?), CGM Status 0x2AA9 and Session Start Time 0x2AAA',
    'ask the Specific Ops Control Point 0x2AAC for the communication interval (with the E2E-CRC when supported)',
    'write RACP "report stored records, Time Offset greater than or equal to" the stored cursor + 1 (all the first time, or after a new session)',
    'each record: glucose in mg/dL at session start + Time Offset, its E2E-CRC checked; interstitial readings are held as spot values',
  ],
  beforeCollect: startCgmCollection,
};
