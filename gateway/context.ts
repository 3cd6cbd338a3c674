/**
 * The one context object every component is constructed with: no global singletons. Built by
 * gateway/app.ts for `medgw start`, or by tests with in-memory parts and a test clock.
 */
import type { Config } from './config/schema.ts';
import type { Clock, Journal, Registry } from './contracts.ts';
import type { Logger } from './log.ts';

export interface GatewayContext {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly journal: Journal;
  /** Absolute path of the data directory of this instance. */
  readonly dataDir: string;
}
