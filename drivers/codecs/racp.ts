/**
 * Record Access Control Point 0x2A52 (GLS v1.0.1 §3.4 and its RACP procedures; GSS "Record Access Control
 * Point"): Op Code (uint8), Operator (uint8), Operand (variable). Decodes both directions — requests the
 * collector writes and the indications the server answers with — and encodes requests for the gateway.
 * GLS filter types: 0x01 Sequence Number (uint16), 0x02 User Facing Time (Date Time); the Number of
 * Stored Records response carries a uint16 in GLS.
 */

import { MedgwError } from '../../kernel/errors.ts';
import type { CharacteristicCodec } from '../codec.ts';
import { compareDateTime, encodeDateTime } from '../datetime.ts';
import { ByteReader } from '../reader.ts';
import type { DeviceDateTime } from '../types.ts';
import { enumCode, enumName } from './bits.ts';

const WHAT = 'Record Access Control Point';

export const RACP_OP_CODES = {
  1: 'report-stored-records',
  2: 'delete-stored-records',
  3: 'abort-operation',
  4: 'report-number-of-stored-records',
  5: 'number-of-stored-records-response',
  6: 'response-code',
} as const;
export type RacpOpCode = (typeof RACP_OP_CODES)[keyof typeof RACP_OP_CODES];
export type RacpRequestOpCode = Exclude<RacpOpCode, 'number-of-stored-records-response' | 'response-code'>;

export const RACP_OPERATORS = {
  0: 'null',
  1: 'all-records',
  2: 'less-than-or-equal-to',
  3: 'greater-than-or-equal-to',
  4: 'within-range-of',
  5: 'first-record',
  6: 'last-record',
} as const;
export type RacpOperator = (typeof RACP_OPERATORS)[keyof typeof RACP_OPERATORS];

export const RACP_FILTER_TYPES = {
  1: 'sequence-number',
  2: 'user-facing-time',
} as const;
export type RacpFilterType = (typeof RACP_FILTER_TYPES)[keyof typeof RACP_FILTER_TYPES];

export const RACP_RESPONSE_CODES = {
  1: 'success',
  2: 'op-code-not-supported',
  3: 'invalid-operator',
  4: 'operator-not-supported',
  5: 'invalid-operand',
  6: 'no-records-found',
  7: 'abort-unsuccessful',
  8: 'procedure-not-completed',
  9: 'operand-not-supported',
} as const;
export type RacpResponseCode = (typeof RACP_RESPONSE_CODES)[keyof typeof RACP_RESPONSE_CODES];

/** A filter of a request with operator ≤ (maximum), ≥ (minimum) or within range (both, inclusive). */
export type RacpFilter =
  | { readonly type: 'sequence-number'; readonly minimum?: number; readonly maximum?: number }
  | {
      readonly type: 'user-facing-time';
      readonly minimum?: DeviceDateTime;
      readonly maximum?: DeviceDateTime;
    };

export interface RacpRequestFields {
  readonly opCode: RacpRequestOpCode;
  readonly operator: RacpOperator;
  readonly filter?: RacpFilter;
}

export interface RacpNumberResponseFields {
  readonly opCode: 'number-of-stored-records-response';
  readonly operator: 'null';
  readonly numberOfStoredRecords: number;
}

export interface RacpResponseCodeFields {
  readonly opCode: 'response-code';
  readonly operator: 'null';
  /** The op code being answered: its name, or its number when the request used a reserved op code. */
  readonly requestOpCode: RacpOpCode | number;
  readonly responseCodeValue: RacpResponseCode;
}

export type RacpFields = RacpRequestFields | RacpNumberResponseFields | RacpResponseCodeFields;

function invalid(message: string, details?: Record<string, unknown>): MedgwError {
  return new MedgwError('MEDGW_ERR_RACP_INVALID', `${WHAT}: ${message}`, details);
}

const FILTERED_OPERATORS: ReadonlySet<RacpOperator> = new Set([
  'less-than-or-equal-to',
  'greater-than-or-equal-to',
  'within-range-of',
]);

function readFilter(r: ByteReader, operator: RacpOperator): RacpFilter {
  const type = enumName(WHAT, 'filterType', RACP_FILTER_TYPES, r.u8('filterType'));
  const read =
    type === 'sequence-number'
      ? (field: string) => r.u16(field)
      : (field: string): DeviceDateTime => r.dateTime(field);
  let minimum: number | DeviceDateTime | undefined;
  let maximum: number | DeviceDateTime | undefined;
  if (operator === 'less-than-or-equal-to') maximum = read('filter.maximum');
  else if (operator === 'greater-than-or-equal-to') minimum = read('filter.minimum');
  else {
    minimum = read('filter.minimum');
    maximum = read('filter.maximum');
  }
  const filter = {
    type,
    ...(minimum !== undefined ? { minimum } : {}),
    ...(maximum !== undefined ? { maximum } : {}),
  } as RacpFilter;
  checkRange(filter);
  return filter;
}

/** Within-range operands must not be reversed (GLS RACP: otherwise "Invalid Operand"). */
function checkRange(filter: RacpFilter): void {
  if (filter.minimum === undefined || filter.maximum === undefined) return;
  const reversed =
    filter.type === 'sequence-number'
      ? filter.minimum > filter.maximum
      : compareDateTime(filter.minimum, filter.maximum) > 0;
  if (reversed) {
    throw invalid(
      `the range minimum is after its maximum (${JSON.stringify(filter)}); give the lower bound first`,
    );
  }
}

export function decodeRacp(bytes: Uint8Array): RacpFields {
  const r = new ByteReader(bytes, WHAT);
  const opCode = enumName(WHAT, 'opCode', RACP_OP_CODES, r.u8('opCode'));
  const operator = enumName(WHAT, 'operator', RACP_OPERATORS, r.u8('operator'));
  switch (opCode) {
    case 'number-of-stored-records-response': {
      if (operator !== 'null') throw invalid(`a ${opCode} must use operator null, not ${operator}`);
      const numberOfStoredRecords = r.u16('numberOfStoredRecords');
      r.end();
      return { opCode, operator, numberOfStoredRecords };
    }
    case 'response-code': {
      if (operator !== 'null') throw invalid(`a ${opCode} must use operator null, not ${operator}`);
      const requestRaw = r.u8('requestOpCode');
      const responseCodeValue = enumName(
        WHAT,
        'responseCodeValue',
        RACP_RESPONSE_CODES,
        r.u8('responseCodeValue'),
      );
      r.end();
      const known = (RACP_OP_CODES as Readonly<Record<number, RacpOpCode>>)[requestRaw];
      return { opCode, operator, requestOpCode: known ?? requestRaw, responseCodeValue };
    }
    case 'abort-operation': {
      if (operator !== 'null') throw invalid(`abort-operation must use operator null, not ${operator}`);
      r.end();
      return { opCode, operator };
    }
    default: {
      if (operator === 'null')
        throw invalid(`${opCode} needs an operator (all-records, ≤, ≥, range, first or last)`);
      const filter = FILTERED_OPERATORS.has(operator) ? readFilter(r, operator) : undefined;
      r.end();
      return { opCode, operator, ...(filter ? { filter } : {}) };
    }
  }
}

export interface RacpRequest {
  readonly op: RacpRequestOpCode;
  /** Defaults to `null` for abort-operation; required otherwise. */
  readonly operator?: RacpOperator;
  readonly filter?: RacpFilter;
}

function u16(value: unknown, what: string): number[] {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw invalid(`${what} must be a sequence number 0-65535, got ${String(value)}`);
  }
  return [value & 0xff, value >> 8];
}

function encodeFilterValue(
  filter: RacpFilter,
  value: number | DeviceDateTime | undefined,
  what: string,
): number[] {
  if (value === undefined) throw invalid(`${what} is required for this operator`);
  if (filter.type === 'sequence-number') return u16(value, what);
  if (typeof value !== 'object') throw invalid(`${what} must be a date-time for a user-facing-time filter`);
  return [...encodeDateTime(value)];
}

/**
 * Encodes a RACP request the gateway writes, e.g. report all `{op:'report-stored-records',
 * operator:'all-records'}` → `01 01`; report from sequence 10 `{…, operator:'greater-than-or-equal-to',
 * filter:{type:'sequence-number', minimum:10}}` → `01 03 01 0a 00`; abort `{op:'abort-operation'}` → `03 00`.
 */
export function encodeRacpRequest(request: RacpRequest): Uint8Array {
  const op = enumCode(RACP_OP_CODES, request.op);
  if (op === undefined || op > 4) {
    throw invalid(
      `"${String(request.op)}" is not a request op code; use report-stored-records, delete-stored-records, abort-operation or report-number-of-stored-records`,
    );
  }
  const operatorName: RacpOperator | undefined =
    request.operator ?? (request.op === 'abort-operation' ? 'null' : undefined);
  const operator = operatorName === undefined ? undefined : enumCode(RACP_OPERATORS, operatorName);
  if (operatorName === undefined || operator === undefined) {
    throw invalid(`${request.op} needs an operator; got ${String(request.operator)}`);
  }
  if (request.op === 'abort-operation') {
    if (operatorName !== 'null' || request.filter)
      throw invalid('abort-operation takes operator null and no filter');
    return Uint8Array.of(op, 0);
  }
  if (operatorName === 'null') throw invalid(`${request.op} cannot use operator null`);
  if (!FILTERED_OPERATORS.has(operatorName)) {
    if (request.filter) throw invalid(`operator ${operatorName} takes no filter`);
    return Uint8Array.of(op, operator);
  }
  const filter = request.filter;
  if (!filter) throw invalid(`operator ${operatorName} needs a filter (sequence-number or user-facing-time)`);
  const filterType = enumCode(RACP_FILTER_TYPES, filter.type);
  if (filterType === undefined) throw invalid(`unknown filter type "${String(filter.type)}"`);
  const bytes = [op, operator, filterType];
  if (operatorName === 'less-than-or-equal-to') {
    if (filter.minimum !== undefined) throw invalid('operator ≤ takes only filter.maximum');
    bytes.push(...encodeFilterValue(filter, filter.maximum, 'filter.maximum'));
  } else if (operatorName === 'greater-than-or-equal-to') {
    if (filter.maximum !== undefined) throw invalid('operator ≥ takes only filter.minimum');
    bytes.push(...encodeFilterValue(filter, filter.minimum, 'filter.minimum'));
  } else {
    bytes.push(...encodeFilterValue(filter, filter.minimum, 'filter.minimum'));
    bytes.push(...encodeFilterValue(filter, filter.maximum, 'filter.maximum'));
    checkRange(filter);
  }
  return Uint8Array.from(bytes);
}

/**
 * The request that fetches the records after a stored cursor (the last sequence number committed):
 * `01 03 01 <n+1>` (GLS collector procedure), or report all when there is no cursor yet or the
 * sequence number space is exhausted (0xFFFF: the meter wraps; re-sent records collapse by reading id).
 */
export function racpReportAfter(lastSequence: number | undefined): Uint8Array {
  if (lastSequence === undefined || lastSequence === 0xffff) {
    return encodeRacpRequest({ op: 'report-stored-records', operator: 'all-records' });
  }
  u16(lastSequence, 'the cursor');
  return encodeRacpRequest({
    op: 'report-stored-records',
    operator: 'greater-than-or-equal-to',
    filter: { type: 'sequence-number', minimum: lastSequence + 1 },
  });
}

export const racp: CharacteristicCodec<RacpFields> = {
  uuid: '2A52',
  name: 'record-access-control-point',
  spec: 'GLS v1.0.1 §3.4 Record Access Control Point; GSS Record Access Control Point (0x2A52)',
  decode: decodeRacp,
};
