/**
 * Readings the device pushes after the connection (BLS, WSS, HTS: queued indications, then the new
 * one): the collection ends once the device has been quiet for the quiet period and what it sent is
 * committed. A device that lingers afterwards keeps delivering live readings through the same path.
 */
import type { CollectorContext } from './types.ts';

export async function collectPushed(ctx: CollectorContext): Promise<void> {
  await ctx.quiet();
}
