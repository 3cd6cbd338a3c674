/**
 * Glucose Measurement Context 0x2A34 (GLS v1.0.1 §3.2; GSS "Glucose Measurement Context"): Flags,
 * Sequence Number (equal to its measurement's), then Extended Flags, Carbohydrate ID + Carbohydrate (kg),
 * Meal, Tester-Health (Tester LOW nibble, Health HIGH nibble), Exercise Duration (s) + Intensity (%),
 * Medication ID + Medication (kg or L), HbA1c (%) as the flags announce.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { ByteReader } from '../reader.ts';
import type { MealContext, Measurement, MedNumber } from '../types.ts';
import { enumName, IGNORE_RESERVED_FLAGS, refuseReservedBits } from './bits.ts';

const WHAT = 'Glucose Measurement Context';

const FLAG_CARBOHYDRATE = 0x01;
const FLAG_MEAL = 0x02;
const FLAG_TESTER_HEALTH = 0x04;
const FLAG_EXERCISE = 0x08;
const FLAG_MEDICATION = 0x10;
const FLAG_MEDICATION_LITRES = 0x20;
const FLAG_HBA1C = 0x40;
const FLAG_EXTENDED = 0x80;
/** Every bit of Extended Flags is RFU (GSS Glucose Measurement Context). */
const EXTENDED_FLAGS_RESERVED = 0xff;

export const CARBOHYDRATE_IDS = {
  1: 'breakfast',
  2: 'lunch',
  3: 'dinner',
  4: 'snack',
  5: 'drink',
  6: 'supper',
  7: 'brunch',
} as const;
export type CarbohydrateId = (typeof CARBOHYDRATE_IDS)[keyof typeof CARBOHYDRATE_IDS];

export const MEALS: Readonly<Record<number, MealContext>> = {
  1: 'preprandial',
  2: 'postprandial',
  3: 'fasting',
  4: 'casual',
  5: 'bedtime',
};

export const TESTERS = {
  1: 'self',
  2: 'health-care-professional',
  3: 'lab-test',
  15: 'not-available',
} as const;
export type Tester = (typeof TESTERS)[keyof typeof TESTERS];

export const HEALTH = {
  1: 'minor-health-issues',
  2: 'major-health-issues',
  3: 'during-menses',
  4: 'under-stress',
  5: 'no-health-issues',
  15: 'not-available',
} as const;
export type Health = (typeof HEALTH)[keyof typeof HEALTH];

export const MEDICATION_IDS = {
  1: 'rapid-acting-insulin',
  2: 'short-acting-insulin',
  3: 'intermediate-acting-insulin',
  4: 'long-acting-insulin',
  5: 'pre-mixed-insulin',
} as const;
export type MedicationId = (typeof MEDICATION_IDS)[keyof typeof MEDICATION_IDS];

/** Exercise Duration 0xFFFF means "overrun" (GSS Glucose Measurement Context). */
export const EXERCISE_DURATION_OVERRUN = 0xffff;

export interface GlucoseContextFields {
  readonly flags: number;
  readonly sequenceNumber: number;
  readonly extendedFlags?: number;
  readonly carbohydrateId?: CarbohydrateId;
  /** Carbohydrate amount in kilograms (SFLOAT). */
  readonly carbohydrate?: MedNumber;
  readonly meal?: MealContext;
  readonly tester?: Tester;
  readonly health?: Health;
  /** Seconds; 65535 means overrun. */
  readonly exerciseDuration?: number;
  /** Percent. */
  readonly exerciseIntensity?: number;
  readonly medicationId?: MedicationId;
  readonly medication?: MedNumber;
  /** Flag bit 5: kilograms (0) or litres (1); present with Medication only. */
  readonly medicationUnits?: 'kg' | 'L';
  /** Percent (SFLOAT). */
  readonly hbA1c?: MedNumber;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function decodeGlucoseContext(bytes: Uint8Array, quirks?: ReadonlySet<string>): GlucoseContextFields {
  const r = new ByteReader(bytes, WHAT);
  const flags = r.u8('flags');
  const out: Mutable<GlucoseContextFields> = { flags, sequenceNumber: r.u16('sequenceNumber') };
  const raw: { carbohydrateId?: number; meal?: number; testerHealth?: number; medicationId?: number } = {};
  if (flags & FLAG_EXTENDED) out.extendedFlags = r.u8('extendedFlags');
  if (flags & FLAG_CARBOHYDRATE) {
    raw.carbohydrateId = r.u8('carbohydrateId');
    out.carbohydrate = r.sfloat('carbohydrate');
  }
  if (flags & FLAG_MEAL) raw.meal = r.u8('meal');
  if (flags & FLAG_TESTER_HEALTH) raw.testerHealth = r.u8('testerHealth');
  if (flags & FLAG_EXERCISE) {
    out.exerciseDuration = r.u16('exerciseDuration');
    out.exerciseIntensity = r.u8('exerciseIntensity');
  }
  if (flags & FLAG_MEDICATION) {
    raw.medicationId = r.u8('medicationId');
    out.medication = r.sfloat('medication');
    out.medicationUnits = flags & FLAG_MEDICATION_LITRES ? 'L' : 'kg';
  }
  if (flags & FLAG_HBA1C) out.hbA1c = r.sfloat('hbA1c');
  r.end();
  // Length first, then values: a cut frame is reported as cut, not as a reserved value.
  if (out.extendedFlags !== undefined) {
    refuseReservedBits(WHAT, 'extendedFlags', out.extendedFlags, EXTENDED_FLAGS_RESERVED, quirks);
  }
  if (raw.carbohydrateId !== undefined) {
    out.carbohydrateId = enumName(WHAT, 'carbohydrateId', CARBOHYDRATE_IDS, raw.carbohydrateId);
  }
  if (raw.meal !== undefined) out.meal = enumName(WHAT, 'meal', MEALS, raw.meal);
  if (raw.testerHealth !== undefined) {
    out.tester = enumName(WHAT, 'tester', TESTERS, raw.testerHealth & 0x0f);
    out.health = enumName(WHAT, 'health', HEALTH, raw.testerHealth >> 4);
  }
  if (raw.medicationId !== undefined) {
    out.medicationId = enumName(WHAT, 'medicationId', MEDICATION_IDS, raw.medicationId);
  }
  return out;
}

/** Writes a MedNumber into a flat context: `key: value` or `keyDataAbsentReason: reason`. */
function putNumber(ctx: Record<string, string | number | boolean>, key: string, n: MedNumber): void {
  if ('absent' in n) ctx[`${key}DataAbsentReason`] = n.absent;
  else ctx[key] = n.value;
}

/** The context fields as flat Measurement.context entries (units in the key names). */
export function glucoseContextEntries(c: GlucoseContextFields): Record<string, string | number | boolean> {
  const ctx: Record<string, string | number | boolean> = {};
  if (c.meal !== undefined) ctx['meal'] = c.meal;
  if (c.carbohydrateId !== undefined) ctx['carbohydrateId'] = c.carbohydrateId;
  if (c.carbohydrate !== undefined) putNumber(ctx, 'carbohydrateKg', c.carbohydrate);
  if (c.tester !== undefined) ctx['tester'] = c.tester;
  if (c.health !== undefined) ctx['health'] = c.health;
  if (c.exerciseDuration !== undefined) {
    if (c.exerciseDuration === EXERCISE_DURATION_OVERRUN) ctx['exerciseDurationOverrun'] = true;
    else ctx['exerciseDurationSeconds'] = c.exerciseDuration;
  }
  if (c.exerciseIntensity !== undefined) ctx['exerciseIntensityPercent'] = c.exerciseIntensity;
  if (c.medicationId !== undefined) ctx['medicationId'] = c.medicationId;
  if (c.medication !== undefined) {
    putNumber(ctx, c.medicationUnits === 'L' ? 'medicationL' : 'medicationKg', c.medication);
  }
  if (c.hbA1c !== undefined) putNumber(ctx, 'hbA1cPercent', c.hbA1c);
  return ctx;
}

/**
 * Merges a Glucose Measurement Context into the glucose Measurement with the same sequence number
 * (GLS v1.0.1 §3.2: the context carries its measurement's sequence number). A different sequence
 * number is refused: the context belongs to another record.
 */
export function mergeGlucoseContext(measurement: Measurement, context: GlucoseContextFields): Measurement {
  if (measurement.kind !== 'glucose' || measurement.sequence !== context.sequenceNumber) {
    throw new MedgwError(
      'MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH',
      `Glucose Measurement Context #${context.sequenceNumber} cannot be merged into ${measurement.kind} measurement ` +
        `#${measurement.sequence ?? 'without sequence number'}; merge it with the measurement of the same sequence number`,
      { contextSequence: context.sequenceNumber, measurementSequence: measurement.sequence },
    );
  }
  const { contextFollows: _done, ...kept } = measurement.context ?? {};
  return { ...measurement, context: { ...kept, ...glucoseContextEntries(context) } };
}

export const glucoseContext: CharacteristicCodec<GlucoseContextFields> = {
  uuid: '2A34',
  name: 'glucose-measurement-context',
  spec: 'GLS v1.0.1 §3.2 Glucose Measurement Context; GSS Glucose Measurement Context (0x2A34)',
  quirks: [IGNORE_RESERVED_FLAGS],
  decode: decodeGlucoseContext,
};
