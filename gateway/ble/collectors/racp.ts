/**
 * Stored records through the Record Access Control Point (GLP v1.0.1 §4.9 collector procedures, PLXP
 * for spot-checks): "report number of stored records" for the completeness ledger, then "report stored
 * records" after the journal's cursor ("all" on a pairing session: the meter may have been reset, and
 * re-sent records collapse on their ids). Records stream in as notifications while the request waits
 * for the RACP response, with an idle timeout rather than a total one; the response code ends the
 * transfer. The cursor advances only with committed records (records.ts).
 */
import { decodeRacp, encodeRacpRequest, racpReportAfter } from '../../../drivers/codecs/racp.ts';
import { MedgwError } from '../../../kernel/errors.ts';
import type { CollectorContext } from './types.ts';

const RACP = '2A52';

/** Collects stored records; returns the number of records the device said it holds, when it said. */
export async function collectStored(ctx: CollectorContext): Promise<number | undefined> {
  const service = ctx.definition.profiles[0]?.service ?? '';
  const { link, records } = ctx;
  if (!link.has(service, RACP)) {
    throw new MedgwError('MEDGW_ERR_BLE_PROFILE', `${ctx.deviceId} has no RACP 0x2A52`);
  }
  const reported = await countRecords(ctx, service);
  const stored = ctx.journal.cursor(ctx.deviceId);
  const limit = records.session?.cursorLimit;
  // A stored cursor beyond what the device can hold: it restarted its numbering (a new CGM session).
  const restarted = stored !== undefined && limit !== undefined && stored > limit;
  if (restarted)
    ctx.log.info(
      { cursor: stored, limit },
      'the device restarted its record numbering: fetching every record',
    );
  // A fresh pairing (the meter may have been reset) fetches everything: re-sent records collapse.
  const all = ctx.pairing || restarted;
  records.carriesCursor = true;
  records.cursor = all ? undefined : stored;
  const request = all
    ? encodeRacpRequest({ op: 'report-stored-records', operator: 'all-records' })
    : racpReportAfter(stored);
  // "Everything" for stored records: the final RACP response ("success" or "no records found"), which
  // ends the procedure (GLP v1.0.1 §4.9.1: the records are sent before it). It is seen the moment it
  // arrives, before a disconnect read together with it (a meter that hangs up right after, over BlueZ):
  // the transfer ends there, and a link that ends from then on ends a completed sync (session.ts).
  const answer = link.expect(RACP, (bytes) => {
    let final: ReturnType<typeof decodeRacp>;
    try {
      final = decodeRacp(bytes);
    } catch {
      return; // decoded again below, where the error is reported
    }
    if (final.opCode !== 'response-code') return;
    records.endTransfer();
    if (final.responseCodeValue === 'success' || final.responseCodeValue === 'no-records-found')
      ctx.complete();
  });
  await link.write(service, RACP, request);
  link.lastFrameAt = performance.now();
  const done = decodeRacp(await link.idle(answer, ctx.racpIdleTimeoutMs, 'the RACP transfer'));
  if (done.opCode !== 'response-code') return reported;
  const code = done.responseCodeValue;
  if (code !== 'success' && code !== 'no-records-found') {
    throw new MedgwError('MEDGW_ERR_BLE_RACP', `the meter answered the record request with "${code}"`);
  }
  return reported;
}

/** "Report number of stored records: all", for the completeness ledger; undefined if refused. */
async function countRecords(ctx: CollectorContext, service: string): Promise<number | undefined> {
  const request = encodeRacpRequest({ op: 'report-number-of-stored-records', operator: 'all-records' });
  const f = decodeRacp(await ctx.link.request(service, RACP, request, 'RACP count request'));
  return f.opCode === 'number-of-stored-records-response' ? f.numberOfStoredRecords : undefined;
}
