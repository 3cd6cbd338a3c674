/** User Data Service 0x181C (UDS v1.0): consent per connection on multi-user scales and cuffs. */

import { MedgwError } from '../../kernel/errors.ts';
import {
  encodeConsent,
  encodeRegisterNewUser,
  MAX_CONSENT_CODE,
  type UserControlPointFields,
  userControlPoint,
} from '../codecs/user-control-point.ts';
import type { DeviceLink } from '../definitions/link.ts';
import { ch, type DeviceProfile } from './types.ts';

const SERVICE = '181C';
const USER_CONTROL_POINT = '2A9F';

/** A household member registered on the device: UDS user index and the consent code it was registered with. */
export interface UdsUser {
  readonly index: number;
  readonly consentCode: number;
}

/** What the consent procedure needs from the gateway: the link and where registered users are kept. */
export interface UdsConsentIo {
  readonly link: DeviceLink;
  /** Users registered on this device earlier (consent codes unsealed). */
  users(): readonly UdsUser[];
  /** Keeps a user the procedure just registered (its consent code sealed) and gives it to the device owner. */
  registered(user: UdsUser): Promise<void>;
  /** A number in [0, 1): draws the consent code. */
  random(): number;
}

async function controlPoint(
  link: DeviceLink,
  request: Uint8Array,
  what: string,
): Promise<UserControlPointFields> {
  const answer = await link.request(SERVICE, USER_CONTROL_POINT, request, `User Control Point ${what}`);
  return userControlPoint.decode(answer);
}

/**
 * UDS v1.0 §3.3 (User Control Point procedures): the first time, Register New User with a fresh consent
 * code (0..MAX_CONSENT_CODE) — the answer names the user index; then, on every connection, Consent
 * (user index, consent code) user by user, and collect what that user's consent releases before the
 * next one. A refusal is MEDGW_ERR_BLE_UDS_CONSENT ("user not authorized": the stored code is stale).
 * Returns the index registered on this connection, if any. Without a User Control Point, nothing to do.
 */
export async function consentUsers(io: UdsConsentIo): Promise<number | undefined> {
  const { link } = io;
  if (!link.has(SERVICE, USER_CONTROL_POINT)) return undefined;
  let users = io.users();
  let registered: number | undefined;
  if (users.length === 0) {
    const consentCode = Math.floor(io.random() * (MAX_CONSENT_CODE + 1));
    const answer = await controlPoint(link, encodeRegisterNewUser(consentCode), 'Register New User');
    if (answer.responseValue !== 'success' || answer.userIndex === undefined) {
      throw new MedgwError(
        'MEDGW_ERR_BLE_UDS_CONSENT',
        `the scale refused to register a user (${answer.responseValue})`,
      );
    }
    registered = answer.userIndex;
    await io.registered({ index: answer.userIndex, consentCode });
    users = io.users();
  }
  for (const user of users) {
    const answer = await controlPoint(link, encodeConsent(user.index, user.consentCode), 'Consent');
    if (answer.responseValue !== 'success') {
      throw new MedgwError(
        'MEDGW_ERR_BLE_UDS_CONSENT',
        `the scale refused the consent of user ${user.index} (${answer.responseValue})`,
      );
    }
    await link.quiet();
  }
  return registered;
}

export const userDataProfile: DeviceProfile = {
  id: 'user-data',
  name: 'User Data',
  service: SERVICE,
  spec: 'UDS v1.0 §3.3 (User Control Point: Register New User, Consent; Write + Indicate)',
  notify: [ch('2A99', 'database-change-increment', false)],
  indicate: [ch(USER_CONTROL_POINT, 'user-control-point')],
  readOnce: [ch('2A9A', 'user-index', false)],
  write: [ch(USER_CONTROL_POINT, 'user-control-point')],
  collect: 'companion',
  steps: [
    'enable indications on the User Control Point 0x2A9F',
    'first time: Register New User with a consent code (0-9999) kept in the registry; the answer gives the user index',
    'every connection: Consent(user index, consent code) before user-specific readings are attributed',
    'an answer "user not authorized" means the consent code is stale: re-register with the person on the scale',
  ],
};
