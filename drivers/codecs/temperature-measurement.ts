/**
 * Temperature Measurement 0x2A1C (HTS v1.0, GSS "Temperature Measurement"): flags, FLOAT temperature
 * in Celsius or Fahrenheit, then Time Stamp and Temperature Type (values of 0x2A1D) as announced.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { decodeFloat } from '../ieee11073.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime, MedNumber } from '../types.ts';
import { refuseReservedBits, reservedValue } from './bits.ts';

/** Temperature Type 0x2A1D values 1–9 (HTS v1.0); 0 and 10–255 are RFU. */
export const TEMPERATURE_TYPES = [
  'armpit',
  'body',
  'ear',
  'finger',
  'gastroIntestinalTract',
  'mouth',
  'rectum',
  'toe',
  'tympanum',
] as const;

export type TemperatureType = (typeof TEMPERATURE_TYPES)[number];

export interface TemperatureMeasurementFields {
  readonly flags: number;
  readonly temperature: MedNumber;
  readonly unit: 'Cel' | '[degF]';
  readonly timeStamp?: DeviceDateTime;
  readonly temperatureType?: TemperatureType;
}

/** Flag bits 3–7 are RFU (GSS 0x2A1C). */
const RESERVED_FLAGS = 0xf8;

export const temperatureMeasurement: CharacteristicCodec<TemperatureMeasurementFields> = {
  uuid: '2A1C',
  name: 'temperature-measurement',
  spec: 'HTS v1.0 / GSS Temperature Measurement (0x2A1C)',
  quirks: ['ignore-reserved-flags'],
  decode(bytes, quirks) {
    const what = 'Temperature Measurement';
    const r = new ByteReader(bytes, what);
    const flags = r.u8('flags');
    refuseReservedBits(what, 'flags', flags, RESERVED_FLAGS, quirks);
    const out: {
      flags: number;
      temperature: MedNumber;
      unit: 'Cel' | '[degF]';
      timeStamp?: DeviceDateTime;
      temperatureType?: TemperatureType;
    } = { flags, temperature: decodeFloat(r.u32('temperature')), unit: flags & 0x01 ? '[degF]' : 'Cel' };
    if (flags & 0x02) out.timeStamp = r.dateTime('timeStamp');
    if (flags & 0x04) {
      const code = r.u8('temperatureType');
      const type = TEMPERATURE_TYPES[code - 1];
      if (!type) throw reservedValue(what, 'temperatureType', code);
      out.temperatureType = type;
    }
    r.end();
    return out;
  },
  toMeasurements(f) {
    return [
      {
        kind: 'body-temperature',
        source: '2A1C',
        ...(f.timeStamp ? { deviceTime: f.timeStamp } : {}),
        components: [{ name: 'temperature', value: f.temperature, unit: f.unit }],
        ...(f.temperatureType ? { context: { bodySite: f.temperatureType } } : {}),
        final: true,
      },
    ];
  },
};
