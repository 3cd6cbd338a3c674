/**
 * Builds the national-side stack of one gateway from its configuration: encrypted token store,
 * pairing client, measurements client and the forwarder component that drives them.
 */
import type { ProfileGeneration } from '../../cloud-bridge/biology-bundle.ts';
import { MesClient } from '../../cloud-bridge/mes-client.ts';
import { PairingClient, type PairingConfig } from '../../cloud-bridge/pairing.ts';
import type { LinkStore, RefreshLock } from '../../cloud-bridge/token-store.ts';
import type { Clock, Component, Journal, Registry } from '../contracts.ts';
import { TokenStore } from '../storage/tokens-file.ts';
import { Forwarder, type ForwarderOptions, type TransitionCommitter } from './forwarder.ts';

export interface CloudBridgeOptions {
  readonly dataDir: string;
  readonly journal: Journal;
  readonly registry?: Pick<Registry, 'getDevice'>;
  readonly clock: Clock;
  /** Base URL of the measurements API (`<base>/fhir`). */
  readonly apiBaseUrl: string;
  readonly pairing: Pick<PairingConfig, 'issuer'> & Partial<PairingConfig>;
  readonly idTokenHeader?: string;
  /** Which contract shapes a glucose Bundle (config national.profileGeneration). */
  readonly profileGeneration?: ProfileGeneration;
  readonly maxConcurrency?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number; readonly jitter?: number };
  readonly breaker?: { readonly failureThreshold?: number; readonly openMs?: number };
  readonly forwarder?: Pick<
    ForwarderOptions,
    'pollIntervalMs' | 'maxPollIntervalMs' | 'batchSize' | 'heldGraceMs' | 'leaseMs' | 'log'
  >;
  readonly env?: NodeJS.ProcessEnv;
  /** The gateway's group commit over the same journal (the forwarder's moves share its commits). */
  readonly commits?: TransitionCommitter;
  /** The pairing links (gateway/storage/links.ts); default: the encrypted file of the data directory. */
  readonly links?: { readonly store: LinkStore; readonly lock?: RefreshLock };
}

export interface CloudBridge extends Component {
  readonly store: LinkStore;
  readonly pairing: PairingClient;
  readonly client: MesClient;
  readonly forwarder: Forwarder;
}

export function createCloudBridge(o: CloudBridgeOptions): CloudBridge {
  const store = o.links?.store ?? new TokenStore(o.dataDir, o.env ?? process.env);
  const now = (): number => o.clock.now();
  const lock = o.links?.lock;
  const pairing = new PairingClient(o.pairing, store, { now, ...(lock ? { lock } : {}) });
  const client = new MesClient({
    baseUrl: o.apiBaseUrl,
    tokens: pairing,
    idTokenHeader: o.idTokenHeader,
    generation: o.profileGeneration,
    maxConcurrency: o.maxConcurrency,
    backoff: o.backoff,
    breaker: o.breaker,
    now,
  });
  const forwarder = new Forwarder({
    journal: o.journal,
    sender: client,
    links: store,
    registry: o.registry,
    clock: o.clock,
    concurrency: o.maxConcurrency ?? 4,
    ...(o.commits ? { commits: o.commits } : {}),
    ...o.forwarder,
  });
  return {
    name: 'cloud-bridge',
    store,
    pairing,
    client,
    forwarder,
    start: () => forwarder.start(),
    stop: async () => {
      await forwarder.stop();
      client.close();
    },
  };
}
