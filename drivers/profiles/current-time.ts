/** Current Time Service 0x1805 (CTS v1.1): read the device clock beside the gateway's, set it when writable. */
import { ch, type DeviceProfile } from './types.ts';

export const currentTimeProfile: DeviceProfile = {
  id: 'current-time',
  name: 'Current Time',
  service: '1805',
  spec: 'CTS v1.1 §3.1 (Current Time 0x2A2B: Read + Notify, Write optional)',
  notify: [],
  indicate: [],
  readOnce: [ch('2A2B', 'current-time'), ch('2A0F', 'local-time-information', false)],
  write: [ch('2A2B', 'current-time', false)],
  collect: 'companion',
  steps: [
    'read Current Time 0x2A2B and the gateway clock together: the coincident timestamp that corrects readings',
    'when the characteristic is writable, write the gateway local time (adjust reason: external reference)',
  ],
};
