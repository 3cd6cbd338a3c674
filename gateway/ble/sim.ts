/**
 * `--ble sim`: the virtual radio with a simulated glucometer, a multi-user scale and a blood-pressure
 * cuff, each holding a few stored readings, and a real noble instance on that radio. These configured
 * simulated devices are pre-paired (the central provisions them as bonded when it first sees them) so
 * a demo syncs at once; any other device, simulated or real, waits as `discovered` until paired.
 *
 * The scale has one household user already registered on it (User Data Service index 0, as a person
 * does on the scale itself) whose consent code the central is given, as `medgw devices pair
 * --user 0=<code>` would; it holds that user's final weight of the morning. `SimControl.measure()`
 * makes a device take a new reading now (the demo and tests use it).
 */
import type { Noble } from '@stoprocent/noble';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { createSimNoble, createVirtualRadio, type VirtualRadio } from '../../simulators/ble/radio.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import type { UdsUser } from './store.ts';

/** The household user registered on the simulated scale (the code the scale shows at registration). */
export const SIM_SCALE_USER: UdsUser = { index: 0, consentCode: 4721 };

export type SimDeviceName = 'glucometer' | 'scale' | 'cuff';

/** What the demo and tests may do with the simulated devices of `--ble sim`. */
export interface SimControl {
  /** The device takes one final reading now (sent at once when connected, else on the next connection). */
  measure(device: SimDeviceName): Promise<void>;
}

export interface SimEnvironment {
  readonly radio: VirtualRadio;
  readonly noble: Noble;
  readonly glucometer: SimGlucometer;
  readonly scale: SimScale;
  readonly cuff: SimCuff;
  /** Addresses the central pre-pairs. */
  readonly prePaired: readonly string[];
  /** UDS users already registered on the pre-paired scale, by address. */
  readonly prePairedUsers: Readonly<Record<string, readonly UdsUser[]>>;
  readonly control: SimControl;
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
        { baseTime: at(19), concentration: mgdl(118), context: { meal: 1 } },
      ],
    }),
  );
  const scale = radio.add(new SimScale({ address: 'C0:26:DA:00:00:02', users: [{ ...SIM_SCALE_USER }] }));
  // the user steps on the scale as the gateway starts: the final weight waits for the consent
  scale.measure({ kg: demoWeight(0), userIndex: SIM_SCALE_USER.index });
  const cuff = radio.add(
    new SimCuff({
      address: 'C0:26:DA:00:00:03',
      stored: [{ unit: 'mmHg', systolic: 128, diastolic: 82, meanArterial: 97, pulse: 66, time: at(8) }],
    }),
  );
  let taken = 0;
  const control: SimControl = {
    async measure(device) {
      taken += 1;
      if (device === 'scale') scale.measure({ kg: demoWeight(taken), userIndex: SIM_SCALE_USER.index });
      else if (device === 'glucometer')
        // Tagged with its meal moment, as the patient does on the meter (1 before, 2 after a meal, 3 fasting).
        glucometer.measure({ mgdl: 90 + ((taken * 7) % 40), context: { meal: 1 + (taken % 3) } });
      else
        await cuff.measure({
          systolic: 118 + (taken % 10),
          diastolic: 76 + (taken % 6),
          pulse: 64 + (taken % 8),
        });
    },
  };
  return {
    radio,
    noble: createSimNoble(radio),
    glucometer,
    scale,
    cuff,
    prePaired: [glucometer.address, scale.address, cuff.address],
    prePairedUsers: { [scale.address]: [SIM_SCALE_USER] },
    control,
  };
}

/** A plausible weight that moves a little from one weighing to the next (kg, 0.005 kg steps). */
function demoWeight(n: number): number {
  return 72.4 + ((n * 3) % 7) * 0.1 - 0.3;
}
