/**
 * The one catalogue of medgw error codes. Every refusal in the project carries one of these codes,
 * a message that says what was wrong and a hint that says what to do. `docs/errors.md` is generated
 * from this table (`npm run gen`) and a test keeps the two in sync.
 *
 * Callers match on `err.code`, never on the message text.
 */

export interface ErrorEntry {
  /** Where the code is raised, used to group the documentation. */
  readonly area: 'input' | 'drivers' | 'mqtt' | 'ble' | 'gateway' | 'journal' | 'cloud' | 'sandbox' | 'http';
  /** What went wrong, in one sentence. */
  readonly message: string;
  /** What the person reading it should do. */
  readonly hint: string;
}

export const ERROR_CATALOGUE = {
  // --- input given to the command line or an API --------------------------------------------
  MEDGW_ERR_USAGE: {
    area: 'input',
    message: 'The command was called with missing or unknown arguments.',
    hint: 'Run `medgw help` (or `medgw <command> --help`) to see the expected arguments.',
  },
  MEDGW_ERR_HEX: {
    area: 'input',
    message: 'The frame is not valid hexadecimal (odd length or a character outside 0-9, a-f).',
    hint: 'Give the bytes as an even number of hex digits, optionally separated by spaces or colons: `0b 2a 00`.',
  },
  MEDGW_ERR_JSONL_LINE: {
    area: 'input',
    message: 'A line given to `medgw decode --jsonl` is not a JSON object with "characteristic" and "hex".',
    hint: 'Write one object per line: {"characteristic":"2A18","hex":"…","driver":"…"}.',
  },
  MEDGW_ERR_CONFIG: {
    area: 'input',
    message: 'The configuration is invalid.',
    hint: 'Fix the key named in the message (see the configuration reference in the README), then start again.',
  },

  // --- device knowledge: codecs and normalization ------------------------------------------
  MEDGW_ERR_UNKNOWN_CHARACTERISTIC: {
    area: 'drivers',
    message: 'No codec knows this characteristic.',
    hint: 'Give a 16-bit UUID such as 2A18 or a name such as glucose-measurement; `medgw decode --list` shows them all.',
  },
  MEDGW_ERR_UNKNOWN_DRIVER: {
    area: 'drivers',
    message: 'No driver definition has this id.',
    hint: 'List the driver ids with `medgw drivers list`, or leave --driver out to use the generic profile driver.',
  },
  MEDGW_ERR_FRAME_TRUNCATED: {
    area: 'drivers',
    message: 'The frame is shorter than its flags announce.',
    hint: 'A field announced by a flag bit is missing: check the capture for a cut notification or a wrong flag.',
  },
  MEDGW_ERR_FRAME_TOO_LONG: {
    area: 'drivers',
    message: 'The frame carries bytes after the last field its flags announce.',
    hint: 'The device may set a flag wrongly or use a vendor extension; a driver quirk can describe it.',
  },
  MEDGW_ERR_RESERVED_VALUE: {
    area: 'drivers',
    message: 'The frame uses a value the specification reserves for future use.',
    hint: 'If a real device does this, describe it as a quirk in its driver definition (docs/adding-a-device.md).',
  },
  MEDGW_ERR_FLOAT_RANGE: {
    area: 'drivers',
    message: 'The number cannot be encoded as an IEEE 11073 SFLOAT or FLOAT at this precision.',
    hint: 'Choose a smaller exponent or a mantissa within ±2045 (SFLOAT) or ±8388605 (FLOAT).',
  },
  MEDGW_ERR_DATETIME: {
    area: 'drivers',
    message: 'The date and time fields are out of range.',
    hint: 'Month 1-12, day 1-31, hours 0-23, minutes and seconds 0-59; 0 in year, month or day means unknown.',
  },
  MEDGW_ERR_UNIT: {
    area: 'drivers',
    message: 'The unit is not one this kind of reading may use.',
    hint: 'Use a UCUM unit listed for the kind in the payload schema (docs/mqtt-payloads.md).',
  },
  MEDGW_ERR_PAYLOAD_JSON: {
    area: 'mqtt',
    message: 'The JSON payload does not follow the medgw reading schema.',
    hint: 'See docs/mqtt-payloads.md; the message names the first field that is wrong.',
  },
  MEDGW_ERR_PAYLOAD_CBOR: {
    area: 'mqtt',
    message: 'The CBOR payload cannot be decoded or does not follow the medgw reading schema.',
    hint: 'Encode the same map as the JSON form (docs/mqtt-payloads.md) with a standard CBOR encoder.',
  },
  MEDGW_ERR_PAYLOAD_PROTOBUF: {
    area: 'mqtt',
    message: 'The protobuf payload cannot be decoded as a medgw.v1.Reading or misses a required field.',
    hint: 'Encode a medgw.v1.Reading from drivers/mqtt/reading.proto.',
  },
  MEDGW_ERR_PAYLOAD_TOO_LARGE: {
    area: 'mqtt',
    message: 'The payload is larger than a reading can be.',
    hint: 'Send one reading per message; the limit is 16 KiB.',
  },

  // --- quarantine reasons (a reading kept for a person to confirm, never sent silently) -----
  MEDGW_ERR_IMPLAUSIBLE_VALUE: {
    area: 'drivers',
    message: 'The value is outside the plausible range for this kind of reading.',
    hint: 'Usually a device or unit error; confirm or discard the reading on the quarantine page.',
  },
  MEDGW_ERR_TIME_IMPOSSIBLE: {
    area: 'drivers',
    message: 'The device time is impossible (unset clock, far past or in the future).',
    hint: 'Set the device clock; the reading keeps its original device time and is flagged untrusted.',
  },
  MEDGW_ERR_STATUS_SUPPRESSED: {
    area: 'drivers',
    message: 'The device marked this measurement as invalid, for demonstration or for testing.',
    hint: 'The reading is not clinical; it is kept in quarantine for inspection and not forwarded.',
  },
  MEDGW_ERR_CONTROL_SOLUTION: {
    area: 'drivers',
    message: 'The glucose sample is a control solution, not a patient result.',
    hint: 'Control-solution checks are never forwarded to the health record.',
  },
  MEDGW_ERR_HOUSEHOLD_USER: {
    area: 'gateway',
    message: 'The reading names a household user that is not mapped to a patient, or names none.',
    hint: 'Assign the device user index to a patient, then confirm the reading on the quarantine page.',
  },
} as const satisfies Record<`MEDGW_ERR_${string}`, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The error every medgw module throws or returns: a stable code, a specific message and the hint. */
export class MedgwError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    const entry: ErrorEntry = ERROR_CATALOGUE[code];
    super(message ?? entry.message);
    this.name = 'MedgwError';
    this.code = code;
    this.hint = entry.hint;
    this.details = details;
  }

  /** The shape written to JSON outputs and API answers. */
  toJSON(): { code: ErrorCode; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isMedgwError(e: unknown): e is MedgwError {
  return e instanceof MedgwError;
}
