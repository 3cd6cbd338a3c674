/**
 * A ready-made bench of simulated devices on one virtual radio: what `npm start` and end-to-end tests
 * put in range when no real adapter is used. Addresses and stored readings are fixed, so runs repeat.
 */
import { SimCuff } from './cuff.ts';
import { mgdl, SimGlucometer } from './glucometer.ts';
import { SimOximeter } from './oximeter.ts';
import { createVirtualRadio, type VirtualRadio, type VirtualRadioOptions } from './radio.ts';
import { SimScale } from './scale.ts';
import { SimThermometer } from './thermometer.ts';

export interface DemoBench {
  readonly radio: VirtualRadio;
  readonly glucometer: SimGlucometer;
  readonly scale: SimScale;
  readonly cuff: SimCuff;
  readonly thermometer: SimThermometer;
  readonly oximeter: SimOximeter;
}

export interface DemoBenchOptions extends VirtualRadioOptions {
  /** Records the glucometer already holds (default 12), one every 8 hours before now. */
  glucoseRecords?: number;
}

export const DEMO_ADDRESSES = {
  glucometer: 'C0:26:DA:10:00:01',
  scale: 'D4:36:39:10:00:02',
  cuff: 'A4:C1:38:10:00:03',
  thermometer: 'E1:0A:00:10:00:04',
  oximeter: 'E1:0B:00:10:00:05',
} as const;

export function createDemoBench(options: DemoBenchOptions = {}): DemoBench {
  const radio = createVirtualRadio(options);
  const now = radio.now();
  const meals = [1, 2, 3, 4, 5];
  const count = options.glucoseRecords ?? 12;
  // Device local time (UTC+1, no zone) of a moment `ms`, as the meter stored it.
  const local = (ms: number) => {
    const d = new Date(ms + 60 * 60_000);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hours: d.getUTCHours(),
      minutes: d.getUTCMinutes(),
      seconds: d.getUTCSeconds(),
    };
  };
  const glucometer = radio.add(
    new SimGlucometer({
      address: DEMO_ADDRESSES.glucometer,
      records: Array.from({ length: count }, (_, i) => ({
        baseTime: local(now - (count - i) * 8 * 3_600_000),
        concentration: mgdl(88 + ((i * 17) % 70)),
        // The patient tags every test with its meal moment (the record needs it to be filed).
        context: { meal: meals[i % meals.length]! },
      })),
    }),
  );
  const scale = radio.add(
    new SimScale({
      address: DEMO_ADDRESSES.scale,
      users: [
        { index: 0, consentCode: 1234, heightM: 1.72 },
        { index: 1, consentCode: 5678, heightM: 1.64 },
      ],
    }),
  );
  const cuff = radio.add(new SimCuff({ address: DEMO_ADDRESSES.cuff }));
  void cuff.measure({ systolic: 128, diastolic: 82, pulse: 64, userId: 1 });
  void cuff.measure({ systolic: 124, diastolic: 79, pulse: 61, userId: 1 });
  const thermometer = radio.add(new SimThermometer({ address: DEMO_ADDRESSES.thermometer }));
  const oximeter = radio.add(new SimOximeter({ address: DEMO_ADDRESSES.oximeter }));
  return { radio, glucometer, scale, cuff, thermometer, oximeter };
}
