/**
 * Fault injection seen from a central: wrong device clocks, corrupt and truncated frames that the
 * drivers refuse with a coded error, special values that decode to a data-absent reason.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../drivers/decode.ts';
import { isMedgwError } from '../../kernel/errors.ts';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimThermometer } from '../../simulators/ble/thermometer.ts';
import { connectAll, discover, must, record, until } from './helpers.ts';

const NOW = Date.UTC(2026, 10, 22, 7, 0, 0);

async function readClock(faults: object, utcOffsetMinutes?: number): Promise<Buffer> {
  const radio = createVirtualRadio({ now: () => NOW });
  radio.add(
    new SimCuff({
      address: 'A4:C1:38:00:04:01',
      faults,
      ...(utcOffsetMinutes !== undefined ? { utcOffsetMinutes } : {}),
    }),
  );
  const chars = await connectAll(await discover(createSimNoble(radio), ['1810']));
  return must(chars.get('2a2b'), '2a2b').readAsync();
}

describe('simulated faults', () => {
  it('runs the device clock at local time, offset, 1970 or 2094', async () => {
    expect((await readClock({})).subarray(0, 7).toString('hex')).toBe('ea070b16080000'); // 08:00 local (UTC+1)
    expect((await readClock({}, 0)).subarray(0, 7).toString('hex')).toBe('ea070b16070000');
    expect((await readClock({ clockOffsetMinutes: 90 })).subarray(0, 7).toString('hex')).toBe(
      'ea070b16091e00',
    );
    expect((await readClock({ clock: '1970' })).readUInt16LE(0)).toBe(1970);
    expect((await readClock({ clock: '2094' })).readUInt16LE(0)).toBe(2094);
  });

  it('sends truncated and corrupt frames that the drivers refuse with a coded error', async () => {
    for (const frame of ['truncate', 'corrupt'] as const) {
      const radio = createVirtualRadio();
      radio.add(
        new SimGlucometer({
          address: 'C0:26:DA:00:04:02',
          faults: { frame },
          records: [
            {
              baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: 0, seconds: 0 },
              concentration: mgdl(101),
            },
          ],
        }),
      );
      const chars = await connectAll(await discover(createSimNoble(radio), ['1808']));
      const [m, racp] = [must(chars.get('2a18'), '2a18'), must(chars.get('2a52'), '2a52')];
      const log = record([m, racp]);
      await m.subscribeAsync();
      await racp.subscribeAsync();
      await racp.writeAsync(Buffer.from('0101', 'hex'), false);
      await until(() => log.some(([u]) => u === '2a52'), 'end of transfer');
      const bytes = Buffer.from(
        must(
          log.find(([u]) => u === '2a18'),
          'frame',
        )[1],
        'hex',
      );
      let error: unknown;
      try {
        decodeFrame('2A18', bytes);
      } catch (e) {
        error = e;
      }
      expect(isMedgwError(error), `${frame} frame must be refused`).toBe(true);
      expect((error as { code: string }).code).toMatch(
        /^MEDGW_ERR_(FRAME_TRUNCATED|RESERVED_VALUE|FRAME_TOO_LONG)$/,
      );
    }
  });

  it('sends special values that decode to a data-absent reason, never a number', async () => {
    const radio = createVirtualRadio();
    const thermo = radio.add(new SimThermometer({ address: 'E1:00:00:00:04:03' }));
    thermo.measure({ value: { special: 'nres' } });
    const chars = await connectAll(await discover(createSimNoble(radio), ['1809']));
    const tm = must(chars.get('2a1c'), '2a1c');
    const log = record([tm]);
    await tm.subscribeAsync();
    await until(() => log.length === 1, 'temperature');
    const { fields } = decodeFrame('2A1C', Buffer.from(log[0]![1], 'hex'));
    expect(fields.temperature).toMatchObject({ absent: 'error' });
  });
});

describe('simulator input checks', () => {
  it('refuses readings a device could not send when they are made, with a coded error', async () => {
    const { SimScale } = await import('../../simulators/ble/scale.ts');
    expect(() => new SimScale({ address: 'D4:36:39:00:06:01' }).measure({ kg: 400 })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_SIM_OPTION' }),
    );
    expect(
      () =>
        new SimGlucometer({
          address: 'C0:26:DA:00:06:02',
          records: [
            { baseTime: { year: 2026, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0 }, sequence: 70000 },
          ],
        }),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_SIM_OPTION' }));
    await expect(
      new SimCuff({ address: 'A4:C1:38:00:06:03' }).measure({ systolic: 4001, diastolic: 80 }),
    ).rejects.toMatchObject({
      code: 'MEDGW_ERR_FLOAT_RANGE',
    });
    expect(() => new SimGlucometer({ address: 'bad' })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_SIM_OPTION' }),
    );
  });
});
