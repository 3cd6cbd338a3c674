/**
 * Body Composition Measurement 0x2A9C as a body composition analyzer sends it, written from the GSS
 * field table (BCS v1.0 §3.2; org.bluetooth.characteristic.body_composition_measurement), not from the
 * gateway's codec: flags uint16, Body Fat Percentage uint16 (0.1 %), then in flag order Time Stamp (bit 1),
 * User ID (2), Basal Metabolism kJ (3), Muscle Percentage 0.1 % (4), Muscle Mass (5), Fat Free Mass (6),
 * Soft Lean Mass (7), Body Water Mass (8), Impedance 0.1 Ω (9), Weight (10), Height (11). Masses in
 * 0.005 kg (SI, flag bit 0 clear) or 0.01 lb; height in 0.001 m or 0.1 in.
 */
import type { DeviceDateTime } from '../../drivers/types.ts';
import { ByteWriter } from './encode.ts';

export const BCS = { service: '181b', feature: '2a9b', measurement: '2a9c' } as const;

/** One body composition result, each field in the unit the frame carries (raw integers). */
export interface BodyCompositionRecord {
  /** 0.1 % steps; 0xFFFF = "Measurement Unsuccessful". */
  bodyFatRaw: number;
  imperial?: boolean;
  time?: DeviceDateTime;
  userIndex?: number;
  basalMetabolismKj?: number;
  musclePercentRaw?: number;
  muscleMassRaw?: number;
  fatFreeMassRaw?: number;
  softLeanMassRaw?: number;
  bodyWaterMassRaw?: number;
  /** 0.1 Ω steps. */
  impedanceRaw?: number;
  weightRaw?: number;
  heightRaw?: number;
}

/** The optional fields in frame order, with their flag bit. */
const OPTIONAL: ReadonlyArray<readonly [number, keyof BodyCompositionRecord]> = [
  [3, 'basalMetabolismKj'],
  [4, 'musclePercentRaw'],
  [5, 'muscleMassRaw'],
  [6, 'fatFreeMassRaw'],
  [7, 'softLeanMassRaw'],
  [8, 'bodyWaterMassRaw'],
  [9, 'impedanceRaw'],
  [10, 'weightRaw'],
  [11, 'heightRaw'],
];

export function encodeBodyComposition(r: BodyCompositionRecord): Buffer {
  let flags = (r.imperial ? 0x0001 : 0) | (r.time ? 0x0002 : 0) | (r.userIndex !== undefined ? 0x0004 : 0);
  for (const [bit, key] of OPTIONAL) if (r[key] !== undefined) flags |= 1 << bit;
  const w = new ByteWriter().u16(flags).u16(r.bodyFatRaw);
  if (r.time) w.dateTime(r.time);
  if (r.userIndex !== undefined) w.u8(r.userIndex);
  for (const [, key] of OPTIONAL) {
    const v = r[key];
    if (typeof v === 'number') w.u16(v);
  }
  return w.toBuffer();
}

/**
 * Body Composition Feature 0x2A9B (GSS): uint32; bits 0-10 say which fields the analyzer supports (time
 * stamp, multiple users, basal metabolism, muscle %, muscle mass, fat free mass, soft lean mass, body
 * water mass, impedance, weight, height), then the mass (bits 11-14) and height (15-17) resolutions.
 */
export function encodeBodyCompositionFeature(): Buffer {
  // Time stamp, multiple users, basal metabolism, muscle %, soft lean mass, body water mass, impedance.
  const supported = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80 | 0x100;
  return new ByteWriter().u32(supported).toBuffer();
}
