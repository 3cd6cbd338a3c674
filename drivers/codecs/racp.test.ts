import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../reader.ts';
import type { DeviceDateTime } from '../types.ts';
import {
  decodeRacp,
  encodeRacpRequest,
  type RacpOperator,
  type RacpRequest,
  type RacpRequestOpCode,
  racpReportAfter,
} from './racp.ts';

const hex = (r: RacpRequest) => toHex(encodeRacpRequest(r));

describe('Record Access Control Point 0x2A52 encoder', () => {
  // Expected bytes: Nordic Android-BLE-Common-Library RecordAccessControlPointData builders and the GLS
  // collector procedure (report all 01 01, from N 01 03 01 <N LE>, count 04 01, abort 03 00).
  it('encodes the requests a collector sends', () => {
    expect(hex({ op: 'report-stored-records', operator: 'all-records' })).toBe('0101');
    expect(
      hex({
        op: 'report-stored-records',
        operator: 'greater-than-or-equal-to',
        filter: { type: 'sequence-number', minimum: 10 },
      }),
    ).toBe('0103010a00');
    expect(hex({ op: 'report-number-of-stored-records', operator: 'all-records' })).toBe('0401');
    expect(
      hex({
        op: 'report-number-of-stored-records',
        operator: 'greater-than-or-equal-to',
        filter: { type: 'sequence-number', minimum: 0x1234 },
      }),
    ).toBe('0403013412');
    expect(hex({ op: 'delete-stored-records', operator: 'all-records' })).toBe('0201');
    expect(hex({ op: 'abort-operation' })).toBe('0300');
    expect(hex({ op: 'report-stored-records', operator: 'last-record' })).toBe('0106');
    expect(
      hex({
        op: 'report-stored-records',
        operator: 'within-range-of',
        filter: { type: 'sequence-number', minimum: 5, maximum: 300 },
      }),
    ).toBe('01040105002c01');
  });

  it('asks for the records after a cursor, or for all of them without one', () => {
    expect(toHex(racpReportAfter(undefined))).toBe('0101');
    expect(toHex(racpReportAfter(9))).toBe('0103010a00');
    expect(toHex(racpReportAfter(0xfffe))).toBe('010301ffff');
    expect(toHex(racpReportAfter(0xffff))).toBe('0101');
    expect(() => racpReportAfter(-1)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_RACP_INVALID' }));
  });

  it('encodes a user-facing-time range as two Date Time operands', () => {
    const from: DeviceDateTime = { year: 2019, month: 2, day: 27, hours: 0, minutes: 0, seconds: 0 };
    const to: DeviceDateTime = { year: 2019, month: 2, day: 27, hours: 23, minutes: 59, seconds: 59 };
    expect(
      hex({
        op: 'report-stored-records',
        operator: 'within-range-of',
        filter: { type: 'user-facing-time', minimum: from, maximum: to },
      }),
    ).toBe('010402e307021b000000e307021b173b3b');
  });

  it('refuses requests GLS does not allow, with a coded error', () => {
    const bad: RacpRequest[] = [
      { op: 'report-stored-records' },
      { op: 'report-stored-records', operator: 'null' },
      { op: 'report-stored-records', operator: 'greater-than-or-equal-to' },
      {
        op: 'report-stored-records',
        operator: 'all-records',
        filter: { type: 'sequence-number', minimum: 1 },
      },
      {
        op: 'report-stored-records',
        operator: 'less-than-or-equal-to',
        filter: { type: 'sequence-number', minimum: 1 },
      },
      {
        op: 'report-stored-records',
        operator: 'within-range-of',
        filter: { type: 'sequence-number', minimum: 9, maximum: 2 },
      },
      {
        op: 'report-stored-records',
        operator: 'greater-than-or-equal-to',
        filter: { type: 'sequence-number', minimum: 70000 },
      },
      { op: 'abort-operation', operator: 'all-records' },
      { op: 'response-code' as RacpRequestOpCode, operator: 'null' },
    ];
    for (const request of bad) {
      expect(() => encodeRacpRequest(request), JSON.stringify(request)).toThrow(
        expect.objectContaining({ code: 'MEDGW_ERR_RACP_INVALID' }),
      );
    }
    expect(() =>
      encodeRacpRequest({
        op: 'report-stored-records',
        operator: 'greater-than-or-equal-to',
        filter: {
          type: 'user-facing-time',
          minimum: { year: 2019, month: 13, day: 1, hours: 0, minutes: 0, seconds: 0 },
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_DATETIME' }));
  });

  it('every request it encodes decodes back to the same request (property)', () => {
    const op = fc.constantFrom<RacpRequestOpCode>(
      'report-stored-records',
      'delete-stored-records',
      'report-number-of-stored-records',
    );
    const simple = fc.constantFrom<RacpOperator>('all-records', 'first-record', 'last-record');
    const seq = fc.integer({ min: 0, max: 0xffff });
    const request = fc.oneof(
      fc.record({ op, operator: simple }),
      fc.record({
        op,
        operator: fc.constant<RacpOperator>('greater-than-or-equal-to'),
        filter: seq.map((minimum) => ({ type: 'sequence-number' as const, minimum })),
      }),
      fc.record({
        op,
        operator: fc.constant<RacpOperator>('less-than-or-equal-to'),
        filter: seq.map((maximum) => ({ type: 'sequence-number' as const, maximum })),
      }),
      fc.record({
        op,
        operator: fc.constant<RacpOperator>('within-range-of'),
        filter: fc.tuple(seq, seq).map(([a, b]) => ({
          type: 'sequence-number' as const,
          minimum: Math.min(a, b),
          maximum: Math.max(a, b),
        })),
      }),
      fc.constant<RacpRequest>({ op: 'abort-operation', operator: 'null' }),
    );
    fc.assert(
      fc.property(request, (r) => {
        const { op: opCode, ...rest } = r;
        expect(decodeRacp(encodeRacpRequest(r))).toEqual({ opCode, ...rest });
      }),
    );
  });
});

describe('Record Access Control Point 0x2A52 decoder', () => {
  it('names the request op code a response answers', () => {
    expect(decodeRacp(Uint8Array.of(6, 0, 4, 1))).toEqual({
      opCode: 'response-code',
      operator: 'null',
      requestOpCode: 'report-number-of-stored-records',
      responseCodeValue: 'success',
    });
  });

  it('refuses an abort with an operator or an operand', () => {
    expect(() => decodeRacp(Uint8Array.of(3, 1))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RACP_INVALID' }),
    );
    expect(() => decodeRacp(Uint8Array.of(3, 0, 1))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TOO_LONG' }),
    );
  });

  it('refuses an operand after an operator that takes none', () => {
    expect(() => decodeRacp(Uint8Array.of(1, 1, 1, 2, 0))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TOO_LONG' }),
    );
  });

  it('refuses op code 0 as reserved, with a message naming the known op codes', () => {
    expect(() => decodeRacp(Uint8Array.of(0, 0))).toThrow(/opCode 0 .*reserved.*report-stored-records/);
  });
});
