/** Readings in every outbox state, so the pages have something to show in every section. */
import type { Observation } from '../../drivers/types.ts';
import type { Journal } from '../../gateway/contracts.ts';

export function weight(kg: number, at = new Date()): Observation {
  return {
    kind: 'body-weight',
    loinc: '29463-7',
    mdc: '188736',
    value: kg,
    decimals: 1,
    unit: 'kg',
    time: { utc: at.toISOString(), quality: 'synced' },
  };
}

export function seedReadings(journal: Journal, deviceId: string, patientId: string): void {
  journal.append([
    {
      id: 'r-quarantined',
      deviceId,
      observation: weight(81.2),
      state: 'quarantined',
      reason: {
        code: 'MEDGW_ERR_HOUSEHOLD_USER',
        message: 'household user 3 of this device is not mapped to a patient',
      },
    },
    {
      id: 'r-held',
      deviceId,
      patientId,
      observation: weight(70.1),
      state: 'held',
      reason: { code: 'MEDGW_ERR_MES_CONSENT', message: 'Consent not given, access refused.' },
    },
    { id: 'r-delivered', deviceId, patientId, observation: weight(70.4), state: 'pending' },
    { id: 'r-refused', deviceId, patientId, observation: weight(70.6), state: 'pending' },
  ]);
  journal.transition('r-delivered', 'pending', 'in-flight');
  journal.transition('r-delivered', 'in-flight', 'delivered', { remoteId: 'obs-1' });
  journal.transition('r-refused', 'pending', 'dead-letter', {
    reason: { code: 'MEDGW_ERR_MES_REJECTED', message: 'Observation value quantity not provided.' },
  });
}
