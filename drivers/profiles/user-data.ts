/** User Data Service 0x181C (UDS v1.0): consent per connection on multi-user scales and cuffs. */
import { ch, type DeviceProfile } from './types.ts';

export const userDataProfile: DeviceProfile = {
  id: 'user-data',
  name: 'User Data',
  service: '181C',
  spec: 'UDS v1.0 §3.3 (User Control Point: Register New User, Consent; Write + Indicate)',
  notify: [ch('2A99', 'database-change-increment', false)],
  indicate: [ch('2A9F', 'user-control-point')],
  readOnce: [ch('2A9A', 'user-index', false)],
  write: [ch('2A9F', 'user-control-point')],
  collect: 'companion',
  steps: [
    'enable indications on the User Control Point 0x2A9F',
    'first time: Register New User with a consent code (0-9999) kept in the registry; the answer gives the user index',
    'every connection: Consent(user index, consent code) before user-specific readings are attributed',
    'an answer "user not authorized" means the consent code is stale: re-register with the person on the scale',
  ],
};
