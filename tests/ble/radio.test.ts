/**
 * The virtual radio seen through the real @stoprocent/noble: advertising and scan filtering, CCCD
 * semantics (notify vs indicate), writes with and without response, Device Information, Current Time,
 * link loss, adapter power-off.
 */
import type { AdapterState, Peripheral } from '@stoprocent/noble';
import { describe, expect, it } from 'vitest';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { connectAll, discover, must, nextDisconnect, record, until } from './helpers.ts';

describe('virtual radio under noble', () => {
  it('filters the scan by service UUID and reports the advertisement', async () => {
    const radio = createVirtualRadio();
    radio.add(new SimGlucometer({ address: 'C0:26:DA:00:00:02' }));
    radio.add(
      new SimScale({
        address: 'D4:36:39:00:00:03',
        advertisement: { localName: 'BF70', manufacturerData: Buffer.from('6101aa', 'hex'), rssi: -71 },
      }),
    );
    const noble = createSimNoble(radio);
    await noble.waitForPoweredOnAsync();
    const seen: Peripheral[] = [];
    noble.on('discover', (p: Peripheral) => seen.push(p));
    await noble.startScanningAsync(['181d'], false);
    await until(() => seen.length >= 1, 'a discovery');
    await new Promise((r) => setTimeout(r, 20));
    await noble.stopScanningAsync();
    expect(seen.map((p) => p.id)).toEqual(['d43639000003']);
    const scale = seen[0]!;
    expect(scale.address).toBe('d4:36:39:00:00:03');
    expect(scale.rssi).toBe(-71);
    expect(scale.advertisement.localName).toBe('BF70');
    expect(scale.advertisement.serviceUuids).toEqual(['181d']);
    expect(scale.advertisement.manufacturerData?.toString('hex')).toBe('6101aa');

    seen.length = 0;
    await noble.startScanningAsync([], false);
    await until(() => seen.length >= 2, 'both peripherals');
    await noble.stopScanningAsync();
    expect(seen.map((p) => p.id).sort()).toEqual(['c026da000002', 'd43639000003']);
  });

  it('delivers nothing when notifications (0x0001) are enabled on an indicate-only characteristic', async () => {
    const radio = createVirtualRadio();
    const cuff = radio.add(new SimCuff({ address: 'A4:C1:38:00:00:04' }));
    const noble = createSimNoble(radio);
    const chars = await connectAll(await discover(noble, ['1810']));
    const bpm = must(chars.get('2a35'), '2a35');
    expect(bpm.properties).toEqual(['indicate']);
    const cccd = must(
      (await bpm.discoverDescriptorsAsync()).find((d) => d.uuid === '2902'),
      'CCCD',
    );
    const log = record([bpm]);
    await cccd.writeValueAsync(Buffer.from([0x01, 0x00]));
    await cuff.measure({ systolic: 121, diastolic: 79, pulse: 61 });
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual([]);
    expect(cuff.pending).toHaveLength(1);
    // The right bit (indications) releases the stored reading at once.
    await cccd.writeValueAsync(Buffer.from([0x02, 0x00]));
    await until(() => log.length === 1, 'the indication');
    expect((await cccd.readValueAsync()).toString('hex')).toBe('0200');
    expect(cuff.pending).toHaveLength(0);
  });

  it('subscribe() writes the indication bit on an indicate-only characteristic, like the HCI bindings', async () => {
    const radio = createVirtualRadio();
    radio.add(new SimGlucometer({ address: 'C0:26:DA:00:00:05' }));
    const noble = createSimNoble(radio);
    const chars = await connectAll(await discover(noble, ['1808']));
    const racp = must(chars.get('2a52'), '2a52');
    const m = must(chars.get('2a18'), '2a18');
    await racp.subscribeAsync();
    await m.subscribeAsync();
    const [racpCccd] = await racp.discoverDescriptorsAsync();
    const [mCccd] = await m.discoverDescriptorsAsync();
    expect((await must(racpCccd, 'cccd').readValueAsync()).toString('hex')).toBe('0200');
    expect((await must(mCccd, 'cccd').readValueAsync()).toString('hex')).toBe('0100');
    // A characteristic without notify/indicate has no CCCD.
    expect(await must(chars.get('2a51'), '2a51').discoverDescriptorsAsync()).toEqual([]);
  });

  it('supports write without response (the binding still emits write) and refuses the wrong write type', async () => {
    const radio = createVirtualRadio();
    const commands: string[] = [];
    radio.add(
      new SimCuff({
        address: 'A4:C1:38:00:00:06',
        extraServices: [
          {
            uuid: 'fff0',
            characteristics: [
              {
                uuid: 'fff1',
                properties: ['writeWithoutResponse'],
                write: (d) => void commands.push(d.toString('hex')),
              },
            ],
          },
        ],
      }),
    );
    const noble = createSimNoble(radio);
    const chars = await connectAll(await discover(noble, ['1810']));
    const cmd = must(chars.get('fff1'), 'fff1');
    await cmd.writeAsync(Buffer.from([0xa5, 0x01]), true);
    await cmd.writeAsync(Buffer.from([0xa5, 0x02]), true);
    expect(commands).toEqual(['a501', 'a502']);
    await expect(cmd.writeAsync(Buffer.from([0x00]), false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0x03,
    });
    // The glucose feature is read-only.
    await expect(must(chars.get('2a49'), '2a49').writeAsync(Buffer.from([0]), false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
    });
  });

  it('exposes Device Information, and a Current Time that a write really sets and then notifies', async () => {
    let now = Date.UTC(2026, 10, 22, 7, 0, 0);
    const radio = createVirtualRadio({ now: () => now });
    radio.add(
      new SimGlucometer({
        address: 'C0:26:DA:00:00:07',
        info: { manufacturer: 'Roche', model: 'Guide', serial: '92301234', firmware: '02.01' },
        faults: { clock: '1970' },
      }),
    );
    const noble = createSimNoble(radio);
    const chars = await connectAll(await discover(noble, ['1808']));
    const read = async (uuid: string) => (await must(chars.get(uuid), uuid).readAsync()).toString();
    expect(await read('2a29')).toBe('Roche');
    expect(await read('2a24')).toBe('Guide');
    expect(await read('2a25')).toBe('92301234');
    expect(await read('2a26')).toBe('02.01');
    expect((await must(chars.get('2a23'), '2a23').readAsync()).toString('hex')).toBe('070000feffda26c0');

    const cts = must(chars.get('2a2b'), '2a2b');
    const before = await cts.readAsync();
    expect(before).toHaveLength(10);
    expect(before.readUInt16LE(0)).toBe(1970);
    const log = record([cts]);
    const writes: string[] = [];
    must(radio.get('C0:26:DA:00:00:07'), 'meter').on('write', (s, c, d) =>
      writes.push(`${s}/${c}=${(d as Buffer).toString('hex')}`),
    );
    await cts.subscribeAsync();
    // 2026-11-22 08:00:00 local, Sunday (7), fractions 0, adjust reason manual.
    await cts.writeAsync(Buffer.from('ea070b16080000070001', 'hex'), false);
    await until(() => log.length === 1, 'the Current Time notification');
    expect(log[0]![1].slice(0, 14)).toBe('ea070b16080000');
    expect(writes).toEqual(['1805/2a2b=ea070b16080000070001']);
    now += 90_000;
    const after = await cts.readAsync();
    expect(after.subarray(0, 7).toString('hex')).toBe('ea070b1608011e'); // 08:01:30
    await expect(cts.writeAsync(Buffer.from('ea070d16080000070001', 'hex'), false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
    });
  });

  it('refuses a clock write on a device whose Current Time is read-only', async () => {
    const radio = createVirtualRadio();
    radio.add(new SimCuff({ address: 'A4:C1:38:00:00:08', ctsWritable: false }));
    const noble = createSimNoble(radio);
    const chars = await connectAll(await discover(noble, ['1810']));
    const cts = must(chars.get('2a2b'), '2a2b');
    expect(cts.properties).toEqual(['read', 'notify']);
    await expect(cts.writeAsync(Buffer.from('ea070b16080000070001', 'hex'), false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
    });
  });

  it('reports a spontaneous link loss (reason 0x08), forgets CCCDs, and lets the central reconnect', async () => {
    const radio = createVirtualRadio();
    const meter = radio.add(new SimGlucometer({ address: 'C0:26:DA:00:00:09' }));
    const noble = createSimNoble(radio);
    const p = await discover(noble, ['1808']);
    let chars = await connectAll(p);
    await must(chars.get('2a18'), '2a18').subscribeAsync();
    expect(meter.connected).toBe(true);
    const lost = nextDisconnect(p);
    radio.linkLoss(p.id);
    expect(await lost).toBe(0x08);
    expect(p.state).toBe('disconnected');
    expect(meter.connected).toBe(false);
    await expect(must(chars.get('2a51'), '2a51').readAsync()).rejects.toThrow();
    chars = await connectAll(p);
    const [cccd] = await must(chars.get('2a18'), '2a18').discoverDescriptorsAsync();
    expect((await must(cccd, 'cccd').readValueAsync()).toString('hex')).toBe('0000');
    await p.disconnectAsync();
    expect(meter.connected).toBe(false);
  });

  it('emits state changes on adapter power-off and power-on, dropping links and refusing connections meanwhile', async () => {
    const radio = createVirtualRadio();
    radio.add(new SimGlucometer({ address: 'C0:26:DA:00:00:0A' }));
    const noble = createSimNoble(radio);
    const states: AdapterState[] = [];
    noble.on('stateChange', (s: AdapterState) => states.push(s));
    const p = await discover(noble, ['1808']);
    await p.connectAsync();
    const dropped = nextDisconnect(p);
    radio.powerOff();
    await dropped;
    await until(() => states.includes('poweredOff'), 'poweredOff');
    expect(noble.state).toBe('poweredOff');
    await expect(noble.startScanningAsync(['1808'], false)).rejects.toThrow(/poweredOff/);
    radio.powerOn();
    await until(() => states.at(-1) === 'poweredOn', 'poweredOn');
    expect(states).toEqual(['poweredOn', 'poweredOff', 'poweredOn']);
    const again = await discover(noble, ['1808']);
    await again.connectAsync();
    expect(again.state).toBe('connected');
  });

  it('refuses to connect to a peripheral that is out of range with a coded error', async () => {
    const radio = createVirtualRadio();
    const meter = radio.add(new SimGlucometer({ address: 'C0:26:DA:00:00:0B' }));
    const noble = createSimNoble(radio);
    const p = await discover(noble, ['1808']);
    radio.remove(meter.id);
    await expect(p.connectAsync()).rejects.toMatchObject({ code: 'MEDGW_ERR_BLE_UNREACHABLE' });
  });
});

describe('demo bench and periodic advertising', () => {
  it('puts five devices in range and re-advertises them to a scan that allows duplicates', async () => {
    const { createDemoBench } = await import('../../simulators/ble/demo.ts');
    const bench = createDemoBench({ advertisingIntervalMs: 5 });
    expect(bench.glucometer.records()).toHaveLength(12);
    expect(bench.cuff.pending).toHaveLength(2);
    const noble = createSimNoble(bench.radio);
    await noble.waitForPoweredOnAsync();
    const seen: string[] = [];
    noble.on('discover', (p: Peripheral) => seen.push(p.id));
    await noble.startScanningAsync([], true);
    await until(() => seen.filter((id) => id === bench.scale.id).length >= 3, 'repeated advertisements');
    await noble.stopScanningAsync();
    expect(new Set(seen).size).toBe(5);
  });
});

describe('bonding', () => {
  it('refuses the glucose service until the central pairs, then keeps the bond across connections', async () => {
    const radio = createVirtualRadio();
    const meter = radio.add(new SimGlucometer({ address: 'C0:26:DA:00:00:0D', requireBonding: true }));
    const noble = createSimNoble(radio);
    const p = await discover(noble, ['1808']);
    let chars = await connectAll(p);
    // Device Information stays readable without encryption.
    expect((await must(chars.get('2a29'), '2a29').readAsync()).toString()).toBe('Medgw Sim');
    await expect(must(chars.get('2a18'), '2a18').subscribeAsync()).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0x0f,
    });
    await expect(must(chars.get('2a51'), '2a51').readAsync()).rejects.toMatchObject({ att: 0x0f });
    await p.pairAsync();
    await must(chars.get('2a18'), '2a18').subscribeAsync();
    expect((await must(chars.get('2a51'), '2a51').readAsync()).length).toBe(2);
    await p.disconnectAsync();

    chars = await connectAll(p);
    await must(chars.get('2a52'), '2a52').subscribeAsync();
    await p.disconnectAsync();

    meter.clearBonds();
    chars = await connectAll(p);
    await expect(must(chars.get('2a52'), '2a52').subscribeAsync()).rejects.toMatchObject({ att: 0x0f });
  });
});
