/**
 * Intermediate Cuff Pressure 0x2A36 (BLS v1.0, GSS "Intermediate Cuff Pressure"): the Blood Pressure
 * Measurement layout where the first SFLOAT is the current cuff pressure and "the Diastolic and Mean
 * Arterial Pressure fields are unused" (their 4 bytes are read and ignored). Live feedback only: never final.
 */
import type { CharacteristicCodec } from '../codec.ts';
import type { MedNumber } from '../types.ts';
import {
  BP_QUIRKS,
  type BpCommonFields,
  bpMeasurementBase,
  decodeBpLayout,
} from './blood-pressure-measurement.ts';

export interface IntermediateCuffPressureFields extends BpCommonFields {
  readonly currentCuffPressure: MedNumber;
}

export const intermediateCuffPressure: CharacteristicCodec<IntermediateCuffPressureFields> = {
  uuid: '2A36',
  name: 'intermediate-cuff-pressure',
  spec: 'BLS v1.0 / GSS Intermediate Cuff Pressure (0x2A36)',
  quirks: BP_QUIRKS,
  decode(bytes, quirks) {
    return decodeBpLayout('Intermediate Cuff Pressure', bytes, quirks, (r) => {
      const currentCuffPressure = r.sfloat('currentCuffPressure');
      r.u16('diastolic (unused)');
      r.u16('meanArterialPressure (unused)');
      return { currentCuffPressure };
    });
  },
  toMeasurements(f) {
    return [
      bpMeasurementBase(
        '2A36',
        f,
        [{ name: 'cuff-pressure', value: f.currentCuffPressure, unit: f.unit }],
        false,
      ),
    ];
  },
};
