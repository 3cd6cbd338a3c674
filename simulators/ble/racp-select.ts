/**
 * The records a Record Access Control Point operator selects in a simulated device's store (GLS 1.0.1
 * §3.4 RACP procedures, shared by CGMS 1.0.1), or the RACP response code of a malformed request. The
 * glucometer and the CGM simulators differ only in the filter types they support.
 */
/** RACP op codes, operators, filter types and response codes (GLS 1.0.1 §3.4, CGMS 1.0.1). */
export const RACP = {
  REPORT: 0x01,
  DELETE: 0x02,
  ABORT: 0x03,
  COUNT: 0x04,
  COUNT_RESPONSE: 0x05,
  RESPONSE: 0x06,
  OP_NULL: 0x00,
  OP_ALL: 0x01,
  OP_LE: 0x02,
  OP_GE: 0x03,
  OP_RANGE: 0x04,
  OP_FIRST: 0x05,
  OP_LAST: 0x06,
  FILTER_SEQUENCE: 0x01,
  FILTER_USER_FACING_TIME: 0x02,
  SUCCESS: 0x01,
  OPCODE_NOT_SUPPORTED: 0x02,
  INVALID_OPERATOR: 0x03,
  OPERATOR_NOT_SUPPORTED: 0x04,
  INVALID_OPERAND: 0x05,
  NO_RECORDS: 0x06,
  ABORT_UNSUCCESSFUL: 0x07,
  OPERAND_NOT_SUPPORTED: 0x09,
} as const;

/** One RACP filter type: the width of one bound in the operand, the bound, and a record's key. */
export interface RacpFilter<R> {
  readonly width: number;
  bound(operand: Buffer, index: number): number;
  key(record: R): number;
}

/** Records in store order (oldest first), or a response code; `filterFor` names the supported filter types. */
export function selectRecords<R>(
  all: readonly R[],
  operator: number,
  operand: Buffer,
  filterFor: (filterType: number) => RacpFilter<R> | undefined,
): R[] | number {
  switch (operator) {
    case RACP.OP_NULL:
      return RACP.INVALID_OPERATOR;
    case RACP.OP_ALL:
      return operand.length === 0 ? [...all] : RACP.INVALID_OPERAND;
    case RACP.OP_FIRST:
      return operand.length === 0 ? all.slice(0, 1) : RACP.INVALID_OPERAND;
    case RACP.OP_LAST:
      return operand.length === 0 ? all.slice(-1) : RACP.INVALID_OPERAND;
    case RACP.OP_LE:
    case RACP.OP_GE:
    case RACP.OP_RANGE: {
      const type = operand[0];
      if (type === undefined) return RACP.INVALID_OPERAND;
      const f = filterFor(type);
      if (!f) return RACP.OPERAND_NOT_SUPPORTED;
      const count = operator === RACP.OP_RANGE ? 2 : 1;
      if (operand.length !== 1 + f.width * count) return RACP.INVALID_OPERAND;
      const lo = f.bound(operand, 0);
      if (operator === RACP.OP_LE) return all.filter((r) => f.key(r) <= lo);
      if (operator === RACP.OP_GE) return all.filter((r) => f.key(r) >= lo);
      const hi = f.bound(operand, 1);
      if (hi < lo) return RACP.INVALID_OPERAND;
      return all.filter((r) => f.key(r) >= lo && f.key(r) <= hi);
    }
    default:
      return RACP.OPERATOR_NOT_SUPPORTED;
  }
}

/** How a device answers on its RACP: a response code, the number of records, or their transfer. */
export interface RacpAnswers<R> {
  respond(op: number, code: number): void;
  count(n: number): void;
  report(records: R[]): void;
}

/**
 * What REPORT, DELETE and COUNT do with a selection (GLS 1.0.1 §3.4): a malformed request's code, the
 * count, "no records", the records deleted from `store`, or their report. One answer per request.
 */
export function answerSelection<R>(op: number, selected: R[] | number, store: R[], io: RacpAnswers<R>): void {
  if (typeof selected === 'number') io.respond(op, selected);
  else if (op === RACP.COUNT) io.count(selected.length);
  else if (selected.length === 0) io.respond(op, RACP.NO_RECORDS);
  else if (op === RACP.DELETE) {
    for (const r of selected) store.splice(store.indexOf(r), 1);
    io.respond(op, RACP.SUCCESS);
  } else io.report(selected);
}
