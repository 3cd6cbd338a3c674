import { describe, expect, it } from 'vitest';
import { ByteWriter, encodeBatteryLevel, floatRaw, sfloatRaw } from './encode.ts';

describe('simulator number encoders', () => {
  it('encodes the SFLOAT examples of the HL7 PHD IG (FLOATS.md)', () => {
    expect(sfloatRaw(2)).toBe(0x0002);
    expect(sfloatRaw({ mantissa: 20, exponent: -1 })).toBe(0xf014);
    expect(sfloatRaw({ mantissa: 200, exponent: -2 })).toBe(0xe0c8);
    expect(sfloatRaw({ mantissa: 2, exponent: 1 })).toBe(0x1002);
    expect(sfloatRaw(1234)).toBe(0x04d2);
    expect(sfloatRaw(-1234)).toBe(0x0b2e);
  });

  it('picks the exponent closest to zero for plain numbers, and goes positive for large ones', () => {
    expect(sfloatRaw(37.5)).toBe(0xf177); // 375 × 10^-1
    expect(sfloatRaw(20000)).toBe(0x17d0); // 2000 × 10^1
  });

  it('encodes the special values (IEEE 11073-20601 table F.5)', () => {
    expect(sfloatRaw({ special: 'nan' })).toBe(0x07ff);
    expect(sfloatRaw({ special: 'nres' })).toBe(0x0800);
    expect(sfloatRaw({ special: '+inf' })).toBe(0x07fe);
    expect(sfloatRaw({ special: '-inf' })).toBe(0x0802);
    expect(sfloatRaw({ special: 'reserved' })).toBe(0x0801);
    expect(floatRaw({ special: 'nan' })).toBe(0x007fffff);
    expect(floatRaw({ special: '-inf' })).toBe(0x00800002);
  });

  it('encodes FLOAT as the Nordic HTS test expects: 37.60 °C = B0 0E 00 FE', () => {
    expect(new ByteWriter().float({ mantissa: 3760, exponent: -2 }).toBuffer().toString('hex')).toBe(
      'b00e00fe',
    );
    expect(floatRaw({ mantissa: 20, exponent: -1 })).toBe(0xff000014);
    expect(floatRaw(-1234)).toBe(0x00fffb2e);
  });

  it('refuses what it cannot encode exactly, with a coded error', () => {
    expect(() => sfloatRaw({ mantissa: 2046, exponent: 0 })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_FLOAT_RANGE' }),
    );
    expect(() => sfloatRaw(1 / 3)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FLOAT_RANGE' }));
    expect(() => sfloatRaw(Number.NaN)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FLOAT_RANGE' }));
    expect(() => new ByteWriter().u8(256)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_SIM_OPTION' }));
  });

  it('writes little-endian integers and Date Time', () => {
    const b = new ByteWriter()
      .u16(0x1234)
      .s16(-2)
      .u24(0x010203)
      .dateTime({ year: 2026, month: 11, day: 22, hours: 8, minutes: 15, seconds: 30 })
      .toBuffer();
    expect(b.toString('hex')).toBe('3412' + 'feff' + '030201' + 'ea070b16080f1e');
  });

  it('writes Battery Level as one uint8 percent and refuses the reserved range (BAS 1.0)', () => {
    expect(encodeBatteryLevel(0).toString('hex')).toBe('00');
    expect(encodeBatteryLevel(57).toString('hex')).toBe('39');
    expect(encodeBatteryLevel(100).toString('hex')).toBe('64');
    expect(() => encodeBatteryLevel(101)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_SIM_OPTION' }));
    expect(() => encodeBatteryLevel(2.5)).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_SIM_OPTION' }));
  });
});
