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

/** A blood-pressure panel in mm[Hg] (UCUM), systolic and diastolic with one decimal. */
export function pressure(systolic: number, diastolic: number, at = new Date()): Observation {
  const time = { utc: at.toISOString(), quality: 'synced' as const };
  const part = (kind: Observation['kind'], loinc: string, mdc: string, value: number): Observation => ({
    kind,
    loinc,
    mdc,
    value,
    decimals: 1,
    unit: 'mm[Hg]',
    time,
  });
  return {
    kind: 'blood-pressure',
    loinc: '85354-9',
    mdc: '150020',
    components: [
      part('systolic', '8480-6', '150021', systolic),
      part('diastolic', '8462-4', '150022', diastolic),
    ],
    time,
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
