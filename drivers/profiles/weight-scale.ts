/** Weight Scale Service 0x181D (WSS v1.0): stabilized weights pushed as indications. */
import type { Measurement } from '../types.ts';
import { ch, type DeviceProfile, type RecordDrop } from './types.ts';

/**
 * WSS v1.0 §3.1, Weight Measurement, Weight field: 0xFFFF is "Measurement Unsuccessful" (the scale
 * found no stable weight); it is not a reading of the person, so it is counted and logged, never forwarded.
 */
export function unsuccessfulWeighing(m: Measurement): RecordDrop | undefined {
  const unsuccessful =
    m.source === '2A9D' &&
    m.components.some((c) => c.name === 'weight' && 'absent' in c.value && c.value.raw === 0xffff);
  return unsuccessful
    ? {
        code: 'MEDGW_ERR_BLE_WEIGHT_UNSUCCESSFUL',
        message:
          'the scale reported an unsuccessful weighing (weight 0xFFFF): no reading to forward; weigh again',
      }
    : undefined;
}

export const weightScaleProfile: DeviceProfile = {
  id: 'weight-scale',
  name: 'Weight Scale',
  service: '181D',
  spec: 'WSS v1.0 §3 (Weight Measurement Indicate, Weight Scale Feature Read)',
  notify: [],
  indicate: [ch('2A9D', 'weight-measurement')],
  readOnce: [ch('2A9E', 'weight-scale-feature')],
  write: [],
  collect: 'push',
  steps: [
    'enable indications on 0x2A9D',
    'read Weight Scale Feature 0x2A9E (resolution = the precision the scale displays)',
    'receive queued and new weights; on a multi-user scale, the user index maps the reading to a household member',
    'a weight of 0xFFFF ("Measurement Unsuccessful") is counted and logged, never forwarded',
  ],
  filterRecord: unsuccessfulWeighing,
};
