/**
 * A glucometer's stored reading from another summer-time period, downloaded later through the BLE
 * central (real noble over the virtual radio, the real pipeline): the device keeps civil time, and its
 * Local Time Information 0x2A0F says so (CTS v1.1 §3.2), so the reading is corrected with the Paris
 * rules of its own date; without that characteristic the gateway cannot tell and the quality says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { zoneOffsetMinutes } from '../../drivers/normalize/time.ts';
import { SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { type Harness, harness } from './harness.ts';

const PARIS = 'Europe/Paris';
const MINUTE = 60_000;
const DAY = 86_400_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** An instant, on a whole minute, months back, whose Paris offset differs from today's. */
function otherPeriod(now: number): number {
  for (let months = 2; months < 12; months++) {
    const t = Math.floor((now - months * 30 * DAY) / MINUTE) * MINUTE;
    if (zoneOffsetMinutes(PARIS, t) !== zoneOffsetMinutes(PARIS, now)) return t;
  }
  throw new Error('Europe/Paris has no summer time?');
}

async function download(address: string, lti: boolean) {
  const takenAt = otherPeriod(Date.now());
  const g = new SimGlucometer({
    address,
    ctsWritable: false,
    // The meter shows Paris civil time: the offset of the day it measured...
    utcOffsetMinutes: zoneOffsetMinutes(PARIS, takenAt),
    ...(lti ? { localTimeInformation: { timeZone: 4, dstOffset: 0 } } : {}),
  });
  g.useClock(() => takenAt);
  g.measure({ mgdl: 104 });
  h = await harness([g]);
  // ... and, keeping summer time, today's offset now (the radio runs on the real clock).
  g.shiftClock((zoneOffsetMinutes(PARIS, Date.now()) - zoneOffsetMinutes(PARIS, takenAt)) * MINUTE);
  await h.provision({ id: address, driver: 'roche-accu-chek-guide', patientId: 'alice' });
  await h.central.start();
  await h.waitState(address, 'synced');
  const [r] = h.journal.list({ deviceId: address });
  return { takenAt, time: r?.observation?.time };
}

describe('BLE central: stored readings from another summer-time period', () => {
  it('a meter whose Local Time Information says it keeps summer time: corrected with the rules of the reading’s date', async () => {
    const { takenAt, time } = await download('C0:26:DA:00:00:41', true);
    expect(time?.quality).toBe('corrected');
    // Within the seconds the download took (the meter's clock and the gateway's are read a moment apart).
    expect(Math.abs(Date.parse(time?.utc ?? '') - takenAt)).toBeLessThan(3_000);
  });

  it('a meter without it: the same civil reading, flagged dst-unknown', async () => {
    const { takenAt, time } = await download('C0:26:DA:00:00:42', false);
    expect(time?.quality).toBe('dst-unknown');
    expect(Math.abs(Date.parse(time?.utc ?? '') - takenAt)).toBeLessThan(3_000);
  });
});
