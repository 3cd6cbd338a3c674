/** Pulse Oximeter Service 0x1822 (PLXS v1.0): spot-checks pulled through the RACP, continuous values live. */
import { ch, type DeviceProfile } from './types.ts';

export const pulseOximeterProfile: DeviceProfile = {
  id: 'pulse-oximeter',
  name: 'Pulse Oximeter',
  service: '1822',
  spec: 'PLXS v1.0 §3 (Spot-check Indicate, Continuous Notify, RACP Write + Indicate when storage is supported)',
  notify: [ch('2A5F', 'plx-continuous-measurement', false)],
  indicate: [
    ch('2A5E', 'plx-spot-check-measurement', false),
    ch('2A52', 'record-access-control-point', false),
  ],
  readOnce: [ch('2A60', 'plx-features')],
  write: [ch('2A52', 'record-access-control-point', false)],
  collect: 'racp',
  steps: [
    'read PLX Features 0x2A60 (spot-check storage, timestamp, measurement status support)',
    'enable indications on 0x2A5E and 0x2A52, notifications on 0x2A5F',
    'when storage is supported, fetch stored spot-checks through the RACP after the stored cursor',
    'continuous values are live: only those flagged final/validated are kept',
  ],
};
