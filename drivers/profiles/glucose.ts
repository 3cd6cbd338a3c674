/** Glucose Service 0x1808 / Glucose Profile (GLS v1.0.1, GLP v1.0.1): records pulled through the RACP. */
import { ch, type DeviceProfile } from './types.ts';

export const glucoseProfile: DeviceProfile = {
  id: 'glucose',
  name: 'Glucose',
  service: '1808',
  spec: 'GLS v1.0.1 §3 (service characteristics), GLP v1.0.1 §4 (collector role)',
  // GLS: Glucose Measurement and Context are Notify; RACP is Write + Indicate.
  notify: [ch('2A18', 'glucose-measurement'), ch('2A34', 'glucose-measurement-context', false)],
  indicate: [ch('2A52', 'record-access-control-point')],
  readOnce: [ch('2A51', 'glucose-feature')],
  write: [ch('2A52', 'record-access-control-point')],
  collect: 'racp',
  steps: [
    'bond (the meter may ask for a passkey shown on its display)',
    'enable notifications on 0x2A18 and 0x2A34, indications on 0x2A52',
    'read Glucose Feature 0x2A51',
    'write RACP "report stored records, greater than or equal to" the stored cursor + 1 (or "all" the first time)',
    'merge each 0x2A34 context with the 0x2A18 of the same sequence number; commit, then advance the cursor',
    'the RACP response "success" or "no records found" ends the transfer',
  ],
};
