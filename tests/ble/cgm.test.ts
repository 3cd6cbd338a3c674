/**
 * The real @stoprocent/noble drives the simulated CGM over the virtual radio: discovery by the CGM service
 * 0x181F, the session characteristics read and decoded, a RACP transfer of a day of records (several per
 * notification, each with its E2E-CRC) decoded by the drivers' codecs, a Time Offset filter, the Specific
 * Ops Control Point with and without a valid E2E-CRC, and live records as the device clock moves.
 */
import { describe, expect, it } from 'vitest';
import { decodeCgmFeature } from '../../drivers/codecs/cgm-feature.ts';
import {
  type CgmMeasurementFields,
  cgmMeasurementToMeasurements,
  decodeCgmMeasurement,
} from '../../drivers/codecs/cgm-measurement.ts';
import { decodeCgmSessionRunTime } from '../../drivers/codecs/cgm-session-run-time.ts';
import { decodeCgmSessionStartTime } from '../../drivers/codecs/cgm-session-start-time.ts';
import { decodeCgmOps, encodeCgmOpsRequest } from '../../drivers/codecs/cgm-specific-ops.ts';
import { decodeCgmStatus } from '../../drivers/codecs/cgm-status.ts';
import { decodeRacp, encodeRacpRequest } from '../../drivers/codecs/racp.ts';
import { normalize } from '../../drivers/normalize/index.ts';
import { type CgmOptions, SimCgm } from '../../simulators/ble/cgm.ts';
import { createSimNoble, createVirtualRadio } from '../../simulators/ble/radio.ts';
import { connectAll, discover, must, record, until } from './helpers.ts';

const DAY = 24 * 60;
/** 2026-11-20 06:00 UTC, the radio's clock; the device keeps UTC+1 (simulator default). */
const T0 = Date.UTC(2026, 10, 20, 6, 0, 0);

function bench(options: Partial<CgmOptions> = {}) {
  let now = T0;
  const radio = createVirtualRadio({ now: () => now });
  const cgm = radio.add(new SimCgm({ address: 'C0:26:DA:00:0C:01', ...options }));
  const noble = createSimNoble(radio);
  return { radio, cgm, noble, advance: (minutes: number) => (now += minutes * 60_000) };
}

async function open(noble: ReturnType<typeof createSimNoble>) {
  const p = await discover(noble, ['181f']);
  const chars = await connectAll(p);
  const get = (uuid: string) => must(chars.get(uuid), uuid);
  return { p, get };
}

describe('CGM over the virtual radio', () => {
  it('a day of records through RACP: every record once, E2E-CRC checked, values and times as the sensor took them', async () => {
    const { cgm, noble } = bench({ sessionMinutes: DAY, recordsPerNotification: 3 });
    const { p, get } = await open(noble);
    expect(p.advertisement.localName).toBe('medgw CGM');

    const feature = decodeCgmFeature(await get('2aa8').readAsync());
    expect(feature.features.e2eCrcSupported).toBe(true);
    expect(feature.type).toBe('interstitial-fluid');
    expect(feature.sampleLocation).toBe('subcutaneous-tissue');
    const crc = feature.features.e2eCrcSupported;

    const start = decodeCgmSessionStartTime(await get('2aaa').readAsync(), crc);
    // The session began a day before the radio's 06:00 UTC, on a device clock at UTC+1: 07:00 the day before.
    expect(start.sessionStartTime).toEqual({
      year: 2026,
      month: 11,
      day: 19,
      hours: 7,
      minutes: 0,
      seconds: 0,
    });
    expect(start.timeZoneMinutes).toBe(60);
    expect(decodeCgmSessionRunTime(await get('2aab').readAsync(), crc).sessionRunTime).toBe(336);
    expect(decodeCgmStatus(await get('2aa9').readAsync(), undefined, crc)).toMatchObject({
      timeOffset: DAY,
      status: [],
    });

    const [m, racp] = [get('2aa7'), get('2a52')];
    const log = record([m, racp]);
    await m.subscribeAsync();
    await racp.subscribeAsync();
    await racp.writeAsync(
      Buffer.from(encodeRacpRequest({ op: 'report-stored-records', operator: 'all-records' })),
      false,
    );
    await until(() => log.some(([u]) => u === '2a52'), 'RACP response', 10_000);
    expect(decodeRacp(Buffer.from(log.at(-1)![1], 'hex'))).toMatchObject({
      opCode: 'response-code',
      requestOpCode: 'report-stored-records',
      responseCodeValue: 'success',
    });

    const frames = log.filter(([u]) => u === '2aa7').map(([, h]) => Buffer.from(h, 'hex'));
    // 289 records (offsets 0…1440), three per notification.
    expect(frames).toHaveLength(Math.ceil(289 / 3));
    const decoded: CgmMeasurementFields[] = frames.map((f) => decodeCgmMeasurement(f, { e2eCrc: crc }));
    const records = decoded.flatMap((d) => d.records);
    expect(records.map((r) => r.timeOffset)).toEqual(Array.from({ length: 289 }, (_, i) => i * 5));
    const sent = cgm.records();
    expect(
      records.map((r) => ('value' in r.glucoseConcentration ? r.glucoseConcentration.value : NaN)),
    ).toEqual(sent.map((r) => r.glucose));
    for (const r of records) {
      expect(r.size).toBe(8); // 6 octets + the 2-octet E2E-CRC
      expect(r.e2eCrc).toBeTypeOf('number');
    }

    // Hand-checked: the record at offset 300 is at 07:00 + 5 h on the session's day, interstitial, held.
    const at300 = decoded.flatMap((d) => cgmMeasurementToMeasurements(d, start.sessionStartTime))[60]!;
    expect(at300.deviceTime).toEqual({ year: 2026, month: 11, day: 19, hours: 12, minutes: 0, seconds: 0 });
    expect(at300.context).toMatchObject({ type: 'interstitial-fluid', timeOffset: 300 });
    const [obs] = normalize(at300);
    expect(obs?.quarantine?.code).toBe('MEDGW_ERR_GLUCOSE_INTERSTITIAL');
    expect(obs?.value).toBe(sent[60]!.glucose);

    // One flipped octet in a received frame: the CRC refuses it.
    const damaged = Buffer.from(frames[0]!);
    damaged[2] = damaged[2]! ^ 0x01;
    expect(() => decodeCgmMeasurement(damaged, { e2eCrc: crc })).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_CGM_CRC' }),
    );
    await p.disconnectAsync();
  });

  it('a whole 14-day session (336 h): 4033 records counted, then transferred, nothing missing or twice', async () => {
    const { cgm, noble } = bench({ sessionMinutes: 20 * DAY, recordsPerNotification: 4 });
    const { p, get } = await open(noble);
    const [m, racp] = [get('2aa7'), get('2a52')];
    const log = record([m, racp]);
    await m.subscribeAsync();
    await racp.subscribeAsync();
    // The session ran past its 336 hours: the sensor stopped measuring at offset 20160.
    await racp.writeAsync(
      Buffer.from(encodeRacpRequest({ op: 'report-number-of-stored-records', operator: 'all-records' })),
      false,
    );
    await until(() => log.length === 1, 'RACP count');
    expect(decodeRacp(Buffer.from(log[0]![1], 'hex'))).toMatchObject({ numberOfStoredRecords: 14 * 288 + 1 });
    await racp.writeAsync(
      Buffer.from(encodeRacpRequest({ op: 'report-stored-records', operator: 'all-records' })),
      false,
    );
    await until(() => log.length > 1 && log.at(-1)![0] === '2a52', 'RACP response', 20_000);
    const offsets = log
      .filter(([u]) => u === '2aa7')
      .flatMap(([, h]) => decodeCgmMeasurement(Buffer.from(h, 'hex'), { e2eCrc: true }).records)
      .map((r) => r.timeOffset);
    expect(offsets).toEqual(cgm.records().map((r) => r.timeOffset));
    expect(new Set(offsets).size).toBe(14 * 288 + 1);
    expect(offsets.at(-1)).toBe(336 * 60);
    await p.disconnectAsync();
  });

  it('RACP "report ≥ time offset": only the later records, then success', async () => {
    const { noble } = bench({ sessionMinutes: DAY });
    const { p, get } = await open(noble);
    const [m, racp] = [get('2aa7'), get('2a52')];
    const log = record([m, racp]);
    await m.subscribeAsync();
    await racp.subscribeAsync();
    // CGMS filter type 0x01 is Time Offset (uint16): the same octets as GLS's sequence-number filter.
    const request = encodeRacpRequest({
      op: 'report-stored-records',
      operator: 'greater-than-or-equal-to',
      filter: { type: 'sequence-number', minimum: 1400 },
    });
    expect(Buffer.from(request).toString('hex')).toBe('010301' + '7805');
    await racp.writeAsync(Buffer.from(request), false);
    await until(() => log.some(([u]) => u === '2a52'), 'RACP response');
    const offsets = log
      .filter(([u]) => u === '2aa7')
      .flatMap(([, h]) => decodeCgmMeasurement(Buffer.from(h, 'hex'), { e2eCrc: true }).records)
      .map((r) => r.timeOffset);
    expect(offsets).toEqual([1400, 1405, 1410, 1415, 1420, 1425, 1430, 1435, 1440]);
    await p.disconnectAsync();
  });

  it('Specific Ops Control Point: stop and start the session with a valid E2E-CRC; a missing or wrong one is refused', async () => {
    const { cgm, noble } = bench({ sessionMinutes: 60 });
    const { p, get } = await open(noble);
    const ops = get('2aac');
    const log = record([ops]);
    await ops.subscribeAsync();

    const stop = encodeCgmOpsRequest({ op: 'stop-session' }, false);
    await expect(ops.writeAsync(Buffer.from(stop), false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0x80,
    });
    const badCrc = Buffer.from([0x1b, 0x00, 0x00]);
    await expect(ops.writeAsync(badCrc, false)).rejects.toMatchObject({
      code: 'MEDGW_ERR_BLE_ATT',
      att: 0x81,
    });
    expect(cgm.sessionRunning).toBe(true);

    await ops.writeAsync(Buffer.from(encodeCgmOpsRequest({ op: 'stop-session' }, true)), false);
    await until(() => log.length === 1, 'ops response');
    expect(decodeCgmOps(Buffer.from(log[0]![1], 'hex'), undefined, true)).toMatchObject({
      opCode: 'response-code',
      requestOpCode: 'stop-session',
      responseCodeValue: 'success',
    });
    expect(decodeCgmStatus(await get('2aa9').readAsync(), undefined, true).status).toEqual([
      'cgmSessionStopped',
    ]);

    await ops.writeAsync(Buffer.from(encodeCgmOpsRequest({ op: 'start-session' }, true)), false);
    await until(() => log.length === 2, 'ops response');
    expect(decodeCgmOps(Buffer.from(log[1]![1], 'hex'), undefined, true)).toMatchObject({
      requestOpCode: 'start-session',
      responseCodeValue: 'success',
    });
    expect(cgm.records().map((r) => r.timeOffset)).toEqual([0]);

    await ops.writeAsync(
      Buffer.from(encodeCgmOpsRequest({ op: 'set-communication-interval', minutes: 1 }, true)),
      false,
    );
    await ops.writeAsync(Buffer.from(encodeCgmOpsRequest({ op: 'get-communication-interval' }, true)), false);
    await until(() => log.length === 4, 'ops responses');
    expect(decodeCgmOps(Buffer.from(log[3]![1], 'hex'), undefined, true)).toMatchObject({
      opCode: 'communication-interval-response',
      communicationInterval: 1,
    });
    await p.disconnectAsync();
  });

  it('live: a record every 5 minutes of the device clock is notified as it is taken', async () => {
    const { cgm, noble, advance } = bench({ sessionMinutes: 0, e2eCrc: false });
    const { p, get } = await open(noble);
    const feature = decodeCgmFeature(await get('2aa8').readAsync());
    expect(feature.features.e2eCrcSupported).toBe(false);
    const m = get('2aa7');
    const log = record([m]);
    await m.subscribeAsync();
    advance(4);
    expect(cgm.tick()).toEqual([]);
    advance(11);
    expect(cgm.tick().map((r) => r.timeOffset)).toEqual([5, 10, 15]);
    await until(() => log.length === 3, 'three live records');
    const records = log.flatMap(
      ([, h]) => decodeCgmMeasurement(Buffer.from(h, 'hex'), { e2eCrc: false }).records,
    );
    expect(records.map((r) => [r.size, r.timeOffset])).toEqual([
      [6, 5],
      [6, 10],
      [6, 15],
    ]);
    // Without the CRC the Feature says is absent, two extra octets would be refused, not taken as a CRC.
    expect(() =>
      decodeCgmMeasurement(Buffer.from(`08${log[0]![1].slice(2)}0000`, 'hex'), { e2eCrc: false }),
    ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_FRAME_TOO_LONG' }));
    await p.disconnectAsync();
  });
});
