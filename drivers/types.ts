/**
 * Shared data types of medgw. Drivers produce `Measurement`s (device units, device time);
 * normalization turns them into `Observation`s (canonical UCUM units, LOINC + MDC codes, corrected
 * time with a quality flag). Gateway, cloud-bridge and simulators import these types; nothing here
 * does I/O.
 */
import type { ErrorCode } from '../kernel/errors.ts';

/** Data-absent reasons of the HL7 PHD IG for IEEE 11073 special values (FHIR data-absent-reason codes). */
export type DataAbsentReason = 'not-a-number' | 'error' | 'positive-infinity' | 'negative-infinity';

/**
 * A number as a device sent it: `value = mantissa × 10^exponent`. The exponent is kept so the
 * device's precision survives (2.0 is mantissa 20, exponent −1; 2 is mantissa 2, exponent 0).
 */
export interface DecimalValue {
  readonly mantissa: number;
  readonly exponent: number;
  /** The plain number (mantissa × 10^exponent), rounded to the exponent's decimals. */
  readonly value: number;
}

/** An IEEE 11073 SFLOAT/FLOAT: either a decimal or a special value that never becomes a number. */
export type MedNumber = DecimalValue | { readonly absent: DataAbsentReason; readonly raw: number };

/** Date Time (0x2A08) as sent: no time zone; 0 in year, month or day means "unknown". */
export interface DeviceDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  /**
   * The decimal fraction of the second exactly as the device wrote it (the digits after the point of an
   * MQTT ISO-8601 time, `250` for `08:15:00.250`), absent when it wrote none. Not part of GSS Date Time.
   */
  readonly fraction?: string;
}

/** The kinds of reading a device produces (one Measurement can carry several components). */
export type MeasurementKind =
  | 'glucose'
  | 'body-weight'
  | 'blood-pressure'
  | 'body-temperature'
  | 'spo2'
  /** BCS 0x2A9C: body fat and the other values of a body composition analyzer (local only). */
  | 'body-composition';

/** Components a Measurement may carry, in device units. */
export const COMPONENT_NAMES = [
  'glucose',
  'weight',
  'height',
  'bmi',
  'systolic',
  'diastolic',
  'mean-arterial',
  'pulse',
  'temperature',
  'spo2',
  'pulse-amplitude-index',
  'cuff-pressure',
  // Body composition (BCS 0x2A9C). New names go last: reading ids hash component names, not positions,
  // but the order of this list is kept all the same.
  'body-fat',
  'muscle-percentage',
  'muscle-mass',
  'fat-free-mass',
  'soft-lean-mass',
  'body-water-mass',
  'impedance',
  'basal-metabolism',
] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface MeasurementComponent {
  readonly name: ComponentName;
  readonly value: MedNumber;
  /** UCUM unit as the device sent it (`kg/L`, `mol/L`, `[lb_av]`, `kPa`, `[degF]`…). */
  readonly unit: string;
}

/** Meal context of a glucose reading (GLS Glucose Measurement Context 0x2A34, meal field). */
export type MealContext = 'preprandial' | 'postprandial' | 'fasting' | 'casual' | 'bedtime';

/** A reading decoded from a device, before normalization. */
export interface Measurement {
  readonly kind: MeasurementKind;
  /** 16-bit characteristic UUID (upper-case hex, `2A18`) or `mqtt` for MQTT payloads. */
  readonly source: string;
  /** Device sequence number where the device numbers its records (GLS, MQTT `seq`). */
  readonly sequence?: number;
  /** The device's own time for the reading (user-facing time: base time + offset), no zone. */
  readonly deviceTime?: DeviceDateTime;
  /** When the device's time already carries a zone (MQTT ISO-8601 time), the UTC offset in minutes. */
  readonly deviceUtcOffsetMinutes?: number;
  /** Household user index (0xFF = unknown user is kept as 255). */
  readonly userIndex?: number;
  readonly components: readonly MeasurementComponent[];
  /** Extra clinical context (meal, sample type and location, body site, measurement type…). */
  readonly context?: Readonly<Record<string, string | number | boolean>>;
  /** Named status flags the device raised (sensor status annunciation, measurement status bits). */
  readonly flags?: readonly string[];
  /** False for intermediate values (cuff pressure while inflating, unstable weight): never forwarded. */
  readonly final: boolean;
}

/**
 * Time-quality flag carried by every observation (see ARCHITECTURE.md, Time; docs/clinical-mapping.md, Time):
 * - `synced`: the gateway set the device clock before the reading; `utc` is the device time in the zone;
 * - `corrected`: `utc` is the device time corrected by the clock's measured drift (coincident timestamp),
 *   read with the zone rules at the reading's own date;
 * - `dst-unknown`: corrected as above, but the reading and the coincident timestamp lie in different
 *   summer-time periods (or the reading's local time is skipped or repeated at a change) and the device
 *   does not say whether its clock keeps summer time: `utc` assumes it does and may be off by the
 *   summer-time offset (one hour in Europe/Paris);
 * - `untrusted`: the device time could not be checked (no coincident timestamp, a clock fault, or a
 *   zone the device stated itself with no clock check); `utc` only when the device stated its offset;
 * - `received`: the device sent no time at all; `utc` is when the gateway received the reading.
 */
export type TimeQuality = 'synced' | 'corrected' | 'dst-unknown' | 'untrusted' | 'received';

export interface ObservationTime {
  /**
   * Device time as sent, ISO-8601 local without zone (`2026-11-22T08:15:00`, with the fraction of a
   * second when the device wrote one: `2026-11-22T08:15:00.250`), when the device sent one.
   */
  readonly device?: string;
  /** When the reading was taken: the best UTC instant (ISO-8601 with `Z`), when it can be established. */
  readonly utc?: string;
  /**
   * The UTC offset the device stated with its time (MQTT ISO-8601 `+01:00`), in minutes east of UTC: the
   * time is written back in it (FHIR effectiveDateTime) as the device wrote it.
   */
  readonly utcOffsetMinutes?: number;
  /** When the gateway received the reading (ISO-8601 with `Z`), separate from when it was taken. */
  readonly received?: string;
  readonly quality: TimeQuality;
}

/** Kinds of normalized observations, each one row of the vocabulary table. */
export type ObservationKind =
  | 'body-weight'
  | 'body-height'
  | 'bmi'
  | 'blood-pressure'
  | 'systolic'
  | 'diastolic'
  | 'mean-arterial'
  | 'heart-rate'
  | 'body-temperature'
  | 'spo2'
  | 'glucose'
  /** MED-969: the mean interstitial glucose of a CGM over days (drivers/normalize/cgm-summary.ts). */
  | 'cgm-mean-glucose'
  /** MED-972: the glucose management indicator of a CGM over days. */
  | 'glucose-management-indicator'
  /** Body composition (BCS 0x2A9C), kept local: Mon espace santé takes none of them. */
  | 'body-fat-percentage'
  | 'muscle-percentage'
  | 'muscle-mass'
  | 'fat-free-mass'
  | 'soft-lean-mass'
  | 'body-water-mass'
  | 'body-impedance'
  | 'basal-metabolism';

/**
 * A device status bit carried in the record (drivers/normalize/status.ts), as an `Observation.interpretation`
 * coded the way the HL7 PHD IG codes it: a measurement-status condition in the PHD measurement-status code
 * system, a device or sensor status bit in ASN1ToHL7. `system`/`code` are absent when the IG has no code
 * (then `display` travels as text).
 */
export interface StatusCoding {
  readonly system?: string;
  readonly code?: string;
  readonly display: string;
}

export interface Quarantine {
  /** One of the quarantine codes of the catalogue (`MEDGW_ERR_IMPLAUSIBLE_VALUE`…). */
  readonly code: ErrorCode;
  readonly reason: string;
}

/** A normalized clinical observation: canonical UCUM unit, LOINC + MDC codes, time with quality. */
export interface Observation {
  readonly kind: ObservationKind;
  readonly loinc: string;
  /** IEEE 11073-10101 code as decimal string (partition × 65536 + term). */
  readonly mdc: string;
  /** Value in the canonical unit (absent for panels and data-absent values). */
  readonly value?: number;
  /** Decimal places that carry the device's precision in the canonical unit. */
  readonly decimals?: number;
  readonly unit?: string;
  /** The value and unit as the device sent them, when a conversion happened. */
  readonly original?: { readonly value: number; readonly unit: string; readonly decimals?: number };
  readonly dataAbsentReason?: DataAbsentReason;
  /**
   * The value is a bound, not a result: the device's range ends there (a glucometer's HI / LO). FHIR
   * `valueQuantity.comparator`: `>` above the range, `<` below it.
   */
  readonly comparator?: '<' | '>';
  /** Device status bits that travel with the reading (never silently dropped). */
  readonly deviceStatus?: readonly StatusCoding[];
  /** Components of a panel (blood pressure: systolic, diastolic, mean arterial). */
  readonly components?: readonly Observation[];
  readonly time: ObservationTime;
  readonly context?: Readonly<Record<string, string | number | boolean>>;
  readonly quarantine?: Quarantine;
}

/** A coincident timestamp: the device's sense of "now" read at the same instant as the gateway's clock. */
export interface CoincidentTime {
  readonly device: DeviceDateTime;
  /** Gateway time in milliseconds since the epoch, when the device time was read. */
  readonly gatewayMs: number;
  /** Whether the gateway set the device clock just before (Current Time write) — then the device is `synced`. */
  readonly deviceClockSet?: boolean;
  /**
   * The DST offset (minutes) the device stated in Local Time Information 0x2A0F at that read, when it
   * stated a known one: the device keeps summer time itself (CTS v1.1 §3.2), so its stored times are civil.
   */
  readonly dstOffsetMinutes?: number;
}

/** Identity a device reveals (Device Information service, advertisements, provisioning). */
export interface DeviceIdentity {
  /** DIS System ID 0x2A23 as the canonical EUI-64, OUI first: `C0-26-DA-FF-FE-00-0E-01`. */
  readonly systemId?: string;
  readonly address?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serial?: string;
  readonly firmware?: string;
  /** DIS Hardware Revision String 0x2A27. */
  readonly hardware?: string;
  /** DIS Software Revision String 0x2A28. */
  readonly software?: string;
  /** DIS 1.2 UDI for Medical Devices 0x2BFF: the parts the device gives. */
  readonly udi?: DeviceUdi;
  /**
   * The identifier the national side already knows this device by, when it is not the one the gateway
   * computes now (set once by the registry migration): the PhdDevice carries it and conditional create
   * keys on it, so the device keeps one Device there (docs/clinical-mapping.md, Device identity).
   */
  readonly knownAs?: { readonly system: 'eui-64' | 'gateway'; readonly value: string };
}

/** UDI for Medical Devices 0x2BFF (DIS 1.2): each part present when its flag bit is set. */
export interface DeviceUdi {
  readonly label?: string;
  readonly deviceIdentifier?: string;
  readonly issuer?: string;
  readonly authority?: string;
}
