/**
 * FHIR JSON with exact decimals. FHIR decimals keep their precision in their text (2.0 is not 2,
 * FHIR R4 §2.1.28.0.1 "decimal"), which `JSON.stringify` loses. A `FhirDecimal` holds the exact text
 * and `toFhirJson` writes it unquoted; `parseFhirJson` reads answers back keeping decimals as text.
 */

/** A FHIR decimal carried as its exact text (`"2.0"`, `"-0.05"`, `"120"`). */
export class FhirDecimal {
  readonly text: string;

  constructor(text: string) {
    if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(text)) {
      throw new TypeError(`not a FHIR decimal: ${JSON.stringify(text)}`);
    }
    this.text = text;
  }

  /** A number written with exactly `decimals` digits after the point (0 → an integer form). */
  static of(value: number, decimals = 0): FhirDecimal {
    if (!Number.isFinite(value)) throw new TypeError('a FHIR decimal must be finite');
    const d = Math.max(0, Math.min(20, Math.trunc(decimals)));
    const text = value.toFixed(d);
    return new FhirDecimal(text === '-0' || /^-0\.0*$/.test(text) ? text.slice(1) : text);
  }

  toJSON(): number {
    return Number(this.text);
  }
}

/** A JSON value whose numbers may be exact decimals. */
export type FhirJson =
  | string
  | number
  | boolean
  | null
  | FhirDecimal
  | readonly FhirJson[]
  | { readonly [key: string]: FhirJson | undefined };

/** Serializes like `JSON.stringify` (no spacing), writing each `FhirDecimal` as its exact text. */
export function toFhirJson(value: FhirJson): string {
  if (value instanceof FhirDecimal) return value.text;
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('FHIR JSON cannot hold a non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v: FhirJson) => toFhirJson(v)).join(',')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as { readonly [key: string]: FhirJson | undefined })) {
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${toFhirJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
