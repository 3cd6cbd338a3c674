/**
 * A simulated pulse oximeter: Pulse Oximeter Service 0x1822 (PLXS 1.0.1) with spot-check indications,
 * continuous notifications, PLX Features and Device Information. Like many fingertip oximeters it has
 * no Current Time Service; a device clock that was never set is flagged in the spot-check (flag bit 4).
 */
import type { DeviceDateTime } from '../../drivers/types.ts';
import { ByteWriter, type SimNumber } from './encode.ts';
import { PendingQueue, type PeripheralOptions, SimPeripheral, type SimService } from './peripheral.ts';

export const PLX = { service: '1822', spotCheck: '2a5e', continuous: '2a5f', features: '2a60' } as const;

export interface SpotCheckRecord {
  spo2: SimNumber;
  pulse: SimNumber;
  time?: DeviceDateTime;
  measurementStatus?: number;
  deviceStatus?: number;
  pulseAmplitudeIndex?: SimNumber;
  clockNotSet?: boolean;
}

/** PLX Spot-Check Measurement 0x2A5E (PLXS 1.0.1 §3.1; org.bluetooth.characteristic.plx_spot_check_measurement). */
export function encodeSpotCheck(r: SpotCheckRecord): Buffer {
  const flags =
    (r.time ? 0x01 : 0) |
    (r.measurementStatus !== undefined ? 0x02 : 0) |
    (r.deviceStatus !== undefined ? 0x04 : 0) |
    (r.pulseAmplitudeIndex !== undefined ? 0x08 : 0) |
    (r.clockNotSet ? 0x10 : 0);
  const w = new ByteWriter().u8(flags).sfloat(r.spo2).sfloat(r.pulse);
  if (r.time) w.dateTime(r.time);
  if (r.measurementStatus !== undefined) w.u16(r.measurementStatus);
  if (r.deviceStatus !== undefined) w.u24(r.deviceStatus);
  if (r.pulseAmplitudeIndex !== undefined) w.sfloat(r.pulseAmplitudeIndex);
  return w.toBuffer();
}

export interface ContinuousRecord {
  spo2: SimNumber;
  pulse: SimNumber;
  fast?: { spo2: SimNumber; pulse: SimNumber };
  slow?: { spo2: SimNumber; pulse: SimNumber };
  measurementStatus?: number;
  deviceStatus?: number;
  pulseAmplitudeIndex?: SimNumber;
}

/** PLX Continuous Measurement 0x2A5F (PLXS 1.0.1 §3.2; org.bluetooth.characteristic.plx_continuous_measurement). */
export function encodeContinuous(r: ContinuousRecord): Buffer {
  const flags =
    (r.fast ? 0x01 : 0) |
    (r.slow ? 0x02 : 0) |
    (r.measurementStatus !== undefined ? 0x04 : 0) |
    (r.deviceStatus !== undefined ? 0x08 : 0) |
    (r.pulseAmplitudeIndex !== undefined ? 0x10 : 0);
  const w = new ByteWriter().u8(flags).sfloat(r.spo2).sfloat(r.pulse);
  if (r.fast) w.sfloat(r.fast.spo2).sfloat(r.fast.pulse);
  if (r.slow) w.sfloat(r.slow.spo2).sfloat(r.slow.pulse);
  if (r.measurementStatus !== undefined) w.u16(r.measurementStatus);
  if (r.deviceStatus !== undefined) w.u24(r.deviceStatus);
  if (r.pulseAmplitudeIndex !== undefined) w.sfloat(r.pulseAmplitudeIndex);
  return w.toBuffer();
}

export interface OximeterOptions extends PeripheralOptions {
  /** PLX Features supported-features bits (default: measurement status, device status, timestamp, PAI). */
  features?: number;
}

export class SimOximeter extends SimPeripheral {
  private readonly features: number;
  private readonly stored: PendingQueue<SpotCheckRecord>;

  constructor(options: OximeterOptions) {
    super(options, {
      localName: 'Sim PO-60',
      primaryService: PLX.service,
      info: { manufacturer: 'Medgw Sim', model: 'PO-60', serial: 'OX-000001', firmware: '3.1.0' },
    });
    this.features = options.features ?? 0x0001 | 0x0002 | 0x0008 | 0x0040;
    this.stored = new PendingQueue((r) =>
      this.notify(PLX.service, PLX.spotCheck, this.faultFrame(encodeSpotCheck(r), 0x80)),
    );
  }

  get pending(): readonly SpotCheckRecord[] {
    return this.stored.pending;
  }

  /** A spot-check: indicated at once when a central listens, otherwise kept until indications are enabled. */
  measure(reading: {
    spo2: SimNumber;
    pulse: SimNumber;
    pulseAmplitudeIndex?: SimNumber;
    measurementStatus?: number;
  }): SpotCheckRecord {
    const clockNotSet = this.deviceNow().year < 2000;
    const record: SpotCheckRecord = {
      spo2: reading.spo2,
      pulse: reading.pulse,
      time: this.deviceNow(),
      ...(reading.measurementStatus !== undefined ? { measurementStatus: reading.measurementStatus } : {}),
      ...(reading.pulseAmplitudeIndex !== undefined
        ? { pulseAmplitudeIndex: reading.pulseAmplitudeIndex }
        : {}),
      ...(clockNotSet ? { clockNotSet } : {}),
    };
    encodeSpotCheck(record); // refuses a value the oximeter could not send, before storing it
    this.stored.add(record);
    if (this.connected) void this.stored.flush();
    else this.advertise();
    return record;
  }

  /** One continuous sample, notified when a central listens (continuous data is never stored). */
  sample(r: ContinuousRecord): Promise<boolean> {
    return this.notify(PLX.service, PLX.continuous, this.faultFrame(encodeContinuous(r), 0x80));
  }

  protected override onCccd(service: string, characteristic: string, value: number): void {
    if (service === PLX.service && characteristic === PLX.spotCheck && (value & 0x0002) !== 0) {
      void this.stored.flush(undefined, this.faults.resendOld ?? 0);
    }
  }

  protected buildServices(): SimService[] {
    return [
      {
        uuid: PLX.service,
        characteristics: [
          { uuid: PLX.spotCheck, properties: ['indicate'] },
          { uuid: PLX.continuous, properties: ['notify'] },
          {
            uuid: PLX.features,
            properties: ['read'],
            read: () => {
              const w = new ByteWriter().u16(this.features);
              if (this.features & 0x01) w.u16(0xffe0); // measurement status bits 5-15 supported
              if (this.features & 0x02) w.u24(0x00ffff); // device and sensor status bits 0-15 supported
              return w.toBuffer();
            },
          },
        ],
      },
      this.deviceInformationService(),
    ];
  }
}
