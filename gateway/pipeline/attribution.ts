/**
 * Attribution: which patient a reading belongs to. A multi-user device (household scale or cuff) maps
 * its user index to a patient through the device's `users` map; a single-user device belongs to its
 * owner. Nothing is guessed: an unknown, unmapped or missing user on a shared device goes to quarantine
 * for a person to confirm (the original device time is kept), a device with no patient at all too.
 */

import type { Quarantine } from '../../drivers/types.ts';
import type { DeviceRecord } from '../contracts.ts';

/** User index meaning "unknown user" (UDS User Index 0xFF; BLS/WSS User ID field). */
export const UNKNOWN_USER = 0xff;

export type Attribution =
  | { readonly patientId: string; readonly via: 'owner' | 'household-user' }
  | { readonly patientId?: undefined; readonly quarantine: Quarantine };

export function attribute(device: DeviceRecord, userIndex: number | undefined): Attribution {
  const users = device.users ?? {};
  const shared = Object.keys(users).length > 0;
  if (userIndex === UNKNOWN_USER) {
    return {
      quarantine: {
        code: 'MEDGW_ERR_HOUSEHOLD_USER',
        reason: 'the device reported an unknown user (0xFF); confirm who took this reading',
      },
    };
  }
  if (shared) {
    if (userIndex !== undefined) {
      const patientId = users[String(userIndex)];
      if (patientId) return { patientId, via: 'household-user' };
      return {
        quarantine: {
          code: 'MEDGW_ERR_HOUSEHOLD_USER',
          reason: `household user ${userIndex} of this device is not mapped to a patient`,
        },
      };
    }
    if (device.patientId) return { patientId: device.patientId, via: 'owner' };
    return {
      quarantine: {
        code: 'MEDGW_ERR_HOUSEHOLD_USER',
        reason: 'the device is shared by several household users and the reading names none',
      },
    };
  }
  if (device.patientId) return { patientId: device.patientId, via: 'owner' };
  return {
    quarantine: {
      code: 'MEDGW_ERR_DEVICE_UNASSIGNED',
      reason: 'the device is not assigned to a patient',
    },
  };
}
