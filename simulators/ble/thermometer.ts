/**
 * A simulated health thermometer: Health Thermometer Service 0x1809 (HTS 1.0) with the Temperature
 * Measurement indication (IEEE 11073 FLOAT), Temperature Type, Device Information and Current Time.
 */
import type { DeviceDateTime } from '../../drivers/types.ts';
import { ByteWriter, type SimNumber } from './encode.ts';
import { PendingQueue, type PeripheralOptions, SimPeripheral, type SimService } from './peripheral.ts';

export const HTS = { service: '1809', measurement: '2a1c', type: '2a1d' } as const;

export type TemperatureUnit = 'Cel' | '[degF]';

export interface TemperatureRecord {
  unit: TemperatureUnit;
  value: SimNumber;
  time?: DeviceDateTime;
  /** Temperature Type 0x2A1D: 1 armpit, 2 body, 3 ear, 4 finger, 5 GI tract, 6 mouth, 7 rectum, 8 toe, 9 tympanum. */
  type?: number;
}

/** Temperature Measurement 0x2A1C (HTS 1.0 §3.1; org.bluetooth.characteristic.temperature_measurement). */
export function encodeTemperature(r: TemperatureRecord): Buffer {
  const flags = (r.unit === '[degF]' ? 0x01 : 0) | (r.time ? 0x02 : 0) | (r.type !== undefined ? 0x04 : 0);
  const w = new ByteWriter().u8(flags).float(r.value);
  if (r.time) w.dateTime(r.time);
  if (r.type !== undefined) w.u8(r.type);
  return w.toBuffer();
}

export interface ThermometerOptions extends PeripheralOptions {
  unit?: TemperatureUnit;
  /** Site reported in every measurement (default 9, tympanum). */
  type?: number;
}

export class SimThermometer extends SimPeripheral {
  unit: TemperatureUnit;
  private readonly type: number;
  private readonly stored: PendingQueue<TemperatureRecord>;

  constructor(options: ThermometerOptions) {
    super(options, {
      localName: 'Sim Thermo FT-95',
      primaryService: HTS.service,
      info: { manufacturer: 'Medgw Sim', model: 'FT-95', serial: 'TH-000001', firmware: '0.9.4' },
    });
    this.unit = options.unit ?? 'Cel';
    this.type = options.type ?? 9;
    this.stored = new PendingQueue((r) =>
      this.notify(HTS.service, HTS.measurement, this.faultFrame(encodeTemperature(r), 0x80)),
    );
  }

  get pending(): readonly TemperatureRecord[] {
    return this.stored.pending;
  }

  switchUnit(unit: TemperatureUnit): void {
    this.unit = unit;
  }

  /** Takes a temperature: `celsius` (converted on a °F thermometer) or a raw `value` in the device unit. */
  measure(reading: { celsius?: number; value?: SimNumber }): TemperatureRecord {
    const c = reading.celsius ?? 37;
    const value: SimNumber =
      reading.value ??
      (this.unit === '[degF]'
        ? { mantissa: Math.round(((c * 9) / 5) * 10 + 320), exponent: -1 }
        : { mantissa: Math.round(c * 100), exponent: -2 });
    const record: TemperatureRecord = { unit: this.unit, value, time: this.deviceNow(), type: this.type };
    encodeTemperature(record); // refuses a value the thermometer could not send, before storing it
    this.stored.add(record);
    if (this.connected) void this.pushThenMaybeDisconnect(() => this.stored.flush());
    else this.advertise();
    return record;
  }

  protected override onCccd(service: string, characteristic: string, value: number): void {
    if (service === HTS.service && characteristic === HTS.measurement && (value & 0x0002) !== 0) {
      void this.pushThenMaybeDisconnect(() => this.stored.flush(undefined, this.faults.resendOld ?? 0));
    }
  }

  protected buildServices(): SimService[] {
    return [
      {
        uuid: HTS.service,
        characteristics: [
          { uuid: HTS.measurement, properties: ['indicate'] },
          { uuid: HTS.type, properties: ['read'], read: () => Buffer.from([this.type]) },
        ],
      },
      this.deviceInformationService(),
      this.currentTimeService(),
    ];
  }
}
