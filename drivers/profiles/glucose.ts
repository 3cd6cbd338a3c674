/** Glucose Service 0x1808 / Glucose Profile (GLS v1.0.1, GLP v1.0.1): records pulled through the RACP. */

import { MedgwError } from '../../kernel/errors.ts';
import { decodeGlucoseContext, mergeGlucoseContext } from '../codecs/glucose-context.ts';
import type { Measurement } from '../types.ts';
import { ch, type DeviceProfile, type RecordAssembler } from './types.ts';

const GLUCOSE = '2A18';
const CONTEXT = '2A34';

/**
 * GLS v1.0.1 §3.1.1 / §3.2: a Glucose Measurement whose flags say "Context Information Follows" is
 * followed by the Glucose Measurement Context carrying the same sequence number. The record waits for
 * it; the next measurement or the end of the transfer completes it without; a context of another
 * sequence number belongs to no record and is refused (MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH). A record
 * still waiting when the link drops is incomplete: dropped, so the cursor does not cover it.
 */
export function glucoseContextAssembler(): RecordAssembler {
  let pending: Measurement | undefined;
  const flush = (): Measurement[] => {
    const out = pending ? [pending] : [];
    pending = undefined;
    return out;
  };
  return {
    companions: [CONTEXT],
    record(m) {
      const ready = flush();
      if (m.source === GLUCOSE && m.context?.['contextFollows'] === true) pending = m;
      else ready.push(m);
      return ready;
    },
    companion(_uuid, bytes, quirks) {
      const context = decodeGlucoseContext(bytes, quirks);
      if (pending && pending.sequence === context.sequenceNumber) {
        const merged = mergeGlucoseContext(pending, context);
        pending = undefined;
        return { ready: [merged] };
      }
      return {
        ready: flush(),
        refused: new MedgwError(
          'MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH',
          `Glucose Measurement Context #${context.sequenceNumber} follows no measurement of that sequence number`,
        ),
      };
    },
    end: flush,
    abandon() {
      pending = undefined;
    },
  };
}

export const glucoseProfile: DeviceProfile = {
  id: 'glucose',
  name: 'Glucose',
  service: '1808',
  spec: 'GLS v1.0.1 §3 (service characteristics), GLP v1.0.1 §4 (collector role)',
  // GLS: Glucose Measurement and Context are Notify; RACP is Write + Indicate.
  notify: [ch('2A18', 'glucose-measurement'), ch('2A34', 'glucose-measurement-context', false)],
  indicate: [ch('2A52', 'record-access-control-point')],
  readOnce: [ch('2A51', 'glucose-feature')],
  write: [ch('2A52', 'record-access-control-point')],
  collect: 'racp',
  steps: [
    'bond (the meter may ask for a passkey shown on its display)',
    'enable notifications on 0x2A18 and 0x2A34, indications on 0x2A52',
    'read Glucose Feature 0x2A51',
    'write RACP "report stored records, greater than or equal to" the stored cursor + 1 (or "all" the first time)',
    'merge each 0x2A34 context with the 0x2A18 of the same sequence number; commit, then advance the cursor',
    'the RACP response "success" or "no records found" ends the transfer',
  ],
  assembler: glucoseContextAssembler,
};
