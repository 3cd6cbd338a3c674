/**
 * LifeScan's proprietary OneTouch service (af9df7a1-e595-11e3-96b4-0002a5d5c51b) as a profile block:
 * notifications on af9df7a3-…, commands written to af9df7a2-…, records read one by one by index
 * (Tidepool uploader lib/drivers/onetouch/oneTouchVerioBLE.js, BSD-2-Clause, commit
 * 01858093192408ce3499763af07aa5a40452acb0).
 */
import { ch, type DeviceProfile } from '../profiles/types.ts';
import { VERIO } from './verio.ts';

export const lifescanOneTouchProfile: DeviceProfile = {
  id: 'lifescan-onetouch',
  name: 'LifeScan OneTouch',
  service: VERIO.service,
  spec: 'LifeScan proprietary service as Tidepool uploader oneTouchVerioBLE.js documents it (BSD-2-Clause)',
  notify: [ch(VERIO.notify, 'lifescan-notification')],
  indicate: [],
  readOnce: [],
  write: [ch(VERIO.write, 'lifescan-command')],
  collect: 'counter',
  // Answers reach the collector (gateway/ble/collectors/record-counter.ts), which numbers each record with
  // the index it asked for; a stray answer carries no index, so it is never a record by itself.
  beforeCollect: async () => ({ decode: () => [] }),
  steps: [
    'read the meter clock (20 02), then set it to the local time (20 01)',
    'read the record counter (0A 02 06) and the number of records held (27 00)',
    'read each record after the stored index (B3 + index), oldest first; acknowledge each answer (81)',
  ],
};
