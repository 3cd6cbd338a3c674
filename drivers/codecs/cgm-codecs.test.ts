/**
 * The CGM codecs beyond the fixtures: the E2E-CRC parameters against the CRC catalogue's check value,
 * the decoders under each CRC expectation a collector can state (fast-check: only MedgwErrors come out),
 * the Specific Ops requests against hand-written octets, and the simulator's encoders (written apart)
 * round-tripping arbitrary records through the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, MedgwError } from '../../kernel/errors.ts';
import { encodeCgmMeasurement, e2eCrc as simulatorCrc } from '../../simulators/ble/cgm.ts';
import { toHex } from '../reader.ts';
import { cgmCrc } from './cgm-crc.ts';
import { decodeCgmFeature } from './cgm-feature.ts';
import { decodeCgmMeasurement } from './cgm-measurement.ts';
import { decodeCgmSessionRunTime } from './cgm-session-run-time.ts';
import { decodeCgmSessionStartTime } from './cgm-session-start-time.ts';
import { type CgmOpsRequest, decodeCgmOps, encodeCgmOpsRequest } from './cgm-specific-ops.ts';
import { decodeCgmStatus } from './cgm-status.ts';

const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'ascii'));

describe('E2E-CRC', () => {
  it('is CRC-16/MCRF4XX: check value 0x6F91 over "123456789" (reveng CRC catalogue)', () => {
    expect(cgmCrc(ascii('123456789'))).toBe(0x6f91);
  });

  it('gives 0x043E for the published Roche frame (nRF Connect issue #174)', () => {
    expect(cgmCrc(Buffer.from('0d4373002c010324001a00', 'hex'))).toBe(0x043e);
  });

  it('the table form equals the simulator bit loop on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(cgmCrc(b)).toBe(simulatorCrc(b));
      }),
    );
  });
});

describe('CGM decoders under each CRC expectation', () => {
  const expectations = [undefined, true, false] as const;
  const decoders: Record<string, (b: Uint8Array, crc: boolean | undefined) => unknown> = {
    '2AA7': (b, crc) => decodeCgmMeasurement(b, { e2eCrc: crc }),
    '2AA8': (b) => decodeCgmFeature(b),
    '2AA9': (b, crc) => decodeCgmStatus(b, undefined, crc),
    '2AAA': (b, crc) => decodeCgmSessionStartTime(b, crc),
    '2AAB': (b, crc) => decodeCgmSessionRunTime(b, crc),
    '2AAC': (b, crc) => decodeCgmOps(b, undefined, crc),
  };
  for (const [uuid, decode] of Object.entries(decoders)) {
    it(`${uuid}: arbitrary bytes decode or throw a catalogued MedgwError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 32 }), fc.constantFrom(...expectations), (bytes, crc) => {
          try {
            decode(bytes, crc);
          } catch (error) {
            expect(error).toBeInstanceOf(MedgwError);
            expect(Object.keys(ERROR_CATALOGUE)).toContain((error as MedgwError).code);
          }
        }),
        { numRuns: 1000 },
      );
    });
  }

  it('a record without the CRC the Feature announces is refused; one with it is refused when none is announced', () => {
    // 100 mg/dL at 10 min, Size 6: no room for a CRC.
    expect(() => decodeCgmMeasurement(Buffer.from('060064000a00', 'hex'), { e2eCrc: true })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_CGM_CRC' }),
    );
    // The Roche frame carries its CRC: told there is none, its last two octets are too many.
    expect(() =>
      decodeCgmMeasurement(Buffer.from('0d4373002c010324001a003e04', 'hex'), { e2eCrc: false }),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TOO_LONG' }));
    expect(() => decodeCgmStatus(Buffer.from('0500010000', 'hex'), undefined, true)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_CGM_CRC' }),
    );
  });
});

describe('CGM Specific Ops Control Point requests', () => {
  // Octets from the CGMS op code table: op code, then its operand little-endian.
  const cases: [CgmOpsRequest, string][] = [
    [{ op: 'start-session' }, '1a'],
    [{ op: 'stop-session' }, '1b'],
    [{ op: 'set-communication-interval', minutes: 5 }, '0105'],
    [{ op: 'get-communication-interval' }, '02'],
    [{ op: 'get-glucose-calibration-value', recordNumber: 0xffff }, '05ffff'],
    [{ op: 'set-hypo-alert-level', level: { mantissa: 70, exponent: 0 } }, '0d4600'],
    [{ op: 'set-rate-of-increase-alert-level', level: { mantissa: 20, exponent: -1 } }, '1614f0'],
    [
      {
        op: 'set-glucose-calibration-value',
        glucose: { mantissa: 98, exponent: 0 },
        calibrationTime: 720,
        type: 1,
        sampleLocation: 1,
      },
      '046200d0021100000000' + '00',
    ],
  ];
  for (const [request, hex] of cases) {
    it(`${request.op} → ${hex}`, () => {
      expect(toHex(encodeCgmOpsRequest(request))).toBe(hex);
      const withCrc = encodeCgmOpsRequest(request, true);
      expect(toHex(withCrc.subarray(0, -2))).toBe(hex);
      const crc = simulatorCrc(withCrc.subarray(0, -2));
      expect([...withCrc.subarray(-2)]).toEqual([crc & 0xff, crc >> 8]);
      expect(decodeCgmOps(withCrc, undefined, true).opCode).toBe(request.op);
    });
  }

  it('refuses a response op code and an operand out of range', () => {
    expect(() => encodeCgmOpsRequest({ op: 'response-code' } as unknown as CgmOpsRequest)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_CGM_OPS_INVALID' }),
    );
    expect(() => encodeCgmOpsRequest({ op: 'set-communication-interval', minutes: 256 })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_CGM_OPS_INVALID' }),
    );
  });
});

describe('simulator encoder → CGM Measurement decoder', () => {
  const octet = fc.option(fc.integer({ min: 0, max: 0xff }), { nil: undefined });
  const record = fc.record({
    timeOffset: fc.integer({ min: 0, max: 0xffff }),
    glucose: fc.integer({ min: 20, max: 600 }),
    status: octet.map((v) => (v === undefined ? undefined : v & 0x3f)),
    calTemp: octet.map((v) => (v === undefined ? undefined : v & 0x7f)),
    warning: octet,
    trend: fc.option(fc.integer({ min: -50, max: 50 }), { nil: undefined }),
    quality: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  });
  it('several records per notification, with and without the CRC: every field comes back', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 4 }), fc.boolean(), (records, crc) => {
        const clean = records.map((r) =>
          Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)),
        ) as unknown as Parameters<typeof encodeCgmMeasurement>[0];
        const decoded = decodeCgmMeasurement(encodeCgmMeasurement(clean, crc), { e2eCrc: crc }).records;
        expect(decoded).toHaveLength(records.length);
        decoded.forEach((d, i) => {
          const r = records[i]!;
          expect(d.timeOffset).toBe(r.timeOffset);
          expect(d.glucoseConcentration).toMatchObject({ value: r.glucose });
          expect(d.trend === undefined ? undefined : (d.trend as { value: number }).value).toBe(r.trend);
          expect(d.quality === undefined ? undefined : (d.quality as { value: number }).value).toBe(
            r.quality,
          );
          expect(d.e2eCrc !== undefined).toBe(crc);
          const announced = r.status !== undefined || r.calTemp !== undefined || r.warning !== undefined;
          expect(d.sensorStatusAnnunciation !== undefined).toBe(announced);
        });
      }),
      { numRuns: 500 },
    );
  });
});
