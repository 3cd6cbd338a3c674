/**
 * PLX Continuous Measurement 0x2A5F (PLXS v1.0, GSS "PLX Continuous Measurement"): flags, SpO2PR-Normal
 * (SpO2 + PR SFLOAT), then SpO2PR-Fast, SpO2PR-Slow, Measurement Status (uint16), Device and Sensor
 * Status (uint24) and Pulse Amplitude Index (SFLOAT) as announced; flag bits 5–7 RFU.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import type { Measurement, MedNumber } from '../types.ts';
import { refuseReservedBits } from './bits.ts';
import {
  decodePlxDeviceAndSensorStatus,
  decodePlxMeasurementStatus,
  plxComponents,
  plxIsFinal,
  type SpO2PR,
} from './plx-status.ts';

export interface PlxContinuousFields {
  readonly flags: number;
  readonly spo2prNormal: SpO2PR;
  readonly spo2prFast?: SpO2PR;
  readonly spo2prSlow?: SpO2PR;
  readonly measurementStatus?: string[];
  readonly deviceAndSensorStatus?: string[];
  readonly pulseAmplitudeIndex?: MedNumber;
}

function pair(r: ByteReader, name: string): SpO2PR {
  return { spo2: r.sfloat(`${name}.spo2`), pulseRate: r.sfloat(`${name}.pulseRate`) };
}

export const plxContinuous: CharacteristicCodec<PlxContinuousFields> = {
  uuid: '2A5F',
  name: 'plx-continuous',
  spec: 'PLXS v1.0 / GSS PLX Continuous Measurement (0x2A5F)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'PLX Continuous Measurement';
    const r = new ByteReader(bytes, what);
    const flags = r.u8('flags');
    refuseReservedBits(what, 'flags', flags, 0xe0, quirks);
    const out: {
      flags: number;
      spo2prNormal: SpO2PR;
      spo2prFast?: SpO2PR;
      spo2prSlow?: SpO2PR;
      measurementStatus?: string[];
      deviceAndSensorStatus?: string[];
      pulseAmplitudeIndex?: MedNumber;
    } = { flags, spo2prNormal: pair(r, 'spo2prNormal') };
    if (flags & 0x01) out.spo2prFast = pair(r, 'spo2prFast');
    if (flags & 0x02) out.spo2prSlow = pair(r, 'spo2prSlow');
    if (flags & 0x04) {
      out.measurementStatus = decodePlxMeasurementStatus(
        what,
        'measurementStatus',
        r.u16('measurementStatus'),
        quirks,
      );
    }
    if (flags & 0x08) {
      out.deviceAndSensorStatus = decodePlxDeviceAndSensorStatus(
        what,
        'deviceAndSensorStatus',
        r.u24('deviceAndSensorStatus'),
        quirks,
      );
    }
    if (flags & 0x10) out.pulseAmplitudeIndex = r.sfloat('pulseAmplitudeIndex');
    r.end();
    return out;
  },
  /** One Measurement per SpO2PR set; only the Normal set can be final (Fast and Slow are averaging views). */
  toMeasurements(f) {
    const flags = [...(f.measurementStatus ?? []), ...(f.deviceAndSensorStatus ?? [])];
    const base = { kind: 'spo2' as const, source: '2A5F', ...(flags.length > 0 ? { flags } : {}) };
    const out: Measurement[] = [
      {
        ...base,
        components: plxComponents(f.spo2prNormal, f.pulseAmplitudeIndex),
        context: { averaging: 'normal' },
        final: plxIsFinal(f.measurementStatus),
      },
    ];
    if (f.spo2prFast) {
      out.push({
        ...base,
        components: plxComponents(f.spo2prFast),
        context: { averaging: 'fast' },
        final: false,
      });
    }
    if (f.spo2prSlow) {
      out.push({
        ...base,
        components: plxComponents(f.spo2prSlow),
        context: { averaging: 'slow' },
        final: false,
      });
    }
    return out;
  },
};
