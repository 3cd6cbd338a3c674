/** Device Information Service 0x180A (DIS v1.1): identity of the device, read once per connection. */
import { ch, type DeviceProfile } from './types.ts';

export const deviceInformationProfile: DeviceProfile = {
  id: 'device-information',
  name: 'Device Information',
  service: '180A',
  spec: 'DIS v1.1 §3 (all characteristics Read); UDI for Medical Devices from DIS v1.2',
  notify: [],
  indicate: [],
  readOnce: [
    ch('2A29', 'manufacturer-name', false),
    ch('2A24', 'model-number', false),
    ch('2A25', 'serial-number', false),
    ch('2A26', 'firmware-revision', false),
    ch('2A27', 'hardware-revision', false),
    ch('2A28', 'software-revision', false),
    ch('2A23', 'system-id', false),
    ch('2BFF', 'udi-for-medical-devices', false),
  ],
  write: [],
  collect: 'companion',
  steps: [
    'read manufacturer, model, serial number, firmware, hardware and software revisions, system id (as the EUI-64, OUI first; it keys the reading ids) and UDI',
  ],
};
