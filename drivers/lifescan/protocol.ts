/**
 * The OneTouch Verio collection as a record-counter protocol (drivers/definitions/record-counter.ts): the
 * meter clock read then set, the record counter and the number of records held, then one command per
 * record. Sources in verio.ts (Tidepool uploader oneTouchVerioBLE.js, BSD-2-Clause). Pure.
 */

import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { DeviceLink } from '../definitions/link.ts';
import type { Ask, RecordCounterProtocol, RecordRange } from '../definitions/record-counter.ts';
import { LINK_ACK } from './frame.ts';
import {
  dateTimeToMeterSeconds,
  decodeVerioRecord,
  meterSecondsToDateTime,
  readU16Answer,
  readU32Answer,
  VERIO,
  verioCommand,
} from './verio.ts';

async function open(ask: Ask, link: DeviceLink): Promise<RecordRange> {
  try {
    // The first command: a meter that is not bonded with us refuses it ("command not allowed").
    const seconds = readU32Answer(await ask(verioCommand.readTime(), 'read the meter clock'), 'meter clock');
    // The meter's sense of now beside the gateway's: it corrects the records taken with this clock.
    link.clockRead(meterSecondsToDateTime(seconds));
  } catch (e) {
    if (isMedgwError(e) && e.code === 'MEDGW_ERR_LIFESCAN_REFUSED') {
      throw new MedgwError(
        'MEDGW_ERR_BLE_NOT_BONDED',
        `${link.deviceId} refused to give its time (${e.message}): the meter answers only once paired with this gateway`,
      );
    }
    throw e;
  }
  // Tidepool sets the clock with `20 01` + seconds and waits for the meter's acknowledgement.
  const now = link.localTime();
  await ask(verioCommand.writeTime(dateTimeToMeterSeconds(now)), 'set the meter clock', {
    acknowledged: true,
  });
  link.clockSet(now);
  const last = readU32Answer(
    await ask(verioCommand.readRecordCounter(), 'read the record counter'),
    'counter',
  );
  const held = readU16Answer(await ask(verioCommand.readRecordCount(), 'read the record count'), 'count');
  return { first: last - held + 1, last };
}

export const verioRecordCounter: RecordCounterProtocol = {
  service: VERIO.service,
  command: VERIO.write,
  answer: VERIO.notify,
  isAcknowledgement: (bytes) => bytes.length === 1 && (bytes[0]! & LINK_ACK) === LINK_ACK,
  // Tidepool acknowledges every response that carries more than its status.
  afterAnswer: (bytes) => (bytes.length > 9 ? verioCommand.ack() : undefined),
  open,
  read: async (ask, index) =>
    decodeVerioRecord(await ask(verioCommand.readRecord(index), `read record ${index}`), index),
};
