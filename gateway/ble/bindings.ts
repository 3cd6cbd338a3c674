/**
 * Which noble the central runs on. Production: @stoprocent/noble with the HCI socket or BlueZ D-Bus
 * bindings, loaded only when the central starts (the package index would pick and open the OS
 * bindings at import time). `sim`: the same Noble class over the virtual radio of simulators/ble.
 */
import { createRequire } from 'node:module';
import type { Noble } from '@stoprocent/noble';
import { MedgwError } from '../../kernel/errors.ts';
import type { Logger } from '../log.ts';
import { BluezPairing } from './bluez/pairing.ts';

const require = createRequire(import.meta.url);

/** A real adapter through the `hci` (raw HCI socket, needs CAP_NET_RAW) or `dbus` (BlueZ) bindings. */
export function adapterNoble(mode: 'hci' | 'dbus'): Noble {
  try {
    // The D-Bus bindings load dbus-next (a dependency of medgw, optional to noble) only when they
    // start: check it now.
    if (mode === 'dbus') require.resolve('dbus-next');
    // lib/resolve-bindings.js exports (bindingType, options) => new Noble(bindings).
    const withBindings = require('@stoprocent/noble/lib/resolve-bindings.js') as (type: string) => Noble;
    return withBindings(mode);
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_BLE_UNAVAILABLE',
      `the ${mode} Bluetooth bindings could not be loaded: ${(e as Error).message}`,
    );
  }
}

/**
 * Bonding through the Bluetooth stack for a real adapter: in `dbus` mode the gateway's pairing agent
 * on BlueZ (Pair() then Trusted, passkeys asked of the person, bond loss explained). The `hci` mode
 * has none: noble's HCI stack pairs by itself, "Just Works" only, when a device answers an
 * encrypted attribute with an authentication error (docs/deploy.md, Bluetooth).
 */
export function adapterBonding(mode: 'hci' | 'dbus', log: Logger): BluezPairing | undefined {
  return mode === 'dbus' ? new BluezPairing({ log }) : undefined;
}
