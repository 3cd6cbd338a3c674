/**
 * A simulated glucose meter: Glucose Service 0x1808 (GLS 1.0.1) with a record store, context records
 * and a Record Access Control Point, plus Device Information and Current Time.
 *
 * Record transfer follows GLS 1.0.1 §3.4 / GLP 1.0.1 §4.9: one 0x2A18 notification per record, its
 * 0x2A34 notification right after when flag bit 4 is set, then the RACP indication `06 00 01 01`.
 */

import type { DeviceDateTime } from '../../drivers/types.ts';
import { ByteWriter, fromDeviceDateTime, type SimNumber } from './encode.ts';
import { ATT, AttError, type PeripheralOptions, SimPeripheral, type SimService } from './peripheral.ts';
import { answerSelection, RACP, type RacpFilter, selectRecords } from './racp-select.ts';

export const GLS = {
  service: '1808',
  measurement: '2a18',
  context: '2a34',
  feature: '2a51',
  racp: '2a52',
} as const;

/** RACP op codes, operators and response values (GLS 1.0.1 §3.6): defined beside the record selection. */
export { RACP } from './racp-select.ts';

export type GlucoseUnit = 'kg/L' | 'mol/L';

export interface GlucoseContext {
  carbohydrate?: { id: number; grams: SimNumber };
  /** 1 preprandial, 2 postprandial, 3 fasting, 4 casual, 5 bedtime. */
  meal?: number;
  tester?: number;
  health?: number;
  exercise?: { seconds: number; intensityPercent: number };
  medication?: { id: number; amount: SimNumber; unit: 'kg' | 'L' };
  hba1c?: SimNumber;
}

export interface GlucoseRecord {
  sequence: number;
  baseTime: DeviceDateTime;
  timeOffsetMinutes?: number;
  /** Concentration in the record's unit (kg/L or mol/L); absent: the record carries no concentration. */
  concentration?: SimNumber;
  unit: GlucoseUnit;
  /** Type, low nibble (1 capillary whole blood … 10 control solution). */
  type: number;
  /** Sample location, high nibble (1 finger … 15 not available). */
  location: number;
  sensorStatus?: number;
  context?: GlucoseContext;
}

/** 95 mg/dL as the meter sends it: 95e-5 kg/L. */
export function mgdl(value: number): SimNumber {
  return { mantissa: Math.round(value), exponent: -5 };
}

/** 5.3 mmol/L as the meter sends it: 53e-4 mol/L. */
export function mmolL(value: number): SimNumber {
  return { mantissa: Math.round(value * 10), exponent: -4 };
}

/** Glucose Measurement 0x2A18 (GLS 1.0.1 §3.2; org.bluetooth.characteristic.glucose_measurement). */
export function encodeGlucoseMeasurement(r: GlucoseRecord): Buffer {
  let flags = 0;
  if (r.timeOffsetMinutes !== undefined) flags |= 0x01;
  if (r.concentration !== undefined) flags |= 0x02;
  if (r.unit === 'mol/L') flags |= 0x04;
  if (r.sensorStatus !== undefined) flags |= 0x08;
  if (r.context !== undefined) flags |= 0x10;
  const w = new ByteWriter().u8(flags).u16(r.sequence).dateTime(r.baseTime);
  if (r.timeOffsetMinutes !== undefined) w.s16(r.timeOffsetMinutes);
  if (r.concentration !== undefined)
    w.sfloat(r.concentration).u8(((r.location & 0x0f) << 4) | (r.type & 0x0f));
  if (r.sensorStatus !== undefined) w.u16(r.sensorStatus);
  return w.toBuffer();
}

/** Glucose Measurement Context 0x2A34 (GLS 1.0.1 §3.3; org.bluetooth.characteristic.glucose_measurement_context). */
export function encodeGlucoseContext(sequence: number, c: GlucoseContext): Buffer {
  let flags = 0;
  if (c.carbohydrate) flags |= 0x01;
  if (c.meal !== undefined) flags |= 0x02;
  if (c.tester !== undefined || c.health !== undefined) flags |= 0x04;
  if (c.exercise) flags |= 0x08;
  if (c.medication) flags |= 0x10 | (c.medication.unit === 'L' ? 0x20 : 0);
  if (c.hba1c !== undefined) flags |= 0x40;
  const w = new ByteWriter().u8(flags).u16(sequence);
  if (c.carbohydrate) w.u8(c.carbohydrate.id).sfloat(gramsToKg(c.carbohydrate.grams));
  if (c.meal !== undefined) w.u8(c.meal);
  if (c.tester !== undefined || c.health !== undefined)
    w.u8((((c.health ?? 15) & 0x0f) << 4) | ((c.tester ?? 15) & 0x0f));
  if (c.exercise) w.u16(c.exercise.seconds).u8(c.exercise.intensityPercent);
  if (c.medication) w.u8(c.medication.id).sfloat(c.medication.amount);
  if (c.hba1c !== undefined) w.sfloat(c.hba1c);
  return w.toBuffer();
}

/** Carbohydrate is sent in kg: grams given as a plain number become mantissa × 10^-3. */
function gramsToKg(g: SimNumber): SimNumber {
  if (typeof g === 'number') return { mantissa: Math.round(g), exponent: -3 };
  if ('special' in g) return g;
  return { mantissa: g.mantissa, exponent: g.exponent - 3 };
}

export interface GlucometerOptions extends PeripheralOptions {
  records?: Array<Omit<GlucoseRecord, 'sequence' | 'unit' | 'type' | 'location'> & Partial<GlucoseRecord>>;
  /** Unit of new readings: kg/L (mg/dL meters) or mol/L (mmol/L meters, the "unit switch"). */
  unit?: GlucoseUnit;
  /** Glucose Feature 0x2A51 bits (default: low battery, malfunction, sample size, strip errors, time fault, multiple bond). */
  features?: number;
  /** First sequence number given to a new record when the store is empty. */
  firstSequence?: number;
}

interface Transfer {
  aborted: boolean;
}

export class SimGlucometer extends SimPeripheral {
  private readonly store: GlucoseRecord[] = [];
  private nextSequence: number;
  unit: GlucoseUnit;
  private readonly features: number;
  private transfer: Transfer | undefined;
  /** Sequence numbers delivered so far (for the "re-sent old records" fault). */
  private readonly delivered = new Set<number>();

  constructor(options: GlucometerOptions) {
    super(options, {
      localName: 'meter+ 4000',
      primaryService: GLS.service,
      info: { manufacturer: 'Medgw Sim', model: 'GLU-4000', serial: 'G4K-000001', firmware: '1.0.7' },
    });
    this.unit = options.unit ?? 'kg/L';
    this.features = options.features ?? 0b0_0101_0011_1111;
    this.nextSequence = options.firstSequence ?? 1;
    for (const r of options.records ?? []) {
      const sequence = r.sequence ?? this.nextSequence;
      const record: GlucoseRecord = { type: 1, location: 1, unit: this.unit, ...r, sequence };
      validate(record);
      this.store.push(record);
      this.nextSequence = Math.max(this.nextSequence, sequence + 1);
    }
  }

  /** The stored records, oldest first (a copy). */
  records(): GlucoseRecord[] {
    return this.store.map((r) => ({ ...r }));
  }

  /** Switches the unit of new readings (mg/dL ↔ mmol/L meter setting). */
  switchUnit(unit: GlucoseUnit): void {
    this.unit = unit;
  }

  /**
   * The meter takes a reading now (device clock). Give `mgdl` (or `mmol` on a mol/L meter), or a raw
   * `concentration`. Notified at once when a central has enabled 0x2A18 notifications, like GLS meters.
   */
  measure(reading: {
    mgdl?: number;
    mmol?: number;
    concentration?: SimNumber;
    context?: GlucoseContext;
    timeOffsetMinutes?: number;
    sensorStatus?: number;
    type?: number;
    location?: number;
  }): GlucoseRecord {
    const concentration =
      reading.concentration ??
      (this.unit === 'mol/L'
        ? mmolL(reading.mmol ?? (reading.mgdl ?? 0) / 18.0156)
        : mgdl(reading.mgdl ?? (reading.mmol ?? 0) * 18.0156));
    const record: GlucoseRecord = {
      sequence: this.nextSequence++ & 0xffff,
      baseTime: this.deviceNow(),
      concentration,
      unit: this.unit,
      type: reading.type ?? 1,
      location: reading.location ?? 1,
      ...(reading.timeOffsetMinutes !== undefined ? { timeOffsetMinutes: reading.timeOffsetMinutes } : {}),
      ...(reading.sensorStatus !== undefined ? { sensorStatus: reading.sensorStatus } : {}),
      ...(reading.context ? { context: reading.context } : {}),
    };
    validate(record);
    this.store.push(record);
    if (!this.transfer && this.delivering(GLS.service, GLS.measurement)) void this.sendRecord(record);
    else this.advertise();
    return record;
  }

  protected buildServices(): SimService[] {
    return [
      {
        uuid: GLS.service,
        characteristics: [
          { uuid: GLS.measurement, properties: ['notify'] },
          { uuid: GLS.context, properties: ['notify'] },
          {
            uuid: GLS.feature,
            properties: ['read'],
            read: () => new ByteWriter().u16(this.features).toBuffer(),
          },
          { uuid: GLS.racp, properties: ['write', 'indicate'], write: (data) => this.racpWrite(data) },
        ],
      },
      this.deviceInformationService(),
      this.currentTimeService(),
    ];
  }

  protected override onDisconnect(): void {
    if (this.transfer) this.transfer.aborted = true;
    this.transfer = undefined;
  }

  // ------------------------------------------------------------------ RACP
  private racpWrite(data: Buffer): void {
    // GLS 1.0.1 §3.6.3: RACP writes need the RACP indications enabled (ATT 0xFD otherwise).
    if ((this.cccd(GLS.service, GLS.racp) & 0x0002) === 0) {
      throw new AttError(ATT.CCCD_IMPROPER, 'enable RACP indications before writing a request');
    }
    const op = data[0];
    const operator = data[1];
    if (op === undefined || operator === undefined)
      throw new AttError(ATT.INVALID_LENGTH, 'RACP request needs op code and operator');
    if (op === RACP.ABORT) {
      if (this.transfer) this.transfer.aborted = true;
      this.transfer = undefined;
      const code = operator === RACP.OP_NULL && data.length === 2 ? RACP.SUCCESS : RACP.INVALID_OPERATOR;
      void this.respond(op, code);
      return;
    }
    if (this.transfer)
      throw new AttError(ATT.PROCEDURE_IN_PROGRESS, 'a RACP procedure is already in progress');
    if (op !== RACP.REPORT && op !== RACP.DELETE && op !== RACP.COUNT) {
      void this.respond(op, RACP.OPCODE_NOT_SUPPORTED);
      return;
    }
    answerSelection(op, this.select(operator, data.subarray(2)), this.store, {
      respond: (o, code) => void this.respond(o, code),
      count: (n) =>
        void this.sendRacp(new ByteWriter().u8(RACP.COUNT_RESPONSE).u8(RACP.OP_NULL).u16(n).toBuffer()),
      report: (records) => void this.report(records),
    });
  }

  /** Records matching an operator + operand, or a RACP response code when the request is malformed. */
  private select(operator: number, operand: Buffer): GlucoseRecord[] | number {
    const found = selectRecords(this.store, operator, operand, (type) => GLS_FILTERS[type]);
    return operator === RACP.OP_GE && typeof found !== 'number' ? this.withResent(found) : found;
  }

  /** Fault "re-sent old records": a "report ≥ N" also sends some records already delivered before N. */
  private withResent(found: GlucoseRecord[]): GlucoseRecord[] {
    const n = this.faults.resendOld ?? 0;
    if (n <= 0 || found.length === 0) return found;
    const first = found[0]!.sequence;
    const older = this.store.filter((r) => r.sequence < first && this.delivered.has(r.sequence)).slice(-n);
    return [...older, ...found];
  }

  private async report(records: GlucoseRecord[]): Promise<void> {
    const transfer: Transfer = { aborted: false };
    this.transfer = transfer;
    for (const r of records) {
      if (transfer.aborted) return;
      const ok = await this.sendRecord(r);
      if (!ok || transfer.aborted) {
        if (this.transfer === transfer) this.transfer = undefined;
        return;
      }
    }
    if (this.transfer === transfer) this.transfer = undefined;
    await this.respond(RACP.REPORT, RACP.SUCCESS);
  }

  private async sendRecord(r: GlucoseRecord): Promise<boolean> {
    const frame = this.faultFrame(encodeGlucoseMeasurement(r), 0x80);
    if (!(await this.notify(GLS.service, GLS.measurement, frame))) return false;
    this.delivered.add(r.sequence);
    if (
      r.context &&
      !(await this.notify(GLS.service, GLS.context, encodeGlucoseContext(r.sequence, r.context)))
    ) {
      // Context notifications not enabled: the measurement still counts as delivered.
      return this.connected;
    }
    return true;
  }

  private respond(requestOp: number, code: number): Promise<boolean> {
    return this.sendRacp(Buffer.from([RACP.RESPONSE, RACP.OP_NULL, requestOp, code]));
  }

  private sendRacp(data: Buffer): Promise<boolean> {
    return this.notify(GLS.service, GLS.racp, data);
  }
}

/** Encodes once so that a record the meter could not send is refused when it is created, not mid-transfer. */
function validate(r: GlucoseRecord): void {
  encodeGlucoseMeasurement(r);
  if (r.context) encodeGlucoseContext(r.sequence, r.context);
}

function dateKey(b: Buffer): number {
  return Date.UTC(b.readUInt16LE(0), b[2]! - 1, b[3]!, b[4]!, b[5]!, b[6]!);
}

function userFacingTime(r: GlucoseRecord): number {
  return fromDeviceDateTime(r.baseTime) + (r.timeOffsetMinutes ?? 0) * 60_000;
}

/** GLS RACP filter types: sequence number (uint16) and user-facing time (Date Time, 7 octets). */
const GLS_FILTERS: Readonly<Record<number, RacpFilter<GlucoseRecord>>> = {
  [RACP.FILTER_SEQUENCE]: {
    width: 2,
    bound: (operand, i) => operand.readUInt16LE(1 + i * 2),
    key: (r) => r.sequence,
  },
  [RACP.FILTER_USER_FACING_TIME]: {
    width: 7,
    bound: (operand, i) => dateKey(operand.subarray(1 + i * 7, 8 + i * 7)),
    key: (r) => userFacingTime(r),
  },
};
