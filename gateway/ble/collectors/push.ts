/**
 * Readings the device pushes after the connection (BLS, WSS, HTS: queued indications, then the new
 * one): the collection ends once the device has been quiet for the quiet period and what it sent is
 * committed. A device that lingers afterwards keeps delivering live readings through the same path.
 * Many cuffs, scales and thermometers end the connection themselves once they have pushed their
 * readings: a link that ends after the device sent something is the normal end of the collection
 * (every indication received was committed; the device keeps the ones it could not send).
 *
 * "Everything" for a pushing device (`pushedEverything`): at least one measurement received on this
 * link — the reading the gateway connected for. A pushing device says nothing about how many it holds,
 * so a link that ends after a measurement is a completed sync whichever step saw it end (over BlueZ the
 * subscription's reply, the reading and the disconnect can reach the gateway together: session.ts); a
 * link that ends before any measurement is a failure, retried.
 */
import { isMedgwError } from '../../../kernel/errors.ts';
import type { Records } from '../records.ts';
import type { CollectorContext } from './types.ts';

/** A pushing device's collection has everything once a measurement came on this link. */
export function pushedEverything(records: Records): boolean {
  return records.received > 0;
}

export async function collectPushed(ctx: CollectorContext): Promise<void> {
  try {
    await ctx.quiet();
  } catch (e) {
    const ended = isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_LINK_LOST' && !ctx.link.connected;
    if (!ended || !pushedEverything(ctx.records)) throw e;
    await ctx.records.drain();
    ctx.log.info(
      { committed: ctx.records.counters.committed },
      'the device ended the connection after pushing its readings',
    );
  }
}
