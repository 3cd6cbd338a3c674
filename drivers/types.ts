/**
 * Shared data types of medgw. Drivers produce `Measurement`s (device units, device time);
 * normalization turns them into `Observation`s (canonical UCUM units, LOINC + MDC codes, corrected
 * time with a quality flag). Gateway, cloud-bridge and simulators import these types; nothing here
 * does I/O.
 */

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
}

/** The kinds of reading a device produces (one Measurement can carry several components). */
export type MeasurementKind = 'glucose' | 'body-weight' | 'blood-pressure' | 'body-temperature' | 'spo2';

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

/** Time-quality flag carried by every observation (see ARCHITECTURE.md, Time). */
export type TimeQuality = 'synced' | 'corrected' | 'untrusted';

export interface ObservationTime {
  /** Device time as sent, ISO-8601 local without zone (`2026-11-22T08:15:00`), when the device sent one. */
  readonly device?: string;
  /** The best UTC instant for the reading (ISO-8601 with `Z`), when it can be established. */
  readonly utc?: string;
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
  | 'glucose';

export interface Quarantine {
  /** One of the quarantine codes of the catalogue (`MEDGW_ERR_IMPLAUSIBLE_VALUE`…). */
  readonly code: string;
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
  readonly original?: { readonly value: number; readonly unit: string };
  readonly dataAbsentReason?: DataAbsentReason;
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
}

/** Identity a device reveals (Device Information service, advertisements, provisioning). */
export interface DeviceIdentity {
  readonly systemId?: string;
  readonly address?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serial?: string;
  readonly firmware?: string;
}
