/**
 * Stored records read one by one by their index, for meters that number their records with a counter
 * and answer a vendor command per record instead of streaming them through a Record Access Control Point
 * (LifeScan OneTouch Verio: drivers/lifescan/). The protocol is device knowledge and stays pure: it asks
 * through `ask`, which the gateway's collector (gateway/ble/collectors/record-counter.ts) implements on the
 * link — write a command, wait for its answer — and commits each reading with the index as the cursor.
 */
import type { Measurement } from '../types.ts';
import type { DeviceLink } from './link.ts';

export interface AskOptions {
  /** The command is answered by a link acknowledgement alone (not by a response frame). */
  readonly acknowledged?: boolean;
}

/** Writes a command and resolves with the device's answer to it. */
export type Ask = (command: Uint8Array, what: string, options?: AskOptions) => Promise<Uint8Array>;

/** The records a device holds: indexes `first` … `last` (inclusive, `last` the newest). */
export interface RecordRange {
  readonly first: number;
  readonly last: number;
}

export interface RecordCounterProtocol {
  /** Service, command characteristic (written) and answer characteristic (notified), as the link names them. */
  readonly service: string;
  readonly command: string;
  readonly answer: string;
  /** Whether a notification is a link acknowledgement rather than an answer. */
  isAcknowledgement(bytes: Uint8Array): boolean;
  /** What the host writes after an answer that carried data (undefined: nothing). */
  afterAnswer?(bytes: Uint8Array): Uint8Array | undefined;
  /** Opens the collection (clock, counters); a device that refuses because it is not bonded says so. */
  open(ask: Ask, link: DeviceLink): Promise<RecordRange>;
  /** Reads the record `index`: its reading numbered `index`, or undefined when it holds none. */
  read(ask: Ask, index: number): Promise<Measurement | undefined>;
}
