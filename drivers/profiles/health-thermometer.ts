/** Health Thermometer Service 0x1809 (HTS v1.0): stored temperatures pushed as indications. */
import { ch, type DeviceProfile } from './types.ts';

export const healthThermometerProfile: DeviceProfile = {
  id: 'health-thermometer',
  name: 'Health Thermometer',
  service: '1809',
  spec: 'HTS v1.0 §3 (Temperature Measurement Indicate, Intermediate Temperature Notify)',
  notify: [ch('2A1E', 'intermediate-temperature', false)],
  indicate: [ch('2A1C', 'temperature-measurement')],
  readOnce: [ch('2A1D', 'temperature-type', false)],
  write: [],
  collect: 'push',
  steps: [
    'enable indications on 0x2A1C',
    'receive queued and new temperatures; intermediate values are never forwarded',
  ],
};
