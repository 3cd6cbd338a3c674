/**
 * A simulated continuous glucose monitor: Continuous Glucose Monitoring Service 0x181F (CGMS v1.0.1) with
 * a sensor session, one measurement every `intervalMinutes` (5 by default) of the device's clock, a record
 * store read through the Record Access Control Point, the CGM Specific Ops Control Point (start / stop the
 * session, communication interval), and the E2E-CRC on every value CGMS protects when it is enabled; plus
 * Device Information and Current Time.
 *
 * Layouts, written here from CGMS v1.0.1 and the GSS entries, independently of drivers/codecs/cgm-*.ts:
 * - CGM Measurement 0x2AA7: Size, Flags, Glucose SFLOAT mg/dL, Time Offset uint16 min, the annunciation
 *   octets announced by flags 0x80 Status / 0x40 Cal-Temp / 0x20 Warning (in that order), Trend SFLOAT
 *   (flag 0x01), Quality SFLOAT (flag 0x02), E2E-CRC. Several records may share one notification.
 * - CGM Feature 0x2AA8: 24-bit features, Type (low nibble) / Sample Location (high nibble), E2E-CRC
 *   (0xFFFF when not supported).
 * - CGM Status 0x2AA9: Time Offset, 24-bit status, E2E-CRC. Session Start Time 0x2AAA: Date Time, Time
 *   Zone sint8, DST Offset uint8, E2E-CRC. Session Run Time 0x2AAB: hours uint16, E2E-CRC.
 * - RACP 0x2A52 in CGMS filters on Time Offset (filter type 0x01, uint16); it carries no E2E-CRC.
 * - E2E-CRC: CRC-CCITT, polynomial x^16 + x^12 + x^5 + 1, seed 0xFFFF, least significant bit first,
 *   appended least significant octet first. A write to a protected characteristic without it, or with a
 *   wrong one, is refused with the CGMS application errors 0x80 "Missing CRC" / 0x81 "Invalid CRC".
 *
 * Simulator choices: starting a session (op 0x1A) clears the store (time offsets restart at 0); a
 * stopped session keeps its records and raises Status bit 0 "Session stopped" in CGM Status.
 */
import type { DeviceDateTime } from '../../drivers/types.ts';
import { ByteWriter, fromDeviceDateTime, type SimNumber, toDeviceDateTime } from './encode.ts';
import { ATT, AttError, type PeripheralOptions, SimPeripheral, type SimService } from './peripheral.ts';
import { answerSelection, RACP, type RacpFilter, selectRecords } from './racp-select.ts';

export const CGMS = {
  service: '181f',
  measurement: '2aa7',
  feature: '2aa8',
  status: '2aa9',
  sessionStartTime: '2aaa',
  sessionRunTime: '2aab',
  racp: '2a52',
  ops: '2aac',
} as const;

/** CGM Specific Ops Control Point op codes and response values the simulator knows (CGMS v1.0.1). */
export const CGM_OPS = {
  SET_INTERVAL: 0x01,
  GET_INTERVAL: 0x02,
  INTERVAL_RESPONSE: 0x03,
  START_SESSION: 0x1a,
  STOP_SESSION: 0x1b,
  RESPONSE: 0x1c,
  SUCCESS: 0x01,
  OPCODE_NOT_SUPPORTED: 0x02,
  INVALID_OPERAND: 0x03,
  PROCEDURE_NOT_COMPLETED: 0x04,
} as const;

/** CGMS application errors (ATT) for the E2E-CRC of a write. */
export const CGM_ATT = { MISSING_CRC: 0x80, INVALID_CRC: 0x81 } as const;

/** RACP filter type of CGMS: Time Offset (uint16). */
export const RACP_FILTER_TIME_OFFSET = 0x01;
/** The CGMS Time Offset filter: uint16 minutes since the session start. */
const BY_TIME_OFFSET: RacpFilter<CgmRecord> = {
  width: 2,
  bound: (operand, i) => operand.readUInt16LE(1 + i * 2),
  key: (r) => r.timeOffset,
};

export interface CgmRecord {
  /** Minutes since the session start. */
  timeOffset: number;
  /** mg/dL. */
  glucose: SimNumber;
  /** Annunciation octets: present when given. */
  status?: number;
  calTemp?: number;
  warning?: number;
  /** (mg/dL)/min. */
  trend?: SimNumber;
  /** Percent. */
  quality?: SimNumber;
}

/** CRC-CCITT as CGMS defines the E2E-CRC, bit by bit (x^16 + x^12 + x^5 + 1 reversed is 0x8408). */
export function e2eCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    for (let bit = 0; bit < 8; bit++) {
      const feedback = (crc ^ (byte >> bit)) & 1;
      crc >>>= 1;
      if (feedback) crc ^= 0x8408;
    }
  }
  return crc;
}

/** Appends the E2E-CRC (little-endian) when `withCrc`. */
function sealed(body: Buffer, withCrc: boolean): Buffer {
  if (!withCrc) return body;
  const crc = e2eCrc(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

/** One CGM Measurement record 0x2AA7, its Size field counting the E2E-CRC when there is one. */
export function encodeCgmRecord(r: CgmRecord, withCrc: boolean): Buffer {
  let flags = 0;
  if (r.trend !== undefined) flags |= 0x01;
  if (r.quality !== undefined) flags |= 0x02;
  if (r.warning !== undefined) flags |= 0x20;
  if (r.calTemp !== undefined) flags |= 0x40;
  if (r.status !== undefined) flags |= 0x80;
  const w = new ByteWriter().u8(0).u8(flags).sfloat(r.glucose).u16(r.timeOffset);
  if (r.status !== undefined) w.u8(r.status);
  if (r.calTemp !== undefined) w.u8(r.calTemp);
  if (r.warning !== undefined) w.u8(r.warning);
  if (r.trend !== undefined) w.sfloat(r.trend);
  if (r.quality !== undefined) w.sfloat(r.quality);
  const body = w.toBuffer();
  body[0] = body.length + (withCrc ? 2 : 0);
  return sealed(body, withCrc);
}

/** A 0x2AA7 notification carrying the records one after the other. */
export function encodeCgmMeasurement(records: readonly CgmRecord[], withCrc: boolean): Buffer {
  return Buffer.concat(records.map((r) => encodeCgmRecord(r, withCrc)));
}

/** A default day: a slow daily wave with meals on top, in whole mg/dL, always within 40-400. */
export function defaultGlucose(sessionMinute: number): number {
  const day = Math.sin((2 * Math.PI * sessionMinute) / 1440);
  const meals = Math.max(0, Math.sin((2 * Math.PI * sessionMinute) / 360)) ** 3;
  return Math.round(115 + 25 * day + 60 * meals);
}

export interface CgmOptions extends PeripheralOptions {
  /** E2E-CRC supported (CGM Feature bit 12) and sent on every protected value. Default true. */
  e2eCrc?: boolean;
  /** Minutes between measurements. Default 5. */
  intervalMinutes?: number;
  /** Expected session length in hours (Session Run Time). Default 336 (14 days). */
  sessionRunTimeHours?: number;
  /**
   * A session already running for this many minutes when the device is created: its records are in the
   * store (one per interval, offsets 0, 5, 10…). Default: no session (start it through the ops point or
   * `startSession()`).
   */
  sessionMinutes?: number;
  /** Glucose in mg/dL at a session minute (default `defaultGlucose`). */
  glucose?: (sessionMinute: number) => number;
  /** Extra annunciation octets / trend / quality for the record at a session minute. */
  annotate?: (sessionMinute: number) => Partial<Omit<CgmRecord, 'timeOffset' | 'glucose'>>;
  /** Records packed into one notification (RACP transfers). Default 1. */
  recordsPerNotification?: number;
  /** Records (by Time Offset) sent with a corrupted E2E-CRC (its high octet inverted): a damaged transmission. */
  badCrc?: (timeOffset: number) => boolean;
}

interface Transfer {
  aborted: boolean;
}

export class SimCgm extends SimPeripheral {
  readonly e2eCrcEnabled: boolean;
  intervalMinutes: number;
  private readonly runTimeHours: number;
  private readonly glucoseAt: (minute: number) => number;
  private readonly annotate: CgmOptions['annotate'];
  private readonly perNotification: number;
  private readonly badCrc: CgmOptions['badCrc'];
  private readonly store: CgmRecord[] = [];
  /** Session start on the device's wall clock (ms), or undefined before the first session. */
  private sessionStartMs: number | undefined;
  private running = false;
  private transfer: Transfer | undefined;
  /** `sessionMinutes`, kept until the device gets the radio's clock or its session changes. */
  private initialSessionMinutes: number | undefined;

  constructor(options: CgmOptions) {
    super(options, {
      localName: 'medgw CGM',
      primaryService: CGMS.service,
      info: { manufacturer: 'Medgw Sim', model: 'CGM-14', serial: 'CGM-000001', firmware: '2.1.0' },
    });
    this.e2eCrcEnabled = options.e2eCrc ?? true;
    this.intervalMinutes = options.intervalMinutes ?? 5;
    this.runTimeHours = options.sessionRunTimeHours ?? 336;
    this.glucoseAt = options.glucose ?? defaultGlucose;
    this.annotate = options.annotate;
    this.perNotification = Math.max(1, options.recordsPerNotification ?? 1);
    this.badCrc = options.badCrc;
    this.initialSessionMinutes = options.sessionMinutes;
    this.openInitialSession();
  }

  /** The radio gives the device its clock: a session created with the device is dated on that clock. */
  override useClock(now: () => number): void {
    super.useClock(now);
    // Called by the base constructor too, before this class's fields exist.
    if (this.store !== undefined) this.openInitialSession();
  }

  private openInitialSession(): void {
    if (this.initialSessionMinutes === undefined) return;
    this.store.length = 0;
    this.sessionStartMs = this.deviceWallMs() - this.initialSessionMinutes * 60_000;
    this.running = true;
    this.fill();
  }

  /** The stored records, oldest first (copies). */
  records(): CgmRecord[] {
    return this.store.map((r) => ({ ...r }));
  }

  /** The session start as the device states it (Session Start Time), if a session was ever started. */
  sessionStart(): DeviceDateTime | undefined {
    return this.sessionStartMs === undefined ? undefined : toDeviceDateTime(this.sessionStartMs);
  }

  get sessionRunning(): boolean {
    return this.running;
  }

  /** Starts a session now (the sensor was inserted): the store is cleared, offsets restart at 0. */
  startSession(): void {
    this.store.length = 0;
    this.initialSessionMinutes = undefined;
    this.sessionStartMs = this.deviceWallMs();
    this.running = true;
    this.fill();
  }

  stopSession(): void {
    this.initialSessionMinutes = undefined;
    this.fill();
    this.running = false;
  }

  /**
   * Takes every measurement due by the device clock (one per interval since the session start) and
   * notifies the new ones when a central listens. Call it after the radio clock moved.
   */
  tick(): CgmRecord[] {
    const added = this.fill();
    if (added.length > 0 && !this.transfer && this.delivering(CGMS.service, CGMS.measurement)) {
      void this.sendRecords(added);
    }
    return added;
  }

  private minutesRun(): number {
    if (this.sessionStartMs === undefined) return -1;
    const minutes = Math.floor((this.deviceWallMs() - this.sessionStartMs) / 60_000);
    return Math.min(minutes, this.runTimeHours * 60);
  }

  private fill(): CgmRecord[] {
    if (!this.running) return [];
    const upTo = this.minutesRun();
    const last = this.store.at(-1)?.timeOffset;
    const added: CgmRecord[] = [];
    for (
      let minute = last === undefined ? 0 : last + this.intervalMinutes;
      minute <= upTo && minute <= 0xffff;
      minute += this.intervalMinutes
    ) {
      const record: CgmRecord = {
        timeOffset: minute,
        glucose: Math.round(this.glucoseAt(minute)),
        ...this.annotate?.(minute),
      };
      encodeCgmRecord(record, this.e2eCrcEnabled); // refuses a record the sensor could not send
      this.store.push(record);
      added.push(record);
    }
    return added;
  }

  private status24(): number {
    return this.running ? 0 : 0x000001;
  }

  protected buildServices(): SimService[] {
    const crc = this.e2eCrcEnabled;
    return [
      {
        uuid: CGMS.service,
        characteristics: [
          { uuid: CGMS.measurement, properties: ['notify'] },
          {
            uuid: CGMS.feature,
            properties: ['read'],
            read: () => {
              // Calibration, malfunction, temperature, result high-low, low battery, sensor type, fault,
              // trend and quality detection; E2E-CRC (bit 12) when enabled.
              const features = 0x018fc1 | (crc ? 0x001000 : 0);
              const body = new ByteWriter().u24(features).u8(0x59).toBuffer(); // ISF, subcutaneous tissue
              return crc ? sealed(body, true) : Buffer.concat([body, Buffer.from([0xff, 0xff])]);
            },
          },
          {
            uuid: CGMS.status,
            properties: ['read'],
            read: () =>
              sealed(
                new ByteWriter().u16(Math.max(0, this.minutesRun())).u24(this.status24()).toBuffer(),
                crc,
              ),
          },
          {
            uuid: CGMS.sessionStartTime,
            properties: ['read', 'write'],
            read: () => sealed(this.sessionStartValue(), crc),
            write: (data) => this.writeSessionStartTime(data),
          },
          {
            uuid: CGMS.sessionRunTime,
            properties: ['read'],
            read: () => sealed(new ByteWriter().u16(this.runTimeHours).toBuffer(), crc),
          },
          { uuid: CGMS.racp, properties: ['write', 'indicate'], write: (data) => this.racpWrite(data) },
          { uuid: CGMS.ops, properties: ['write', 'indicate'], write: (data) => this.opsWrite(data) },
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

  /** Date Time of the session start, then Time Zone (UTC+1: 4 quarters) and DST Offset 0. */
  private sessionStartValue(): Buffer {
    const start = this.sessionStartMs ?? 0;
    return new ByteWriter()
      .dateTime(this.sessionStartMs === undefined ? zeroDate() : toDeviceDateTime(start))
      .u8(4)
      .u8(0)
      .toBuffer();
  }

  /** Strips and checks the E2E-CRC of a write to a protected characteristic (CGMS errors 0x80 / 0x81). */
  private unseal(data: Buffer, bodyLength: number): Buffer {
    if (!this.e2eCrcEnabled) return data;
    if (data.length < bodyLength + 2) throw new AttError(CGM_ATT.MISSING_CRC, 'E2E-CRC missing');
    const body = data.subarray(0, data.length - 2);
    if (data.readUInt16LE(data.length - 2) !== e2eCrc(body))
      throw new AttError(CGM_ATT.INVALID_CRC, 'E2E-CRC does not match');
    return body;
  }

  private writeSessionStartTime(data: Buffer): void {
    const body = this.unseal(data, 9);
    if (body.length !== 9) throw new AttError(ATT.INVALID_LENGTH, 'Session Start Time is 9 octets');
    // The collector states the start in its own time: the device keeps its offsets and adopts it.
    this.sessionStartMs = fromDeviceDateTime({
      year: body.readUInt16LE(0),
      month: body[2]!,
      day: body[3]!,
      hours: body[4]!,
      minutes: body[5]!,
      seconds: body[6]!,
    });
  }

  // ------------------------------------------------------------------ CGM Specific Ops Control Point
  private opsWrite(data: Buffer): void {
    if ((this.cccd(CGMS.service, CGMS.ops) & 0x0002) === 0) {
      throw new AttError(ATT.CCCD_IMPROPER, 'enable indications of the CGM Specific Ops Control Point first');
    }
    const op = data[0];
    if (op === undefined) throw new AttError(ATT.INVALID_LENGTH, 'an op code is needed');
    const operandLength = op === CGM_OPS.SET_INTERVAL ? 1 : 0;
    const body = this.unseal(data, 1 + operandLength);
    const known = [CGM_OPS.SET_INTERVAL, CGM_OPS.GET_INTERVAL, CGM_OPS.START_SESSION, CGM_OPS.STOP_SESSION];
    if (!(known as number[]).includes(op)) {
      void this.opsRespond(op, CGM_OPS.OPCODE_NOT_SUPPORTED);
      return;
    }
    if (body.length !== 1 + operandLength) {
      void this.opsRespond(op, CGM_OPS.INVALID_OPERAND);
      return;
    }
    switch (op) {
      case CGM_OPS.SET_INTERVAL:
        if (body[1] === 0 || body[1] === 0xff) {
          // 0 switches periodic measurements off; 0xFF asks for the fastest: both out of this sensor's scope.
          void this.opsRespond(op, CGM_OPS.INVALID_OPERAND);
          return;
        }
        this.intervalMinutes = body[1]!;
        void this.opsRespond(op, CGM_OPS.SUCCESS);
        return;
      case CGM_OPS.GET_INTERVAL:
        void this.sendOps(new ByteWriter().u8(CGM_OPS.INTERVAL_RESPONSE).u8(this.intervalMinutes).toBuffer());
        return;
      case CGM_OPS.START_SESSION:
        if (this.running) {
          void this.opsRespond(op, CGM_OPS.PROCEDURE_NOT_COMPLETED);
          return;
        }
        this.startSession();
        void this.opsRespond(op, CGM_OPS.SUCCESS);
        return;
      case CGM_OPS.STOP_SESSION:
        this.stopSession();
        void this.opsRespond(op, CGM_OPS.SUCCESS);
        return;
    }
  }

  private opsRespond(requestOp: number, code: number): Promise<boolean> {
    return this.sendOps(Buffer.from([CGM_OPS.RESPONSE, requestOp, code]));
  }

  private sendOps(body: Buffer): Promise<boolean> {
    return this.notify(CGMS.service, CGMS.ops, sealed(body, this.e2eCrcEnabled));
  }

  // ------------------------------------------------------------------ RACP (filter: Time Offset)
  private racpWrite(data: Buffer): void {
    if ((this.cccd(CGMS.service, CGMS.racp) & 0x0002) === 0) {
      throw new AttError(ATT.CCCD_IMPROPER, 'enable RACP indications before writing a request');
    }
    const op = data[0];
    const operator = data[1];
    if (op === undefined || operator === undefined)
      throw new AttError(ATT.INVALID_LENGTH, 'RACP request needs op code and operator');
    if (op === RACP.ABORT) {
      if (this.transfer) this.transfer.aborted = true;
      this.transfer = undefined;
      void this.racpRespond(op, operator === RACP.OP_NULL ? RACP.SUCCESS : RACP.INVALID_OPERATOR);
      return;
    }
    if (this.transfer)
      throw new AttError(ATT.PROCEDURE_IN_PROGRESS, 'a RACP procedure is already in progress');
    if (op !== RACP.REPORT && op !== RACP.DELETE && op !== RACP.COUNT) {
      void this.racpRespond(op, RACP.OPCODE_NOT_SUPPORTED);
      return;
    }
    this.fill();
    answerSelection(op, this.select(operator, data.subarray(2)), this.store, {
      respond: (o, code) => void this.racpRespond(o, code),
      count: (n) =>
        void this.notify(
          CGMS.service,
          CGMS.racp,
          new ByteWriter().u8(RACP.COUNT_RESPONSE).u8(RACP.OP_NULL).u16(n).toBuffer(),
        ),
      report: (records) => void this.report(records),
    });
  }

  private select(operator: number, operand: Buffer): CgmRecord[] | number {
    return selectRecords(this.store, operator, operand, (type) =>
      type === RACP_FILTER_TIME_OFFSET ? BY_TIME_OFFSET : undefined,
    );
  }

  private async report(records: CgmRecord[]): Promise<void> {
    const transfer: Transfer = { aborted: false };
    this.transfer = transfer;
    const ok = await this.sendRecords(records, transfer);
    if (this.transfer === transfer) this.transfer = undefined;
    if (ok && !transfer.aborted) await this.racpRespond(RACP.REPORT, RACP.SUCCESS);
  }

  private async sendRecords(records: CgmRecord[], transfer?: Transfer): Promise<boolean> {
    for (let i = 0; i < records.length; i += this.perNotification) {
      if (transfer?.aborted) return false;
      const frame = this.faultFrame(
        Buffer.concat(
          records.slice(i, i + this.perNotification).map((r) => {
            const bytes = encodeCgmRecord(r, this.e2eCrcEnabled);
            if (this.e2eCrcEnabled && this.badCrc?.(r.timeOffset)) bytes[bytes.length - 1]! ^= 0xff;
            return bytes;
          }),
        ),
        0,
      );
      if (!(await this.notify(CGMS.service, CGMS.measurement, frame))) return false;
    }
    return true;
  }

  private racpRespond(requestOp: number, code: number): Promise<boolean> {
    return this.notify(CGMS.service, CGMS.racp, Buffer.from([RACP.RESPONSE, RACP.OP_NULL, requestOp, code]));
  }
}

function zeroDate(): DeviceDateTime {
  return { year: 0, month: 0, day: 0, hours: 0, minutes: 0, seconds: 0 };
}
