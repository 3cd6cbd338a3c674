/**
 * Bit and enumeration helpers the characteristic codecs share: named bits out, reserved (RFU) bits and
 * reserved enumeration values refused with MEDGW_ERR_RESERVED_VALUE unless a driver quirk says otherwise.
 */
import { MedgwError } from '../../kernel/errors.ts';

/** Quirk (set by a driver definition): reserved (RFU) flag and status bits are ignored instead of refused. */
export const IGNORE_RESERVED_FLAGS = 'ignore-reserved-flags';

/** Named booleans for every bit named in `names` (names[i] is bit i). */
export function namedBits<N extends string>(value: number, names: readonly N[]): Record<N, boolean> {
  const out = {} as Record<N, boolean>;
  names.forEach((name, bit) => {
    out[name] = (value & (1 << bit)) !== 0;
  });
  return out;
}

/** Names of the set bits of `value`, `names[i]` naming bit i; unnamed (undefined) bits are skipped. */
export function bitNames(value: number, names: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  names.forEach((name, bit) => {
    if (name !== undefined && (value & (1 << bit)) !== 0) out.push(name);
  });
  return out;
}

/** The names of the set bits, in bit order. */
export function setBitNames<N extends string>(bits: Readonly<Record<N, boolean>>): N[] {
  return (Object.keys(bits) as N[]).filter((k) => bits[k]);
}

/** Throws MEDGW_ERR_RESERVED_VALUE when `value` sets a bit of `reservedMask`, unless the quirk allows it. */
export function refuseReservedBits(
  what: string,
  field: string,
  value: number,
  reservedMask: number,
  quirks?: ReadonlySet<string>,
): void {
  const reserved = value & reservedMask;
  if (reserved === 0 || quirks?.has(IGNORE_RESERVED_FLAGS)) return;
  throw new MedgwError(
    'MEDGW_ERR_RESERVED_VALUE',
    `${what}: ${field} 0x${value.toString(16).padStart(2, '0')} sets reserved bit(s) 0x${reserved.toString(16)}; ` +
      `if a real device sends this, give its driver the quirk "${IGNORE_RESERVED_FLAGS}"`,
    { field, value, reserved },
  );
}

/** Looks a value up in an enumeration table; a value the table lacks is reserved for future use. */
export function enumName<T extends string>(
  what: string,
  field: string,
  table: Readonly<Record<number, T>>,
  value: number,
): T {
  const name = table[value];
  if (name === undefined) {
    throw new MedgwError(
      'MEDGW_ERR_RESERVED_VALUE',
      `${what}: ${field} ${value} (0x${value.toString(16)}) is reserved for future use; known values: ${Object.entries(
        table,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      { field, value },
    );
  }
  return name;
}

/** The reverse of an enumeration table: name → code. */
export function enumCode<T extends string>(table: Readonly<Record<number, T>>, name: T): number | undefined {
  for (const [k, v] of Object.entries(table)) if (v === name) return Number(k);
  return undefined;
}

/** Refuses a reserved enumeration value. */
export function reservedValue(what: string, field: string, value: number): MedgwError {
  return new MedgwError('MEDGW_ERR_RESERVED_VALUE', `${what}: ${field} ${value} is reserved for future use`, {
    field,
    value,
  });
}
