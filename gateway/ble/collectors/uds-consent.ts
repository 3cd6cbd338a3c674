/**
 * User Data Service consent (the procedure is device knowledge: drivers/profiles/user-data.ts): the
 * gateway's part is where registered users live — their consent codes sealed in the BLE store — and
 * giving the user the gateway registered to the device's owner.
 */
import { consentUsers } from '../../../drivers/profiles/user-data.ts';
import type { CollectorContext } from './types.ts';

export async function collectWithConsent(ctx: CollectorContext): Promise<void> {
  await consentUsers({
    link: ctx.link,
    users: () => ctx.store.udsUsers(ctx.deviceId),
    random: ctx.random,
    registered: async (user) => {
      await ctx.store.putUdsUser(ctx.deviceId, user);
      await mapOwner(ctx, user.index);
      ctx.log.info({ userIndex: user.index }, 'registered a User Data Service user on the scale');
    },
  });
}

/** The user the gateway registered belongs to the device's owner, when the device has one. */
async function mapOwner(ctx: CollectorContext, index: number): Promise<void> {
  const device = ctx.registry.getDevice(ctx.deviceId);
  if (!device?.patientId || device.users?.[String(index)]) return;
  await ctx.registry.putDevice({ ...device, users: { ...device.users, [String(index)]: device.patientId } });
}
