/**
 * Stored records read one by one by index through a vendor command protocol (drivers/definitions/
 * record-counter.ts; LifeScan OneTouch Verio: drivers/lifescan/protocol.ts). The protocol opens the
 * collection (clock, record counter, number held); the collector then asks for each index after the
 * journal's cursor, oldest first, and hands each reading, numbered with its index, to the records of the
 * connection: the cursor advances only with committed readings (records.ts), so a link lost in the middle
 * leaves the cursor at the last committed index and the next connection asks from there (exactly once;
 * a record asked twice collapses on its reading id anyway). A pairing session asks for every record held
 * (the meter may have been reset), and so does a cursor beyond the meter's counter (a new meter numbering
 * from the start).
 */
import type { Ask, RecordCounterProtocol } from '../../../drivers/definitions/record-counter.ts';
import { isMedgwError, MedgwError } from '../../../kernel/errors.ts';
import type { CollectorContext } from './types.ts';

/** Codes of an answer that could not be read (a corrupt or refused frame): asked once more, then the walk stops. */
const UNREADABLE = new Set([
  'MEDGW_ERR_LIFESCAN_CRC',
  'MEDGW_ERR_LIFESCAN_FRAME',
  'MEDGW_ERR_LIFESCAN_REFUSED',
  'MEDGW_ERR_FRAME_TRUNCATED',
  'MEDGW_ERR_FRAME_TOO_LONG',
]);

/** Collects the records after the cursor; returns the number of records the device said it holds. */
export async function collectByCounter(
  ctx: CollectorContext,
  protocol: RecordCounterProtocol,
): Promise<number> {
  const { link, records } = ctx;
  if (!link.has(protocol.service, protocol.command) || !link.has(protocol.service, protocol.answer)) {
    throw new MedgwError(
      'MEDGW_ERR_BLE_PROFILE',
      `${ctx.deviceId} lacks the command or answer characteristic of service ${protocol.service}`,
    );
  }
  // An answer in hand stands even when the link is gone by the time the step that asked for it ends: the
  // command's write reply, the answer and the disconnect can reach the gateway together (over BlueZ), and
  // an acknowledgement the meter can no longer receive changes nothing the gateway holds.
  const inHand = async (write: Promise<void>, held: () => Buffer | undefined): Promise<void> => {
    try {
      await write;
    } catch (e) {
      const gone = isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_LINK_LOST' && !link.connected;
      if (!gone || !held()) throw e;
    }
  };
  const ask: Ask = async (command, what, options = {}) => {
    let got: Buffer | undefined;
    const next = () => {
      got = undefined;
      return link.expect(protocol.answer, (bytes) => {
        got = bytes;
      });
    };
    let answer = next();
    await inHand(link.write(protocol.service, protocol.command, command), () => got);
    for (;;) {
      const bytes = got ?? (await link.step(() => answer, `${what}: answer`, undefined, false));
      if (protocol.isAcknowledgement(bytes)) {
        if (options.acknowledged) return bytes;
        answer = next();
        continue;
      }
      const after = protocol.afterAnswer?.(bytes);
      if (after) await inHand(link.write(protocol.service, protocol.command, after), () => bytes);
      return bytes;
    }
  };

  const range = await protocol.open(ask, link);
  const held = Math.max(0, range.last - range.first + 1);
  const stored = ctx.journal.cursor(ctx.deviceId);
  const restarted = stored !== undefined && stored > range.last;
  if (restarted)
    ctx.log.info(
      { cursor: stored, last: range.last },
      'the meter numbers its records below the stored index: reading every record it holds',
    );
  const all = ctx.pairing || restarted || stored === undefined;
  records.carriesCursor = true;
  records.cursor = all ? undefined : stored;
  const from = all ? range.first : Math.max(range.first, stored + 1);
  for (let index = from; index <= range.last; index++) {
    const m = await readRecord(ctx, protocol, ask, index);
    if (m) records.take([m]);
    else ctx.log.debug({ index }, 'the meter holds no valid reading at this index');
  }
  records.endTransfer();
  // "Everything" for a record counter: every index up to the meter's last one read (the counter reached).
  ctx.complete();
  await records.drain();
  return held;
}

async function readRecord(
  ctx: CollectorContext,
  protocol: RecordCounterProtocol,
  ask: Ask,
  index: number,
): ReturnType<RecordCounterProtocol['read']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await protocol.read(ask, index);
    } catch (e) {
      if (!(isMedgwError(e) && UNREADABLE.has(e.code))) throw e;
      // Counted and reported with its code; never skipped: the cursor must not pass a record not read.
      ctx.records.refuse(protocol.answer, e);
      if (attempt >= 2) {
        await ctx.records.drain();
        throw e;
      }
    }
  }
}
