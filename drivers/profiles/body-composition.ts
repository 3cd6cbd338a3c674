/**
 * Body Composition Service 0x181B (BCS v1.0): a body composition analyzer indicates each result on Body
 * Composition Measurement 0x2A9C (§3.2, Indicate) and describes itself in Body Composition Feature 0x2A9B
 * (§3.1, Read). BCS v1.0 §2: the analyzer also instantiates the Weight Scale Service, whose 0x2A9D
 * carries the weight; a scale with several users also has the User Data Service and gates both
 * measurements behind the user's consent. So this block is never a device's measurement profile on its
 * own: a definition lists it after `weightScaleProfile`, and its records (body fat, muscle, water,
 * impedance… drivers/codecs/body-composition-measurement.ts) stay local — Mon espace santé takes none.
 */
import { ch, type DeviceProfile } from './types.ts';

export const bodyCompositionProfile: DeviceProfile = {
  id: 'body-composition',
  name: 'Body Composition',
  service: '181B',
  spec: 'BCS v1.0 §3 (Body Composition Measurement Indicate, Body Composition Feature Read)',
  notify: [],
  indicate: [ch('2A9C', 'body-composition-measurement')],
  readOnce: [ch('2A9B', 'body-composition-feature')],
  write: [],
  collect: 'push',
  steps: [
    'enable indications on 0x2A9C beside the weight 0x2A9D',
    "receive each weighing's body composition after its weight, with the same user index and time stamp",
    'body fat, muscle, water, impedance and basal metabolism are kept as local readings, never forwarded',
  ],
};
