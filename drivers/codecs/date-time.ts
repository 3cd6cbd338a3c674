/**
 * Date Time 0x2A08 (GSS "Date Time"): Year uint16 (1582-9999, 0 = unknown), Month (1-12, 0 = unknown),
 * Day (1-31, 0 = unknown), Hours, Minutes, Seconds. No time zone. Exactly 7 bytes.
 */
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime } from '../types.ts';

export function decodeDateTime(bytes: Uint8Array): DeviceDateTime {
  const r = new ByteReader(bytes, 'Date Time');
  const dt = r.dateTime('dateTime');
  r.end();
  return dt;
}

export const dateTime: CharacteristicCodec<DeviceDateTime> = {
  uuid: '2A08',
  name: 'date-time',
  spec: 'GSS Date Time (0x2A08)',
  decode: decodeDateTime,
};
