/**
 * The BLE central, built from the gateway context: `ble.mode` picks the noble bindings (`hci`, `dbus`,
 * `sim` with its pre-paired simulated devices) or no central at all (`off`).
 */
import { loadTokenKey } from '../../cloud-bridge/token-store.ts';
import type { GatewayContext } from '../context.ts';
import type { ReadingSink } from '../contracts.ts';
import { adapterNoble } from './bindings.ts';
import { BleCentral, type BleCentralOptions } from './central.ts';
import { type SimEnvironment, simEnvironment } from './sim.ts';

export { adapterNoble } from './bindings.ts';
export {
  BleCentral,
  type BleCentralOptions,
  type BleDeviceStatus,
  bleDeviceId,
  type CentralTiming,
  DEFAULT_TIMING,
} from './central.ts';
export type { SessionTiming } from './session.ts';
export {
  SIM_SCALE_USER,
  type SimControl,
  type SimDeviceName,
  type SimEnvironment,
  simEnvironment,
} from './sim.ts';
export { type BleState, type BleStateChange, NEXT, StateFeed } from './states.ts';
export type { UdsUser } from './store.ts';

/**
 * The central for `medgw start`, or undefined with `ble.mode: off`. In `sim` mode the simulated
 * devices come back with it so the caller (or a test) can make them measure.
 */
export function createBleCentral(
  ctx: GatewayContext,
  sink: ReadingSink,
  overrides: Partial<BleCentralOptions> = {},
): { central: BleCentral; sim?: SimEnvironment } | undefined {
  const mode = ctx.config.ble.mode;
  if (mode === 'off') {
    ctx.log.info({ component: 'ble' }, 'Bluetooth LE is off (ble.mode: off)');
    return undefined;
  }
  const sim = mode === 'sim' ? simEnvironment(() => ctx.clock.now()) : undefined;
  const central = new BleCentral({
    noble: sim ? () => sim.noble : () => adapterNoble(mode === 'dbus' ? 'dbus' : 'hci'),
    registry: ctx.registry,
    journal: ctx.journal,
    sink,
    clock: ctx.clock,
    log: ctx.log,
    maxConnections: ctx.config.ble.maxConnections,
    timeZone: ctx.config.timezone,
    ...(sim ? { autoPair: sim.prePaired, autoPairUsers: sim.prePairedUsers } : {}),
    ...overrides,
    key: overrides.key ?? loadTokenKey(ctx.dataDir),
  });
  return sim ? { central, sim } : { central };
}
