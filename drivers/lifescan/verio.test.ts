/**
 * LifeScan OneTouch Verio framing and records (drivers/lifescan/): the CRC against its documented vector,
 * the command packets against the documented request bytes, every refusal coded, records to readings,
 * and the collection protocol over a scripted meter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMedgwError } from '../../kernel/errors.ts';
import type { DeviceLink } from '../definitions/link.ts';
import type { AskOptions } from '../definitions/record-counter.ts';
import { parseHex, toHex } from '../reader.ts';
import { decodeLifescanFrame, encodeLifescanPacket, lifescanCrc } from './frame.ts';
import { verioRecordCounter } from './protocol.ts';
import {
  dateTimeToMeterSeconds,
  decodeVerioRecord,
  meterSecondsToDateTime,
  readU16Answer,
  readU32Answer,
  verioCommand,
} from './verio.ts';

const hex = (b: Uint8Array) => toHex(b).replace(/(..)(?!$)/g, '$1 ');

/** A response packet as the meter sends it: the command layout with a status and data. */
const answer = (status: number, data: number[] = []) => encodeLifescanPacket([status, ...data]);

describe('LifeScan framing', () => {
  it('computes the CRC of the documented vector: 02 06 06 03 → 0x41CD (Tidepool lib/crc.js, after J&J)', () => {
    expect(lifescanCrc(Uint8Array.of(0x02, 0x06, 0x06, 0x03))).toBe(0x41cd);
  });

  it('writes the documented requests after the BLE header byte 0x01 (glucometer-protocols onetouch-verio-2015.md)', () => {
    // READ-RTC-request = STX %x09 %x00 %x03 %x20 %x02 ETX checksum
    expect(hex(verioCommand.readTime()).slice(0, 23)).toBe('01 02 09 00 03 20 02 03');
    // READ-RECORD-COUNT-request = STX %x09 %x00 %x03 %x27 %x00 ETX checksum
    expect(hex(verioCommand.readRecordCount()).slice(0, 23)).toBe('01 02 09 00 03 27 00 03');
    // Tidepool: the record counter [0x0a, 0x02, 0x06], a record [0xB3, index LE].
    expect(hex(verioCommand.readRecordCounter()).slice(0, 26)).toBe('01 02 0a 00 03 0a 02 06 03');
    expect(hex(verioCommand.readRecord(1234)).slice(0, 26)).toBe('01 02 0a 00 03 b3 d2 04 03');
    expect(hex(verioCommand.writeTime(0x01020304)).slice(0, 35)).toBe('01 02 0d 00 03 20 01 04 03 02 01 03');
    // Every packet's CRC covers STX … ETX and reopens cleanly.
    for (const p of [verioCommand.readTime(), verioCommand.readRecord(7)]) {
      expect(decodeLifescanFrame(p).ack).toBe(false);
    }
  });

  it('refuses a bad CRC, a cut frame, a frame longer than announced and a missing STX with their codes', () => {
    const good = answer(0x06, [1, 2, 3, 4]);
    const badCrc = Uint8Array.from(good);
    badCrc[badCrc.length - 1] = (badCrc[badCrc.length - 1] ?? 0) ^ 0x01;
    const code = (b: Uint8Array) => {
      try {
        decodeLifescanFrame(b);
        return 'accepted';
      } catch (e) {
        return isMedgwError(e) ? e.code : 'uncoded';
      }
    };
    expect(code(badCrc)).toBe('MEDGW_ERR_LIFESCAN_CRC');
    expect(code(good.subarray(0, good.length - 1))).toBe('MEDGW_ERR_FRAME_TRUNCATED');
    expect(code(good.subarray(0, 4))).toBe('MEDGW_ERR_FRAME_TRUNCATED');
    expect(code(Uint8Array.from([...good, 0]))).toBe('MEDGW_ERR_FRAME_TOO_LONG');
    const noStx = Uint8Array.from(good);
    noStx[1] = 0;
    expect(code(noStx)).toBe('MEDGW_ERR_LIFESCAN_FRAME');
    expect(code(Uint8Array.of(0x06))).toBe('MEDGW_ERR_LIFESCAN_FRAME');
    expect(decodeLifescanFrame(Uint8Array.of(0x81))).toEqual({ ack: true });
  });

  it('never throws anything but a coded error on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeLifescanFrame(bytes);
          decodeVerioRecord(bytes, 1);
        } catch (e) {
          if (!isMedgwError(e)) throw e;
        }
      }),
    );
  });
});

describe('Verio answers and records', () => {
  it('reads the counters and the clock, refuses a non-success status', () => {
    expect(readU32Answer(answer(0x06, [0xd2, 0x04, 0, 0]), 'counter')).toBe(1234);
    expect(readU16Answer(answer(0x06, [3, 0]), 'count')).toBe(3);
    expect(() => readU16Answer(answer(0x06, [3]), 'count')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TRUNCATED' }),
    );
    expect(() => readU32Answer(answer(0x09), 'clock')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_LIFESCAN_REFUSED' }),
    );
  });

  it('counts meter time in seconds since 2000-01-01 (epoch 946684800), both ways', () => {
    expect(meterSecondsToDateTime(0)).toEqual({
      year: 2000,
      month: 1,
      day: 1,
      hours: 0,
      minutes: 0,
      seconds: 0,
    });
    const t = { year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 0 };
    expect(dateTimeToMeterSeconds(t)).toBe(848_650_500);
    expect(meterSecondsToDateTime(848_650_500)).toEqual(t);
  });

  it('turns a record into a glucose reading numbered with the index asked; 0 is no reading', () => {
    const rec = (mgdl: number, control = 0) =>
      answer(0x06, [0x04, 0x61, 0x95, 0x32, mgdl & 0xff, mgdl >> 8, control, 0, 0, 0, 0]);
    expect(decodeVerioRecord(rec(118), 42)).toEqual({
      kind: 'glucose',
      source: 'AF9DF7A3E59511E396B40002A5D5C51B',
      sequence: 42,
      deviceTime: { year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 0 },
      components: [{ name: 'glucose', value: { mantissa: 118, exponent: 0, value: 118 }, unit: 'mg/dL' }],
      final: true,
    });
    expect(decodeVerioRecord(rec(102, 1), 43)?.context).toEqual({ controlSolution: true });
    expect(decodeVerioRecord(rec(650), 44)).toMatchObject({
      components: [{ value: { value: 600 } }],
      flags: ['resultHigherThanDeviceCanProcess'],
    });
    expect(decodeVerioRecord(rec(12), 45)).toMatchObject({
      components: [{ value: { value: 20 } }],
      flags: ['resultLowerThanDeviceCanProcess'],
    });
    expect(decodeVerioRecord(rec(0), 46)).toBeUndefined();
  });
});

/** A scripted meter behind `ask`: answers each command from a table, or refuses everything. */
function scriptedMeter(options: { bonded: boolean; counter: number; held: number }) {
  const asked: string[] = [];
  const clockSets: unknown[] = [];
  const clockReads: unknown[] = [];
  const link = {
    deviceId: 'aa:bb',
    localTime: () => ({ year: 2026, month: 12, day: 3, hours: 12, minutes: 0, seconds: 0 }),
    clockSet: (t: unknown) => clockSets.push(t),
    clockRead: (t: unknown) => clockReads.push(t),
  } as unknown as DeviceLink;
  const ask = async (command: Uint8Array, what: string, opts: AskOptions = {}) => {
    asked.push(what);
    if (!options.bonded) return answer(0x09);
    const op = command[5];
    if (op === 0x20 && command[6] === 0x02) return answer(0x06, [0, 0, 0, 0x30]);
    if (op === 0x20 && command[6] === 0x01) {
      expect(opts.acknowledged).toBe(true);
      return Uint8Array.of(0x81);
    }
    if (op === 0x0a) return answer(0x06, [options.counter & 0xff, options.counter >> 8, 0, 0]);
    if (op === 0x27) return answer(0x06, [options.held, 0]);
    throw new Error(`unexpected command ${hex(command)}`);
  };
  return { asked, clockSets, clockReads, link, ask };
}

describe('Verio collection protocol', () => {
  it('reads the clock, sets it, then the counter and the number held: the indexes held', async () => {
    const m = scriptedMeter({ bonded: true, counter: 300, held: 5 });
    await expect(verioRecordCounter.open(m.ask, m.link)).resolves.toEqual({ first: 296, last: 300 });
    expect(m.asked).toEqual([
      'read the meter clock',
      'set the meter clock',
      'read the record counter',
      'read the record count',
    ]);
    expect(m.clockSets).toHaveLength(1);
    // 0x30000000 s after 2000-01-01: the meter's time read before it is set.
    expect(m.clockReads).toEqual([{ year: 2025, month: 7, day: 8, hours: 16, minutes: 12, seconds: 48 }]);
  });

  it('a meter that refuses its first command is not bonded: MEDGW_ERR_BLE_NOT_BONDED', async () => {
    const m = scriptedMeter({ bonded: false, counter: 0, held: 0 });
    await expect(verioRecordCounter.open(m.ask, m.link)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_NOT_BONDED',
    });
    expect(m.clockSets).toHaveLength(0);
  });

  it('acknowledges every answer that carries data, not a bare status', () => {
    expect(verioRecordCounter.afterAnswer?.(answer(0x06, [1, 0]))).toEqual(Uint8Array.of(0x81));
    expect(verioRecordCounter.afterAnswer?.(answer(0x06))).toBeUndefined();
    expect(verioRecordCounter.isAcknowledgement(parseHex('81'))).toBe(true);
    expect(verioRecordCounter.isAcknowledgement(answer(0x06))).toBe(false);
  });
});
