/**
 * `--ble sim`: the virtual radio with a simulated glucometer, a multi-user scale and a blood-pressure
 * cuff, each holding a few stored readings, and a real noble instance on that radio. These configured
 * simulated devices are pre-paired (the central provisions them as bonded when it first sees them) so
 * a demo syncs at once; any other device, simulated or real, waits as `discovered` until paired.
 */
import type { Noble } from '@stoprocent/noble';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio, type VirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';

export interface SimEnvironment {
  readonly radio: VirtualRadio;
  readonly noble: Noble;
  readonly glucometer: SimGlucometer;
  readonly scale: SimScale;
  readonly cuff: SimCuff;
  /** Addresses the central pre-pairs. */
  readonly prePaired: readonly string[];
}

export function simEnvironment(now: () => number = Date.now): SimEnvironment {
  const radio = createVirtualRadio({ now });
  const day = new Date(now() - 86_400_000);
  const at = (hours: number) => ({
    year: day.getUTCFullYear(),
    month: day.getUTCMonth() + 1,
    day: day.getUTCDate(),
    hours,
    minutes: 0,
    seconds: 0,
  });
  const glucometer = radio.add(
    new SimGlucometer({
      address: 'C0:26:DA:00:00:01',
      records: [
        { baseTime: at(7), concentration: mgdl(96), context: { meal: 3 } },
        { baseTime: at(12), concentration: mgdl(142), context: { meal: 2 } },
        { baseTime: at(19), concentration: mgdl(118) },
      ],
    }),
  );
  const scale = radio.add(new SimScale({ address: 'C0:26:DA:00:00:02' }));
  const cuff = radio.add(
    new SimCuff({
      address: 'C0:26:DA:00:00:03',
      stored: [{ unit: 'mmHg', systolic: 128, diastolic: 82, meanArterial: 97, pulse: 66, time: at(8) }],
    }),
  );
  return {
    radio,
    noble: createSimNoble(radio),
    glucometer,
    scale,
    cuff,
    prePaired: [glucometer.address, scale.address, cuff.address],
  };
}
