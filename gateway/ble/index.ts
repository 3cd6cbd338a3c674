/**
 * The BLE central, built from the gateway context: `ble.mode` picks the noble bindings (`hci`, `dbus`,
 * `sim` with its pre-paired simulated devices, `auto`: a usable real adapter or else `sim`) or no
 * central at all (`off`).
 */
import { MedgwError } from '../../kernel/errors.ts';
import type { GatewayContext } from '../context.ts';
import type { ReadingSink } from '../contracts.ts';
import { openSealer } from '../secrets/index.ts';
import { adapterBonding, adapterNoble } from './bindings.ts';
import type { BluezPairing } from './bluez/pairing.ts';
import { BleCentral, type BleCentralOptions } from './central.ts';
import { type AdapterProbe, decideBleMode, systemProbe } from './probe.ts';
import type { SimEnvironment } from './sim.ts';

export { adapterNoble } from './bindings.ts';
export {
  BleCentral,
  type BleCentralOptions,
  type BleDeviceStatus,
  bleDeviceId,
  type CentralTiming,
  DEFAULT_TIMING,
} from './central.ts';
export {
  type AdapterProbe,
  type BleModeDecision,
  decideBleMode,
  type ProbeResult,
  systemProbe,
} from './probe.ts';
export type { SessionTiming } from './session.ts';
// the simulated devices (simulators/) are loaded by import() in `sim` mode only; import them from ./sim.ts
export type { SimControl, SimDeviceName, SimEnvironment } from './sim.ts';
export { type BleState, type BleStateChange, NEXT, StateFeed } from './states.ts';
export type { UdsUser } from './store.ts';

export type ResolvedBleMode = 'sim' | 'hci' | 'dbus' | 'off';

/**
 * The mode the central runs in, with one log line saying which and why: `auto` asks the probe
 * (a usable real adapter, the virtual radio otherwise); an explicit mode is taken as is.
 */
export async function resolveBleMode(
  ctx: Pick<GatewayContext, 'config' | 'log'>,
  probe: AdapterProbe = systemProbe,
): Promise<ResolvedBleMode> {
  const log = ctx.log.child({ component: 'ble' });
  const mode = ctx.config.ble.mode;
  if (mode === 'off') {
    log.info({ mode }, 'Bluetooth LE is off (ble.mode: off)');
    return mode;
  }
  if (mode === 'auto') {
    const d = await decideBleMode(probe);
    log.info(
      { mode: d.mode, adapters: d.adapters.length },
      d.mode === 'sim'
        ? `BLE runs on the virtual radio with a simulated glucometer, scale and blood-pressure cuff (ble.mode: auto): ${d.reason}`
        : `BLE uses the real adapter through ${d.mode} (ble.mode: auto): ${d.reason}`,
    );
    return d.mode;
  }
  const adapters = probe.adapters();
  log.info(
    { mode, adapters: adapters.length },
    mode === 'sim'
      ? `BLE runs on the virtual radio (ble.mode: sim)${adapters.length ? `; this machine has ${adapters.join(', ')}: --ble auto, hci or dbus would use it` : ''}`
      : `BLE uses the real adapter through ${mode} (ble.mode: ${mode})`,
  );
  return mode;
}

/**
 * The central for `medgw start`, or undefined in mode `off`. `mode` is the resolved mode
 * (`resolveBleMode`); without it the configured one, which must then not be `auto`. In `sim` mode the
 * simulated devices come back with it so the caller (or a test) can make them measure; they are loaded
 * by `import()` in that mode only, so a gateway on a real adapter never loads simulators/.
 */
export async function createBleCentral(
  ctx: GatewayContext,
  sink: ReadingSink,
  overrides: Partial<BleCentralOptions> = {},
  resolved?: ResolvedBleMode,
): Promise<{ central: BleCentral; sim?: SimEnvironment; pairing?: BluezPairing } | undefined> {
  const configured = ctx.config.ble.mode;
  if (!resolved && configured === 'auto') {
    throw new MedgwError(
      'MEDGW_ERR_START_FAILED',
      'ble.mode auto must be resolved first (resolveBleMode) before the BLE central is built',
    );
  }
  const mode = resolved ?? (configured as ResolvedBleMode);
  if (mode === 'off') {
    if (!resolved) ctx.log.info({ component: 'ble' }, 'Bluetooth LE is off (ble.mode: off)');
    return undefined;
  }
  const sim = mode === 'sim' ? (await import('./sim.ts')).simEnvironment(() => ctx.clock.now()) : undefined;
  const pairing = mode === 'dbus' ? adapterBonding(mode, ctx.log) : undefined;
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
    ...(pairing ? { bonding: pairing } : {}),
    ...overrides,
    sealer: overrides.sealer ?? openSealer(ctx.dataDir),
  });
  return { central, ...(sim ? { sim } : {}), ...(pairing ? { pairing } : {}) };
}
