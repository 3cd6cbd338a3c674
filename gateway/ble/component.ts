/**
 * The BLE central as a `medgw start` component (listed in gateway/app.ts COMPONENTS). It offers the
 * central (`ble`), the simulated devices' control (`bleSim`) and BlueZ's pairing agent (`blePairing`)
 * as services and knows no door: the admin routes `/api/v1/ble/…` are gateway/web/ble-api.ts and
 * the pages' adapter is gateway/web/ble.ts, both built on those services.
 */
import type { ComponentFactory } from '../lifecycle.ts';
import type { BluezPairing } from './bluez/pairing.ts';
import type { BleCentral } from './central.ts';
import { createBleCentral, resolveBleMode } from './index.ts';
import type { SimControl } from './sim.ts';

declare module '../lifecycle.ts' {
  interface ServiceMap {
    /** The BLE central: pairing, forgetting, device states and the state feed. */
    ble: BleCentral;
    /** `ble.mode: sim` only: make the simulated glucometer, scale or cuff take a reading. */
    bleSim: SimControl;
    /** `ble.mode: dbus` only: the pairing agent on BlueZ and what it asks the person. */
    blePairing: BluezPairing;
  }
}

export const bleComponent: ComponentFactory = {
  name: 'ble',
  after: ['pipeline'],
  async create(ctx, services) {
    const mode = await resolveBleMode(ctx);
    const built = await createBleCentral(ctx, services.get('sink'), {}, mode);
    if (!built) return undefined;
    const { central, pairing } = built;
    services.provide('ble', central);
    if (built.sim) services.provide('bleSim', built.sim.control);
    if (pairing) services.provide('blePairing', pairing);
    if (!pairing) return central;
    // dbus mode: the pairing agent is registered with BlueZ once the central runs, released after it.
    const log = ctx.log.child({ component: 'ble' });
    return {
      name: central.name,
      start: async () => {
        await central.start();
        await pairing.start().catch((e: unknown) => {
          log.error(
            { code: 'MEDGW_ERR_BLE_AGENT', err: e },
            'the pairing agent is not registered: pairing a device will retry',
          );
        });
      },
      stop: async () => {
        await central.stop();
        await pairing.stop();
      },
    };
  },
};
