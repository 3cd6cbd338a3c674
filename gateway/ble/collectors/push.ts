/**
 * Readings the device pushes after the connection (BLS, WSS, HTS: queued indications, then the new
 * one): the collection ends once the device has been quiet for the quiet period and what it sent is
 * committed. A device that lingers afterwards keeps delivering live readings through the same path.
 * Many cuffs, scales and thermometers end the connection themselves once they have pushed their
 * readings: a link that ends after the device sent something is the normal end of the collection
 * (every indication received was committed; the device keeps the ones it could not send).
 */
import { isMedgwError } from '../../../kernel/errors.ts';
import type { CollectorContext } from './types.ts';

export async function collectPushed(ctx: CollectorContext): Promise<void> {
  try {
    await ctx.quiet();
  } catch (e) {
    const ended = isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_LINK_LOST' && !ctx.link.connected;
    if (!ended || ctx.records.received === 0) throw e;
    await ctx.records.drain();
    ctx.log.info(
      { committed: ctx.records.counters.committed },
      'the device ended the connection after pushing its readings',
    );
  }
}
