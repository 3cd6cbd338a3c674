/**
 * The connection procedure as data: a definition lists the steps the session runs, in order, built from
 * these small blocks (as zigbee-herdsman-converters builds a device from `modernExtend` blocks). The
 * session (gateway/ble/session.ts) maps each block to the link, the collectors or identity and time.
 * `standardSteps` gives the procedure of the standard profiles; a model with a connection quirk changes
 * one block (`discover({ only: […] })`) or adds a `run` block or a hook.
 */
import type { DeviceProfile } from '../profiles/types.ts';
import type { DeviceLink } from './link.ts';
import type { RecordCounterProtocol } from './record-counter.ts';

export type Step =
  /** First connection after `pair`: bond (passkey, just works, legacy pairing by the stack). */
  | { readonly kind: 'bond' }
  /** GATT discovery: every service, or only the ones listed (devices that switch off on a long discovery). */
  | { readonly kind: 'discover'; readonly only?: readonly string[] }
  /** Device Information 0x180A → the registry identity (EUI-64 system id, serial, UDI). */
  | { readonly kind: 'identity' }
  /** Current Time 0x1805: coincident timestamp, clock set where writable, read again. */
  | { readonly kind: 'clock' }
  /** Battery Level 0x2A19 of the Battery Service 0x180F. */
  | { readonly kind: 'battery' }
  /** CCCD writes exactly as each profile lists them (0x0001 notify, 0x0002 indicate). */
  | { readonly kind: 'subscribe' }
  /** Stored records after the cursor through the Record Access Control Point. */
  | { readonly kind: 'collect-stored' }
  /**
   * Stored records after the cursor read one by one by index through a vendor command protocol
   * (drivers/definitions/record-counter.ts), oldest first, the index as the cursor.
   */
  | { readonly kind: 'collect-counter'; readonly protocol: RecordCounterProtocol }
  /** The readings the device pushes after the connection, until it falls quiet. */
  | { readonly kind: 'collect-pushed' }
  /** User Data Service: register once, consent user by user, collect what each user's consent releases. */
  | { readonly kind: 'uds-consent' }
  /** A model-specific step, run with the link. */
  | { readonly kind: 'run'; readonly name: string; readonly run: (link: DeviceLink) => Promise<void> };

export type StepKind = Step['kind'];

export const bond = (): Step => ({ kind: 'bond' });
export const discover = (options: { readonly only?: readonly string[] } = {}): Step =>
  options.only ? { kind: 'discover', only: options.only } : { kind: 'discover' };
export const identity = (): Step => ({ kind: 'identity' });
export const clock = (): Step => ({ kind: 'clock' });
export const battery = (): Step => ({ kind: 'battery' });
export const subscribe = (): Step => ({ kind: 'subscribe' });
export const collectStored = (): Step => ({ kind: 'collect-stored' });
export const collectCounter = (protocol: RecordCounterProtocol): Step => ({
  kind: 'collect-counter',
  protocol,
});
export const collectPushed = (): Step => ({ kind: 'collect-pushed' });
export const udsConsent = (): Step => ({ kind: 'uds-consent' });
export const run = (name: string, fn: (link: DeviceLink) => Promise<void>): Step => ({
  kind: 'run',
  name,
  run: fn,
});

/** Steps that collect readings: the session enters `syncing` and runs `beforeCollect` before the first. */
export const COLLECT_STEPS: ReadonlySet<StepKind> = new Set([
  'collect-stored',
  'collect-counter',
  'collect-pushed',
  'uds-consent',
]);

/**
 * The standard procedure for profile blocks, the measurement profile first: bond, discover, identity,
 * clock, battery, subscribe, then the measurement profile's collection method (and the UDS consent
 * when the User Data Service is one of the blocks).
 */
export function standardSteps(
  profiles: readonly DeviceProfile[],
  options: { readonly discover?: Step } = {},
): Step[] {
  const steps: Step[] = [bond(), options.discover ?? discover(), identity(), clock(), battery(), subscribe()];
  const method = profiles[0]?.collect;
  if (method === 'racp') steps.push(collectStored());
  else if (method === 'push') steps.push(collectPushed());
  if (profiles.some((p) => p.id === 'user-data')) steps.push(udsConsent());
  return steps;
}
