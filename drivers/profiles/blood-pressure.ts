/** Blood Pressure Service 0x1810 (BLS v1.1.1): stored readings pushed as indications after connection. */
import { ch, type DeviceProfile } from './types.ts';

export const bloodPressureProfile: DeviceProfile = {
  id: 'blood-pressure',
  name: 'Blood Pressure',
  service: '1810',
  spec: 'BLS v1.1.1 §3 (Blood Pressure Measurement Indicate, Intermediate Cuff Pressure Notify)',
  notify: [ch('2A36', 'intermediate-cuff-pressure', false)],
  indicate: [ch('2A35', 'blood-pressure-measurement')],
  readOnce: [ch('2A49', 'blood-pressure-feature')],
  write: [],
  collect: 'push',
  steps: [
    'enable indications on 0x2A35 and notifications on 0x2A36 (when present)',
    'read Blood Pressure Feature 0x2A49',
    'receive the queued stored readings as indications, then the new one; intermediate cuff pressure is shown, never forwarded',
  ],
};
