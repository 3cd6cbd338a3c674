/**
 * Many health devices advertising nearby (a crowded waiting room, or someone replaying advertisements
 * under random addresses), through real noble over the virtual radio: the devices tracked stay under
 * the cap, the "discovered" log lines stay under their budget with the rest counted, and a registered
 * device among them is still tracked and synced.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { SimThermometer } from '../../simulators/ble/thermometer.ts';
import { type Harness, harness, until } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const address = (i: number) =>
  `E2:00:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();

it('tracks at most maxTracked devices, logs at most the budget, counts the rest, keeps the registered one', async () => {
  const lines: { msg: string; more?: number }[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  const crowd = Array.from({ length: 300 }, (_, i) => new SimThermometer({ address: address(i + 1) }));
  const MINE = 'E1:00:00:00:09:01';
  const mine = new SimThermometer({ address: MINE });
  h = await harness([], { log, maxTracked: 40, discoveryLogsPerMinute: 5 });
  await h.provision({ id: MINE, driver: 'generic-health-thermometer', patientId: 'alice' });
  for (const d of crowd) h.radio.add(d);
  h.radio.add(mine);
  await h.central.start();
  await until(() => h!.central.discoveryCounters.seen >= 301, 'every device seen');
  const c = h.central.discoveryCounters;
  expect(c.tracked).toBeLessThanOrEqual(40);
  expect(c.untracked).toBeGreaterThanOrEqual(300 - 40);
  expect(lines.filter((l) => l.msg.startsWith('discovered a device')).length).toBeLessThanOrEqual(5);
  // the registered device is not crowded out: it is tracked and its reading arrives
  await h.waitState(MINE, 'synced', 1, 20_000);
  expect(h.central.discoveryCounters.tracked).toBeLessThanOrEqual(40);
}, 60_000);
