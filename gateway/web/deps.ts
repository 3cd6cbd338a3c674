/**
 * What the local pages read and drive. Everything but the registry, the journal and the admin
 * operations is optional: a gateway without Bluetooth or without a national side still shows its
 * pages, and says plainly what is not running.
 */
import type { DeviceLink } from '../../cloud-bridge/pairing.ts';
import type { ConsentKind } from '../../cloud-bridge/profiles.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import type { CgmPeriodDays } from '../../drivers/normalize/cgm-summary.ts';
import type { Catalogue, ErrorCode } from '../../kernel/errors.ts';
import type { Clock, Journal, Registry } from '../contracts.ts';
import type { Logger } from '../log.ts';
import type { Operations } from '../ops/operations.ts';
import type { RouteInfo } from './openapi.ts';

/** Steps of the BLE pairing state machine as the pages show them. */
export type PairingState =
  | 'discovered'
  | 'connecting'
  | 'bonding'
  | 'discovering'
  | 'subscribing'
  | 'syncing'
  | 'synced'
  | 'failed';

export interface NearbyDevice {
  /** Bluetooth address `AA:BB:CC:DD:EE:FF`. */
  readonly address: string;
  readonly name?: string;
  /** Received signal strength of the last advertisement, dBm. */
  readonly rssi: number;
  readonly seenAt: number;
  /** Driver definition that matched the advertisement. */
  readonly driver?: string;
}

export interface PairingProgress {
  readonly address: string;
  readonly deviceId?: string;
  readonly name?: string;
  readonly state: PairingState;
  /** Catalogue code of a failure. */
  readonly code?: ErrorCode;
  readonly message?: string;
  readonly at: number;
}

export interface DeviceHealth {
  readonly lastSyncAt?: number;
  readonly batteryPercent?: number;
  readonly clock?: 'synced' | 'corrected' | 'untrusted';
  /** Records the device reports holding (RACP number of stored records), for the completeness ledger. */
  readonly reportedRecords?: number;
}

/** What the pairing agent asks the person about a device now (BlueZ over D-Bus). */
export interface PairingQuestion {
  /** passkey: type the code the device shows; confirm: same number on both?; display: type it on the device. */
  readonly kind: 'passkey' | 'confirm' | 'display' | 'pin';
  readonly passkey?: number;
  readonly expiresAt: number;
}

export type PairingAnswer =
  | { readonly passkey: number }
  | { readonly confirm: boolean }
  | { readonly pin: string };

/** The BLE central as the pages use it. */
export interface WebBluetooth {
  /** noble adapter state (`poweredOn`, `poweredOff`, `unsupported`…). */
  adapterState(): string;
  nearby(): NearbyDevice[];
  /**
   * Starts pairing; progress arrives through the `progress` event and `pairings()`. `udsUser` is the
   * household user the person registered on a multi-user scale, with the consent code it showed.
   */
  pair(
    address: string,
    options?: { readonly udsUser?: { readonly index: number; readonly consentCode: number } },
  ): Promise<void>;
  pairings(): PairingProgress[];
  /** Drops the bond and the connection (the registry entry is removed by the pages). */
  forget?(deviceId: string): Promise<void>;
  health?(deviceId: string): DeviceHealth | undefined;
  /** The pairing agent's question about this device, while a pairing waits for the person. */
  question?(address: string): PairingQuestion | undefined;
  answer?(address: string, answer: PairingAnswer): Promise<void>;
  /** Pairs again a device that forgot the gateway (the stack's stale key removed first). */
  repair?(address: string): Promise<void>;
  on(event: 'progress', listener: (p: PairingProgress) => void): unknown;
  off(event: 'progress', listener: (p: PairingProgress) => void): unknown;
}

/** The national side as the pages use it (cloud-bridge pairing client and token store). */
export interface WebNational {
  /** Where the national side is (shown on the status page). */
  readonly label: string;
  /** The registered redirect URI of the pairing client; default: `<pages URL>/callback`. */
  readonly redirectUri?: string;
  startBrowserLink(
    patientId: string,
    options: { kinds?: readonly ConsentKind[]; redirectUri?: string },
  ): Promise<{ url: string; state: string }>;
  completeBrowserLink(callbackUrl: URL | string): Promise<PatientLink>;
  /** Device authorization grant (RFC 8628): a code the patient enters on their own phone or computer. */
  startDeviceLink?(patientId: string): Promise<DeviceLink>;
  unlink(patientId: string): Promise<{ revoked: boolean; message?: string }>;
  links: {
    get(patientId: string): PatientLink | undefined;
    list(): PatientLink[];
    update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink>;
  };
  /** Forwarder events (delivered, dead-letter, consent-withdrawn…), for live updates. */
  events?: {
    on(event: 'event', listener: (e: { type: string }) => void): unknown;
    off(event: 'event', listener: (e: { type: string }) => void): unknown;
  };
  /** Asks the forwarder for a pass now (after a confirm or a retry). */
  kick?(): void;
  /** Circuit breaker state of the measurements client, when known. */
  state?(): 'closed' | 'open' | 'half-open';
}

export interface WebBroker {
  readonly counters: {
    readonly connections: number;
    readonly refused: Readonly<Record<string, number>>;
  };
}

export interface WebDeps {
  readonly dataDir: string;
  readonly registry: Registry;
  readonly journal: Journal;
  /** The operations service: every change goes through it (gateway/ops/operations.ts). */
  readonly ops: Operations;
  readonly clock: Clock;
  readonly log: Logger;
  readonly ble?: WebBluetooth;
  readonly national?: WebNational;
  readonly broker?: WebBroker;
  /** Pipeline counters (accepted, duplicates, rejections by code) for /metrics. */
  readonly pipelineCounters?: () => {
    readonly accepted: number;
    readonly duplicate: number;
    readonly rejected: Readonly<Record<string, number>>;
  };
  /**
   * Address of the reverse proxy in front of the pages, if any (`http.trustedProxy`): only a request
   * from it has its X-Forwarded-For read, for the sign-in throttle.
   */
  readonly trustedProxy?: string;
  /** /readyz says not ready below this much free space on the data disk (default 64 MiB). */
  readonly minFreeDiskBytes?: number;
  /** Set cookies with `Secure` (the server speaks TLS, or sits behind a TLS proxy). */
  readonly secureCookies?: boolean;
  /** Called once with the admin password generated at first start (print it; it is never stored). */
  readonly onAdminPassword?: (password: string) => void;
  /** A chosen initial admin password instead of a generated one (tests, provisioning). */
  readonly initialPassword?: string;
  /** Public URL of the pages (for the pairing callback); default: the URL the request came to. */
  readonly publicUrl?: string;
  /**
   * Continuous glucose settings (`cgm.summaryDays`, `timezone`): the device page says when the running
   * period of a CGM's kept sensor values ends. Without them it says only how many are kept.
   */
  readonly cgm?: { readonly days: CgmPeriodDays; readonly timezone: string };
  /** A kind without a reading for longer than this is a gap on the overview (default 3 days). */
  readonly gapAfterMs?: number;
  /** When the gateway started (status page). */
  readonly startedAt?: number;
  /** Every route of the HTTP server (HttpServer.routes), for /openapi.json; default: the pages' own routes. */
  readonly routes?: () => readonly RouteInfo[];
  /** Where refusals' HTTP statuses and national outcomes are read; default the error catalogue itself. */
  readonly catalogue?: Catalogue;
}
