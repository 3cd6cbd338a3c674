/**
 * A simulated blood-pressure monitor: Blood Pressure Service 0x1810 (BLS 1.0 / 1.1.1) with
 * Intermediate Cuff Pressure notifications while measuring, the final Blood Pressure Measurement
 * indication, stored readings pushed once indications are enabled, Device Information and Current Time.
 */
import type { DeviceDateTime } from '../../drivers/types.ts';
import { ByteWriter, type SimNumber, sfloatRaw } from './encode.ts';
import { PendingQueue, type PeripheralOptions, SimPeripheral, type SimService } from './peripheral.ts';

export const BLS = { service: '1810', measurement: '2a35', intermediate: '2a36', feature: '2a49' } as const;

export type PressureUnit = 'mmHg' | 'kPa';

export interface BloodPressureRecord {
  unit: PressureUnit;
  systolic: SimNumber;
  diastolic: SimNumber;
  meanArterial: SimNumber;
  time?: DeviceDateTime;
  pulse?: SimNumber;
  userId?: number;
  /** Measurement Status bits (body movement, cuff fit, irregular pulse, pulse range, position). */
  status?: number;
}

export interface BpmQuirks {
  /**
   * Beurer BM85 as captured in public tests (blood-pressure-monitor-fl ble_measurement_data_test.dart):
   * RFU flag bit 6 set, a User ID byte without flag bit 3, pulse and measurement status big-endian.
   */
  beurerBm85?: boolean;
}

/** Blood Pressure Measurement 0x2A35 and Intermediate Cuff Pressure 0x2A36 (BLS 1.1.1 §3.1-3.2, same layout). */
export function encodeBloodPressure(r: BloodPressureRecord, quirks: BpmQuirks = {}): Buffer {
  const bm85 = quirks.beurerBm85 === true;
  let flags = r.unit === 'kPa' ? 0x01 : 0;
  if (r.time) flags |= 0x02;
  if (r.pulse !== undefined) flags |= 0x04;
  if (r.userId !== undefined && !bm85) flags |= 0x08;
  if (r.status !== undefined) flags |= 0x10;
  if (bm85) flags |= 0x40;
  const w = new ByteWriter().u8(flags).sfloat(r.systolic).sfloat(r.diastolic).sfloat(r.meanArterial);
  if (r.time) w.dateTime(r.time);
  if (r.pulse !== undefined) {
    if (bm85) w.u16be(sfloatRaw(r.pulse));
    else w.sfloat(r.pulse);
  }
  if (r.userId !== undefined || bm85) w.u8(r.userId ?? 1);
  if (r.status !== undefined) {
    if (bm85) w.u16be(r.status);
    else w.u16(r.status);
  }
  return w.toBuffer();
}

const NAN: SimNumber = { special: 'nan' };

/** mmHg → kPa with one decimal, as kPa cuffs display (1 mmHg = 0.133322 kPa). */
export function mmHgToKpa(mmHg: number): SimNumber {
  return { mantissa: Math.round(mmHg * 1.33322387), exponent: -1 };
}

export interface CuffOptions extends PeripheralOptions {
  unit?: PressureUnit;
  quirks?: BpmQuirks;
  /** Stored readings waiting to be pushed at the next connection. */
  stored?: BloodPressureRecord[];
  /** Blood Pressure Feature 0x2A49 bits (default: movement, cuff fit, irregular pulse, pulse range, position). */
  features?: number;
}

export class SimCuff extends SimPeripheral {
  unit: PressureUnit;
  private readonly quirks: BpmQuirks;
  private readonly features: number;
  private readonly stored: PendingQueue<BloodPressureRecord>;

  constructor(options: CuffOptions) {
    super(options, {
      localName: 'Sim BPM 85',
      primaryService: BLS.service,
      info: { manufacturer: 'Medgw Sim', model: 'BPM-85', serial: 'BP-000001', firmware: '1.4.2' },
    });
    this.unit = options.unit ?? 'mmHg';
    this.quirks = options.quirks ?? {};
    this.features = options.features ?? 0x001f;
    this.stored = new PendingQueue((r) => this.notify(BLS.service, BLS.measurement, this.frame(r)));
    for (const r of options.stored ?? []) {
      encodeBloodPressure(r, this.quirks);
      this.stored.add(r);
    }
  }

  get pending(): readonly BloodPressureRecord[] {
    return this.stored.pending;
  }

  switchUnit(unit: PressureUnit): void {
    this.unit = unit;
  }

  private frame(r: BloodPressureRecord): Buffer {
    return this.faultFrame(encodeBloodPressure(r, this.quirks), 0x80);
  }

  private pressure(v: number | SimNumber): SimNumber {
    return typeof v === 'number' && this.unit === 'kPa' ? mmHgToKpa(v) : v;
  }

  /**
   * The cuff measures: intermediate cuff pressures are notified while it inflates and deflates (when a
   * central listens), then the final reading is indicated, or stored until the next connection.
   * Plain numbers are mmHg (converted on a kPa cuff).
   */
  async measure(reading: {
    systolic: number | SimNumber;
    diastolic: number | SimNumber;
    meanArterial?: number | SimNumber;
    pulse?: number | SimNumber;
    userId?: number;
    status?: number;
  }): Promise<BloodPressureRecord> {
    const sys = reading.systolic;
    const dia = reading.diastolic;
    const userId = this.faults.householdUser ?? reading.userId;
    const record: BloodPressureRecord = {
      unit: this.unit,
      systolic: this.pressure(sys),
      diastolic: this.pressure(dia),
      meanArterial:
        reading.meanArterial !== undefined
          ? this.pressure(reading.meanArterial)
          : typeof sys === 'number' && typeof dia === 'number'
            ? this.pressure(Math.round(dia + (sys - dia) / 3))
            : NAN,
      time: this.deviceNow(),
      ...(reading.pulse !== undefined ? { pulse: reading.pulse } : {}),
      ...(userId !== undefined ? { userId } : {}),
      ...(reading.status !== undefined ? { status: reading.status } : {}),
    };
    if (this.connected) {
      const top = typeof sys === 'number' ? sys + 30 : 180;
      for (const cuff of [20, 60, 100, 140, top, top - 20, top - 40]) {
        // BLS 1.1.1 §3.2: ICP carries the cuff pressure in the systolic field; the others are unused (NaN here).
        const icp = encodeBloodPressure({
          unit: this.unit,
          systolic: this.pressure(Math.max(0, cuff)),
          diastolic: NAN,
          meanArterial: NAN,
        });
        await this.notify(BLS.service, BLS.intermediate, icp);
      }
    }
    encodeBloodPressure(record, this.quirks); // refuses a reading the cuff could not send, before storing it
    this.stored.add(record);
    if (this.connected) await this.pushThenMaybeDisconnect(() => this.stored.flush());
    else this.advertise();
    return record;
  }

  protected override onCccd(service: string, characteristic: string, value: number): void {
    if (service === BLS.service && characteristic === BLS.measurement && (value & 0x0002) !== 0) {
      void this.pushThenMaybeDisconnect(() =>
        this.stored.flush(this.sendingNow(), this.faults.resendOld ?? 0),
      );
    }
  }

  /**
   * Which stored readings the cuff sends once indications are enabled (default: every one). A model that
   * sends only its latest reading after a measurement narrows it.
   */
  protected sendingNow(): ((r: BloodPressureRecord) => boolean) | undefined {
    return undefined;
  }

  protected buildServices(): SimService[] {
    return [
      {
        uuid: BLS.service,
        characteristics: [
          { uuid: BLS.measurement, properties: ['indicate'] },
          { uuid: BLS.intermediate, properties: ['notify'] },
          {
            uuid: BLS.feature,
            properties: ['read'],
            read: () => new ByteWriter().u16(this.features).toBuffer(),
          },
        ],
      },
      this.deviceInformationService(),
      this.currentTimeService(),
    ];
  }
}
