/** What every collector receives: the link, the records of the connection, and the gateway's stores. */
import type { DriverDefinition } from '../../../drivers/definitions/index.ts';
import type { Journal, Registry } from '../../contracts.ts';
import type { Logger } from '../../log.ts';
import type { Link } from '../link.ts';
import type { Records } from '../records.ts';
import type { BleStore } from '../store.ts';

export interface CollectorContext {
  readonly deviceId: string;
  readonly definition: DriverDefinition;
  readonly link: Link;
  readonly records: Records;
  /** First connection after `pair`: every stored record, UDS registration. */
  readonly pairing: boolean;
  readonly journal: Journal;
  readonly registry: Registry;
  readonly store: BleStore;
  readonly log: Logger;
  readonly random: () => number;
  readonly racpIdleTimeoutMs: number;
  /** Waits until the device has been silent for the quiet period and what it sent is committed. */
  readonly quiet: () => Promise<void>;
  /**
   * The collector has everything it asked for (RACP: the final response received; record counter: the
   * last index read): a link that ends from then on ends a completed sync, not a failure (session.ts).
   * Safe to call from a Link `expect` answer callback, the moment the answer arrives.
   */
  readonly complete: () => void;
}
