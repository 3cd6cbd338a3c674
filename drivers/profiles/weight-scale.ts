/** Weight Scale Service 0x181D (WSS v1.0): stabilized weights pushed as indications. */
import { ch, type DeviceProfile } from './types.ts';

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
  ],
};
