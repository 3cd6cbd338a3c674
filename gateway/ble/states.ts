/**
 * The pairing state machine of one BLE device, observable by the admin API, the CLI and the web page:
 *
 *   discovered → connecting → bonding → discovering → subscribing → syncing → synced
 *                    └──────────┴────────────┴─────────────┴────────────┴──→ failed (coded reason)
 *
 * `failed` is followed by a retry with backoff (connecting again) or, after the last attempt, by
 * waiting for the device's next advertisement. `forgotten` ends the story of a device that was
 * forgotten; it shows up as `discovered` again when it advertises.
 */
import { EventEmitter, on } from 'node:events';
import type { ErrorCode } from '../../kernel/errors.ts';

export type BleState =
  | 'discovered'
  | 'connecting'
  | 'bonding'
  | 'discovering'
  | 'subscribing'
  | 'syncing'
  | 'synced'
  | 'failed'
  | 'forgotten';

/** Which state may follow which (a transition outside this table is a bug in the central). */
export const NEXT: Readonly<Record<BleState, readonly BleState[]>> = {
  discovered: ['connecting', 'forgotten'],
  connecting: ['bonding', 'failed', 'forgotten'],
  bonding: ['discovering', 'failed', 'forgotten'],
  discovering: ['subscribing', 'failed', 'forgotten'],
  subscribing: ['syncing', 'failed', 'forgotten'],
  syncing: ['synced', 'failed', 'forgotten'],
  synced: ['connecting', 'forgotten'],
  failed: ['connecting', 'forgotten'],
  forgotten: ['discovered', 'connecting'],
};

export interface BleStateChange {
  /** Registry id of the device (its Bluetooth address, upper case). */
  readonly deviceId: string;
  readonly state: BleState;
  readonly previous: BleState | undefined;
  /** Gateway clock, ms since the epoch. */
  readonly at: number;
  /** Connection attempt number since the last success (1 = first try). */
  readonly attempt: number;
  readonly driver?: string;
  /** For `failed`: the MEDGW_ERR_BLE_* (or pipeline) code and what to do. */
  readonly code?: ErrorCode;
  readonly message?: string;
  /** For `failed`: when the next attempt is planned (ms since the epoch), if any. */
  readonly retryAt?: number;
  /** For `synced`: readings committed on this connection. */
  readonly committed?: number;
}

/** Emits every state change as the `state` event and as an async iterator. */
export class StateFeed extends EventEmitter<{ state: [BleStateChange] }> {
  publish(change: BleStateChange): void {
    this.emit('state', change);
  }

  /** Every state change from now on, until `signal` aborts (then the iterator ends). */
  async *changes(signal?: AbortSignal): AsyncGenerator<BleStateChange, void, undefined> {
    try {
      for await (const [change] of on(this, 'state', signal ? { signal } : {})) {
        yield change as BleStateChange;
      }
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    }
  }
}
