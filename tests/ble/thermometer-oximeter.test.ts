/** The simulated thermometer and pulse oximeter under real noble. */
import { describe, expect, it } from 'vitest';
import { SimOximeter } from '../../simulators/ble/oximeter.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimThermometer } from '../../simulators/ble/thermometer.ts';
import { connectAll, discover, must, record, until } from './helpers.ts';

describe('thermometer', () => {
  it('indicates a FLOAT temperature with time stamp and type; °F after a unit switch', async () => {
    const radio = createVirtualRadio({ now: () => Date.UTC(2026, 10, 22, 7, 30, 0) });
    const thermo = radio.add(new SimThermometer({ address: 'E1:00:00:00:03:01' }));
    thermo.measure({ celsius: 37.6 });
    thermo.switchUnit('[degF]');
    thermo.measure({ celsius: 37 });
    const chars = await connectAll(await discover(createSimNoble(radio), ['1809']));
    const tm = must(chars.get('2a1c'), '2a1c');
    expect((await must(chars.get('2a1d'), '2a1d').readAsync()).toString('hex')).toBe('09');
    const log = record([tm]);
    await tm.subscribeAsync();
    await until(() => log.length === 2, 'two temperatures');
    // flags 06 (time stamp + type), 37.60 °C = B0 0E 00 FE, 2026-11-22 08:30:00 local, tympanum.
    expect(log[0]![1]).toBe('06' + 'b00e00fe' + 'ea070b16081e00' + '09');
    // flags 07 (°F), 98.6 °F = 986 × 10^-1 = DA 03 00 FF.
    expect(log[1]![1].slice(0, 10)).toBe('07da0300ff');
  });
});

describe('pulse oximeter', () => {
  it('indicates spot-checks and notifies continuous samples; a 1970 clock sets "device clock not set"', async () => {
    const radio = createVirtualRadio();
    const ox = radio.add(new SimOximeter({ address: 'E1:00:00:00:03:02', faults: { clock: '1970' } }));
    const chars = await connectAll(await discover(createSimNoble(radio), ['1822']));
    const spot = must(chars.get('2a5e'), '2a5e');
    const cont = must(chars.get('2a5f'), '2a5f');
    expect(spot.properties).toEqual(['indicate']);
    expect(cont.properties).toEqual(['notify']);
    const features = await must(chars.get('2a60'), '2a60').readAsync();
    expect(features.readUInt16LE(0)).toBe(0x004b);
    expect(features).toHaveLength(2 + 2 + 3);
    const log = record([spot, cont]);
    await spot.subscribeAsync();
    await cont.subscribeAsync();
    ox.measure({ spo2: 97, pulse: 72, pulseAmplitudeIndex: { mantissa: 35, exponent: -1 } });
    await until(() => log.length === 1, 'spot-check');
    expect(await ox.sample({ spo2: 96, pulse: 70, fast: { spo2: 95, pulse: 71 } })).toBe(true);
    await until(() => log.length === 2, 'continuous sample');
    const s = Buffer.from(log[0]![1], 'hex');
    expect(s[0]).toBe(0x01 | 0x08 | 0x10);
    expect(s.readUInt16LE(1)).toBe(97);
    expect(s.readUInt16LE(5)).toBe(1970);
    expect(s.readUInt16LE(12)).toBe(0xf023);
    expect(log[1]).toEqual(['2a5f', '01' + '6000' + '4600' + '5f00' + '4700']);
  });
});
