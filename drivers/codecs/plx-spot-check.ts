/**
 * PLX Spot-Check Measurement 0x2A5E (PLXS v1.0, GSS "PLX Spot-Check Measurement"): flags, SpO2 and
 * PR (SFLOAT), then Timestamp, Measurement Status (uint16), Device and Sensor Status (uint24) and Pulse
 * Amplitude Index (SFLOAT) as announced; flag bit 4 = Device Clock is Not Set; bits 5–7 RFU.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, MedNumber } from '../types.ts';
import { refuseReservedBits } from './bits.ts';
import {
  decodePlxDeviceAndSensorStatus,
  decodePlxMeasurementStatus,
  plxComponents,
  plxIsFinal,
} from './plx-status.ts';

export interface PlxSpotCheckFields {
  readonly flags: number;
  readonly spo2: MedNumber;
  readonly pulseRate: MedNumber;
  readonly timeStamp?: DeviceDateTime;
  readonly measurementStatus?: string[];
  readonly deviceAndSensorStatus?: string[];
  readonly pulseAmplitudeIndex?: MedNumber;
  readonly deviceClockNotSet: boolean;
}

export const plxSpotCheck: CharacteristicCodec<PlxSpotCheckFields> = {
  uuid: '2A5E',
  name: 'plx-spot-check',
  spec: 'PLXS v1.0 / GSS PLX Spot-Check Measurement (0x2A5E)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'PLX Spot-Check Measurement';
    const r = new ByteReader(bytes, what);
    const flags = r.u8('flags');
    refuseReservedBits(what, 'flags', flags, 0xe0, quirks);
    const out: {
      flags: number;
      spo2: MedNumber;
      pulseRate: MedNumber;
      timeStamp?: DeviceDateTime;
      measurementStatus?: string[];
      deviceAndSensorStatus?: string[];
      pulseAmplitudeIndex?: MedNumber;
      deviceClockNotSet: boolean;
    } = {
      flags,
      spo2: r.sfloat('spo2'),
      pulseRate: r.sfloat('pulseRate'),
      deviceClockNotSet: (flags & 0x10) !== 0,
    };
    if (flags & 0x01) out.timeStamp = r.dateTime('timeStamp');
    if (flags & 0x02) {
      out.measurementStatus = decodePlxMeasurementStatus(
        what,
        'measurementStatus',
        r.u16('measurementStatus'),
        quirks,
      );
    }
    if (flags & 0x04) {
      out.deviceAndSensorStatus = decodePlxDeviceAndSensorStatus(
        what,
        'deviceAndSensorStatus',
        r.u24('deviceAndSensorStatus'),
        quirks,
      );
    }
    if (flags & 0x08) out.pulseAmplitudeIndex = r.sfloat('pulseAmplitudeIndex');
    r.end();
    return out;
  },
  toMeasurements(f) {
    const flags = [
      ...(f.measurementStatus ?? []),
      ...(f.deviceAndSensorStatus ?? []),
      ...(f.deviceClockNotSet ? ['deviceClockNotSet'] : []),
    ];
    return [
      {
        kind: 'spo2',
        source: '2A5E',
        ...(f.timeStamp ? { deviceTime: f.timeStamp } : {}),
        components: plxComponents(f, f.pulseAmplitudeIndex),
        ...(flags.length > 0 ? { flags } : {}),
        final: plxIsFinal(f.measurementStatus),
      },
    ];
  },
};
