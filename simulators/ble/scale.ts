/**
 * A simulated multi-user weight scale: Weight Scale Service 0x181D (WSS 1.0.1) and User Data Service
 * 0x181C (UDS 1.0) with its User Control Point, plus Device Information and Current Time.
 *
 * Only the final, stabilized weight of a weighing is indicated; weights taken while no central listens
 * are stored per user and indicated after the user's consent on the next connection.
 */

import type { DeviceDateTime } from '../../drivers/types.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { BCS, type BodyCompositionRecord, encodeBodyComposition } from './body-composition.ts';
import { ByteWriter } from './encode.ts';
import {
  ATT,
  AttError,
  PendingQueue,
  type PeripheralOptions,
  SimPeripheral,
  type SimService,
} from './peripheral.ts';

export const WSS = { service: '181d', feature: '2a9e', measurement: '2a9d' } as const;
export const UDS = {
  service: '181c',
  controlPoint: '2a9f',
  userIndex: '2a9a',
  changeIncrement: '2a99',
} as const;

/** UDS User Control Point op codes and response values (org.bluetooth.characteristic.user_control_point). */
export const UCP = {
  REGISTER: 0x01,
  CONSENT: 0x02,
  DELETE_USER_DATA: 0x03,
  RESPONSE: 0x20,
  SUCCESS: 0x01,
  OPCODE_NOT_SUPPORTED: 0x02,
  INVALID_PARAMETER: 0x03,
  OPERATION_FAILED: 0x04,
  NOT_AUTHORIZED: 0x05,
} as const;

export const UNKNOWN_USER = 0xff;

export type WeightUnits = 'SI' | 'imperial';

export interface ScaleUser {
  index: number;
  consentCode: number;
  /** Height in metres, used for BMI. */
  heightM?: number;
}

export interface WeightRecord {
  /** Raw weight: units of 0.005 kg (SI) or 0.01 lb (imperial), WSS 1.0.1 §3.2.1. */
  weightRaw: number;
  units: WeightUnits;
  time?: DeviceDateTime;
  userIndex?: number;
  /** BMI in 0.1 kg/m² and height in 0.001 m (SI) or 0.1 in (imperial). */
  bmiRaw?: number;
  heightRaw?: number;
  /**
   * The body composition of the same weighing, indicated on 0x2A9C right after the weight by a scale that
   * has the Body Composition Service (BCS v1.0 §2) and a central that enabled it.
   */
  composition?: BodyCompositionRecord;
}

/** Weight Measurement 0x2A9D (WSS 1.0.1 §3.2; org.bluetooth.characteristic.weight_measurement). */
export function encodeWeightMeasurement(r: WeightRecord): Buffer {
  const bmi = r.bmiRaw !== undefined && r.heightRaw !== undefined;
  const flags =
    (r.units === 'imperial' ? 0x01 : 0) |
    (r.time ? 0x02 : 0) |
    (r.userIndex !== undefined ? 0x04 : 0) |
    (bmi ? 0x08 : 0);
  const w = new ByteWriter().u8(flags).u16(r.weightRaw);
  if (r.time) w.dateTime(r.time);
  if (r.userIndex !== undefined) w.u8(r.userIndex);
  if (bmi) w.u16(r.bmiRaw!).u16(r.heightRaw!);
  return w.toBuffer();
}

export interface ScaleOptions extends PeripheralOptions {
  users?: ScaleUser[];
  units?: WeightUnits;
  /** Maximum number of users the scale can register (default 4). */
  maxUsers?: number;
}

export class SimScale extends SimPeripheral {
  readonly users: ScaleUser[];
  units: WeightUnits;
  private readonly maxUsers: number;
  /** The user who gave a valid consent on the current connection. */
  private consented: number | undefined;
  private readonly stored: PendingQueue<WeightRecord>;
  private readonly changeIncrement = new Map<number, number>();

  constructor(options: ScaleOptions) {
    super(options, {
      localName: 'Sim Scale BF-70',
      primaryService: WSS.service,
      info: { manufacturer: 'Medgw Sim', model: 'BF-70', serial: 'WS-000001', firmware: '2.3.0' },
    });
    this.users = (options.users ?? []).map((u) => ({ ...u }));
    this.units = options.units ?? 'SI';
    this.maxUsers = options.maxUsers ?? 4;
    this.stored = new PendingQueue((r) => this.sendRecord(r));
  }

  /** The user who consented on the current connection, if any. */
  get consentedUser(): number | undefined {
    return this.consented;
  }

  /** Weights stored and not yet indicated. */
  get pending(): readonly WeightRecord[] {
    return this.stored.pending;
  }

  /** Switches the display units (the "unit switch": kg ↔ lb). */
  switchUnits(units: WeightUnits): void {
    this.units = units;
  }

  /**
   * Someone steps on the scale. Give `kg` (or `lb`); the scale shows unstable weights while settling
   * and indicates only the final one. The user is the consented one, the given `userIndex`, or unknown (0xFF).
   */
  measure(reading: { kg?: number; lb?: number; userIndex?: number }): WeightRecord {
    const kg = reading.kg ?? (reading.lb ?? Number.NaN) * 0.45359237;
    if (!Number.isFinite(kg) || kg < 0)
      throw new MedgwError('MEDGW_ERR_SIM_OPTION', 'measure() needs kg or lb, a positive number');
    const userIndex = this.faults.householdUser ?? reading.userIndex ?? this.consented ?? UNKNOWN_USER;
    const user = this.users.find((u) => u.index === userIndex);
    const imperial = this.units === 'imperial';
    const record: WeightRecord = {
      weightRaw: imperial ? Math.round((reading.lb ?? kg / 0.45359237) / 0.01) : Math.round(kg / 0.005),
      units: this.units,
      time: this.deviceNow(),
      userIndex,
      ...(user?.heightM
        ? {
            bmiRaw: Math.round((kg / user.heightM ** 2) * 10),
            heightRaw: imperial ? Math.round(user.heightM / 0.0254 / 0.1) : Math.round(user.heightM / 0.001),
          }
        : {}),
    };
    encodeWeightMeasurement(record); // refuses a weight the scale could not send (above 327.675 kg / 655.35 lb)
    return this.take(record);
  }

  /**
   * The weighing failed (the person stepped off before the weight settled, or the load cell erred).
   * WSS 1.0, Weight field: the special value 0xFFFF indicates "Measurement Unsuccessful"; when it is
   * used, every optional field other than Time Stamp and User ID is left out (no BMI, no height).
   */
  measureUnsuccessful(reading: { userIndex?: number } = {}): WeightRecord {
    const userIndex = this.faults.householdUser ?? reading.userIndex ?? this.consented ?? UNKNOWN_USER;
    return this.take({ weightRaw: 0xffff, units: this.units, time: this.deviceNow(), userIndex });
  }

  protected take(record: WeightRecord): WeightRecord {
    this.stored.add(record);
    if (this.connected) void this.pushStored(0);
    else this.advertise();
    return record;
  }

  private frame(r: WeightRecord): Buffer {
    return this.faultFrame(encodeWeightMeasurement(r), 0x80);
  }

  /**
   * One stored weighing: the weight, then its body composition when the scale has the Body Composition
   * Service and the central enabled it. It leaves the queue only once both reached the central: a link
   * lost between them sends both again next time.
   */
  private async sendRecord(r: WeightRecord): Promise<boolean> {
    if (!(await this.notify(WSS.service, WSS.measurement, this.frame(r)))) return false;
    if (!r.composition || !this.findCharacteristic(BCS.service, BCS.measurement)) return true;
    if (!this.connected) return false;
    // A central that did not enable 0x2A9C (a generic weight-scale driver) gets the weight alone.
    if (!this.delivering(BCS.service, BCS.measurement)) return true;
    return this.notify(BCS.service, BCS.measurement, encodeBodyComposition(r.composition));
  }

  /** Readings of the consented user and of the unknown user are released; others wait for their consent. */
  protected pushStored(resend: number): Promise<void> {
    return this.pushThenMaybeDisconnect(() =>
      this.stored.flush((r) => r.userIndex === UNKNOWN_USER || r.userIndex === this.consented, resend),
    );
  }

  protected override onConnect(): void {
    this.consented = undefined;
  }

  protected override onCccd(service: string, characteristic: string, value: number): void {
    if (service === WSS.service && characteristic === WSS.measurement && (value & 0x0002) !== 0) {
      void this.pushStored(this.faults.resendOld ?? 0);
    }
  }

  protected buildServices(): SimService[] {
    return [
      {
        uuid: WSS.service,
        characteristics: [
          {
            uuid: WSS.feature,
            properties: ['read'],
            // Time stamp, multiple users, BMI; weight resolution code 7 (0.005 kg), height code 3 (0.001 m).
            read: () => new ByteWriter().u32(0x01 | 0x02 | 0x04 | (7 << 3) | (3 << 7)).toBuffer(),
          },
          { uuid: WSS.measurement, properties: ['indicate'] },
        ],
      },
      {
        uuid: UDS.service,
        characteristics: [
          { uuid: UDS.controlPoint, properties: ['write', 'indicate'], write: (d) => this.ucpWrite(d) },
          {
            uuid: UDS.userIndex,
            properties: ['read'],
            read: () => Buffer.from([this.consented ?? UNKNOWN_USER]),
          },
          {
            uuid: UDS.changeIncrement,
            properties: ['read', 'write', 'notify'],
            read: () =>
              this.requireConsent(() =>
                new ByteWriter().u32(this.changeIncrement.get(this.consented!) ?? 0).toBuffer(),
              ),
            write: (d) =>
              this.requireConsent(() => {
                if (d.length !== 4)
                  throw new AttError(ATT.INVALID_LENGTH, 'Database Change Increment is a uint32');
                this.changeIncrement.set(this.consented!, d.readUInt32LE(0));
              }),
          },
        ],
      },
      this.deviceInformationService(),
      this.currentTimeService(),
    ];
  }

  /** UDS 1.0 §3.2: user data characteristics need a consented user ("User Data Access Not Permitted", 0x80). */
  private requireConsent<T>(fn: () => T): T {
    if (this.consented === undefined)
      throw new AttError(0x80, 'user data access not permitted: give consent first');
    return fn();
  }

  private ucpWrite(data: Buffer) {
    if ((this.cccd(UDS.service, UDS.controlPoint) & 0x0002) === 0) {
      throw new AttError(ATT.CCCD_IMPROPER, 'enable User Control Point indications before writing a request');
    }
    const op = data[0];
    if (op === undefined) throw new AttError(ATT.INVALID_LENGTH, 'empty User Control Point request');
    const respond = (code: number, param?: number) =>
      void this.notify(
        UDS.service,
        UDS.controlPoint,
        Buffer.from(param === undefined ? [UCP.RESPONSE, op, code] : [UCP.RESPONSE, op, code, param]),
      );
    switch (op) {
      case UCP.REGISTER: {
        if (data.length !== 3) return respond(UCP.INVALID_PARAMETER);
        const consentCode = data.readUInt16LE(1);
        if (consentCode > 9999) return respond(UCP.INVALID_PARAMETER);
        if (this.users.length >= this.maxUsers) return respond(UCP.OPERATION_FAILED);
        let index = 0;
        while (this.users.some((u) => u.index === index)) index++;
        this.users.push({ index, consentCode });
        return respond(UCP.SUCCESS, index);
      }
      case UCP.CONSENT: {
        if (data.length !== 4) return respond(UCP.INVALID_PARAMETER);
        const user = this.users.find((u) => u.index === data[1]);
        const code = data.readUInt16LE(2);
        if (!user || code > 9999) return respond(UCP.INVALID_PARAMETER);
        if (user.consentCode !== code) return respond(UCP.NOT_AUTHORIZED);
        this.consented = user.index;
        respond(UCP.SUCCESS);
        if ((this.cccd(WSS.service, WSS.measurement) & 0x0002) !== 0) void this.pushStored(0);
        return;
      }
      case UCP.DELETE_USER_DATA: {
        if (this.consented === undefined) return respond(UCP.NOT_AUTHORIZED);
        const gone = this.consented;
        this.users.splice(
          this.users.findIndex((u) => u.index === gone),
          1,
        );
        this.consented = undefined;
        return respond(UCP.SUCCESS);
      }
      default:
        return respond(UCP.OPCODE_NOT_SUPPORTED);
    }
  }
}
