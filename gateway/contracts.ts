/**
 * Interfaces between gateway components. Each stateful one has a conformance suite under tests/
 * that runs against every implementation (SQLite and in-memory for the journal).
 */
import type { DeviceIdentity, Observation } from '../drivers/types.ts';
import type { ErrorCode } from '../kernel/errors.ts';

/** Life cycle of every component: started in dependency order, stopped in reverse. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** Stop accepting, drain, flush, close. Must be safe to call twice. */
  stop(): Promise<void>;
}

/** Injectable clock so time correction, retries and grace periods can be tested. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** States of a reading in the outbox (see ARCHITECTURE.md, Never lose, never duplicate). */
/**
 * Where a reading stands. `local`: kept on this gateway on purpose and never forwarded on its own (a
 * continuous glucose sensor value, which Mon espace santé takes only as summaries over days); nothing
 * moves it to another state, and it is deleted once it has served (Journal.purgeLocal).
 */
export type OutboxState =
  | 'pending'
  | 'quarantined'
  | 'held'
  | 'in-flight'
  | 'delivered'
  | 'dead-letter'
  | 'local';

/** A reading offered to the journal by the pipeline. */
export interface NewReading {
  /** Deterministic reading id (drivers/normalize), the outbox key and the FHIR Observation.identifier. */
  readonly id: string;
  readonly deviceId: string;
  readonly patientId?: string;
  readonly observation: Observation;
  /** `pending` for a reading ready to send, `quarantined`, `held` or `local` with a reason. */
  readonly state: 'pending' | 'quarantined' | 'held' | 'local';
  readonly reason?: { readonly code: string; readonly message: string };
}

export interface OutboxRecord {
  readonly id: string;
  readonly deviceId: string;
  readonly patientId?: string;
  readonly kind: Observation['kind'];
  readonly state: OutboxState;
  /** Null once delivered: values are purged after the national side acknowledged. */
  readonly observation: Observation | null;
  readonly attempts: number;
  readonly nextAttemptAt?: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly reason?: { readonly code: string; readonly message: string };
  /** The national resource id once delivered. */
  readonly remoteId?: string;
}

/** One append-only audit entry: what happened to which reading, never its values. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  readonly event: string;
  readonly readingId?: string;
  readonly deviceId?: string;
  readonly patientId?: string;
  readonly kind?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
  /** SHA-256 over the previous entry's hash and this entry's content: the chain. */
  readonly hash: string;
}

export interface AppendResult {
  readonly accepted: readonly string[];
  /** Ids already in the journal (re-sent records, re-published messages): collapsed, not stored twice. */
  readonly duplicates: readonly string[];
}

/** A reading handed to a forwarder by Journal.claim(), in flight under the claimant's lease. */
export interface ClaimedReading {
  readonly record: OutboxRecord;
  /**
   * True when the reading was in flight under a lease that ran out (its instance died or stalled):
   * it may have reached the national side, so it is searched for before any new send.
   */
  readonly uncertain: boolean;
}

/** The journal: outbox + RACP cursors + audit log; "stored" and "cursor advanced" are one transaction. */
export interface Journal {
  /** Stores readings and optionally advances a device cursor, atomically. Throws MEDGW_ERR_JOURNAL_FULL. */
  append(
    readings: readonly NewReading[],
    cursor?: { readonly deviceId: string; readonly value: number },
  ): AppendResult;
  get(id: string): OutboxRecord | undefined;
  list(filter?: {
    readonly state?: OutboxState;
    readonly patientId?: string;
    readonly deviceId?: string;
    readonly limit?: number;
  }): OutboxRecord[];
  /** Records due for sending (pending, nextAttemptAt ≤ now), oldest first. */
  due(now: number, limit: number): OutboxRecord[];
  /** The same, answered without blocking, by a journal that runs on another thread (threaded.ts). */
  dueAsync?(now: number, limit: number): Promise<OutboxRecord[]>;
  /**
   * Claims for a journal shared by several gateway instances (PostgreSQL): takes up to `limit`
   * readings to send and moves them to in-flight under a lease of `leaseMs` held by this process,
   * so no other instance takes them (`FOR UPDATE SKIP LOCKED`). Readings whose lease ran out (their
   * instance died) come back first, flagged `uncertain`: the forwarder searches for them before
   * sending again. A patient's readings are claimed by one instance at a time, oldest first. Only
   * the claimant settles a claimed reading while its lease lasts (others get MEDGW_ERR_JOURNAL_STATE).
   *
   * The journals of one box (SQLite, memory) leave it out: one process owns them (the data-directory
   * lock), so the forwarder reads due() and moves each reading to in-flight itself, and at start
   * settles every reading a crash left in flight (search before resend).
   */
  claim?(now: number, limit: number, leaseMs: number): Promise<ClaimedReading[]>;
  /**
   * Calls `listener` when any instance commits new readings to a shared journal (PostgreSQL
   * LISTEN/NOTIFY): a hint that wakes forwarders early; their polling stays the truth. Returns the
   * unsubscribe function.
   */
  watch?(listener: () => void): () => void;
  /** Moves a record between states; refuses a transition from a state it is not in (MEDGW_ERR_JOURNAL_STATE). */
  transition(
    id: string,
    from: OutboxState,
    to: OutboxState,
    patch?: {
      readonly reason?: { readonly code: string; readonly message: string };
      readonly nextAttemptAt?: number;
      readonly remoteId?: string;
      readonly patientId?: string;
      /** Drop the values now (a held reading purged after the consent grace period). Delivery always purges. */
      readonly purge?: boolean;
      /**
       * The reading's values as a person restated them when confirming it (the meal moment the meter did
       * not give, the time read in the gateway's zone): replaces the stored observation. Ignored on a purge.
       */
      readonly observation?: Observation;
      /**
       * The audit entry to write for this move, in the same transaction (reading, device, patient and
       * kind are filled in). Without it the journal writes its own `reading.<state>` entry.
       */
      readonly audit?: {
        readonly event: string;
        readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
      };
    },
  ): OutboxRecord;
  /**
   * Deletes readings kept local (state `local`) that have served their purpose, with one audit entry
   * for the whole batch (the caller's event and detail; never a value), in one transaction. Ids that
   * are not in the journal or not local are left alone. Returns how many were deleted.
   */
  purgeLocal(
    ids: readonly string[],
    audit: {
      readonly event: string;
      readonly deviceId?: string;
      readonly patientId?: string;
      readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
    },
  ): number;
  cursor(deviceId: string): number | undefined;
  audit(entry: Omit<AuditEntry, 'seq' | 'hash' | 'at'> & { readonly at?: number }): AuditEntry;
  auditList(filter?: {
    readonly patientId?: string;
    readonly readingId?: string;
    readonly limit?: number;
  }): AuditEntry[];
  /** Verifies the hash chain; returns the seq of the first broken entry, or undefined. */
  auditVerify(): number | undefined;
  /**
   * A journal shared by several instances keeps one audit chain per instance (PostgreSQL): each
   * chain verified from its genesis, with its entry count and its first broken entry if any.
   */
  auditChains?(): { readonly chain: string; readonly entries: number; readonly firstBroken?: number }[];
  stats(now: number): {
    readonly byState: Readonly<Record<OutboxState, number>>;
    readonly oldestUnsentAgeMs: number | null;
  };
  close(): void;
}

/** Identity a device reveals: defined with the shared data types so the cloud-bridge uses the same one. */
export type { DeviceIdentity };

export interface DeviceRecord {
  readonly id: string;
  readonly transport: 'ble' | 'mqtt';
  /** Driver definition id (drivers/definitions), or the generic profile driver id. */
  readonly driver?: string;
  readonly name?: string;
  /** The patient the device belongs to (single-user devices). */
  readonly patientId?: string;
  /** Household user index (UDS / User ID field) → patient id, for multi-user scales and cuffs. */
  readonly users?: Readonly<Record<string, string>>;
  readonly identity?: DeviceIdentity;
  /** MQTT credential: `sha256$…` of the 256-bit secret (older records: `scrypt$…`), never the secret itself. */
  readonly secretHash?: string;
  readonly bond?: 'none' | 'bonded';
  readonly createdAt: number;
}

export interface PatientRecord {
  readonly id: string;
  readonly displayName: string;
  readonly createdAt: number;
}

/** The registry: devices, patients, pairing links and consents (small, human-readable state). */
export interface Registry {
  getDevice(id: string): DeviceRecord | undefined;
  listDevices(): DeviceRecord[];
  /**
   * Stores the device, replacing one of the same id; with `create`, refuses an id already taken
   * (MEDGW_ERR_REGISTRY_EXISTS), checked by the store itself so two instances sharing it cannot both
   * add one id.
   */
  putDevice(device: DeviceRecord, options?: { readonly create?: boolean }): Promise<void>;
  removeDevice(id: string): Promise<boolean>;
  getPatient(id: string): PatientRecord | undefined;
  listPatients(): PatientRecord[];
  /** As putDevice: with `create`, refuses an id already taken (MEDGW_ERR_REGISTRY_EXISTS). */
  putPatient(patient: PatientRecord, options?: { readonly create?: boolean }): Promise<void>;
  removePatient(id: string): Promise<boolean>;
  /** Constant-time check of an MQTT device secret against its stored hash. */
  verifyDeviceSecret(id: string, secret: string): boolean;
  /**
   * The same answer as verifyDeviceSecret, with an older record's scrypt computed off the event loop
   * (thread pool): what the MQTT authenticate hook uses, so a burst of connections never stalls
   * connected devices.
   */
  verifyDeviceSecretAsync(id: string, secret: string): Promise<boolean>;
  /**
   * The cheap answer, never a slow hash, the same cost for a known or an unknown id: true for the
   * right secret of a fast-hash (`sha256$`) record, or of an older scrypt record this device proved
   * before in this process. The broker lets such a connection in at once, ahead of queued checks
   * and back-offs.
   */
  knowsDeviceSecret?(id: string, secret: string): boolean;
  /**
   * After a successful login with an older scrypt record: rewrites it to the fast hash (the clear
   * secret is needed, so this happens at login, never at start). True when the record was rewritten.
   */
  upgradeDeviceSecret?(id: string, secret: string): Promise<boolean>;
}

/** What a transport hands to the pipeline: decoded readings of one device, in device units. */
export interface Submission {
  readonly deviceId: string;
  readonly transport: 'ble' | 'mqtt';
  readonly measurements: readonly import('../drivers/types.ts').Measurement[];
  /** The device's clock beside the gateway's, read on this connection, for time correction. */
  readonly coincident?: import('../drivers/types.ts').CoincidentTime;
  /** RACP cursor covered by these readings (highest sequence number), committed atomically with them. */
  readonly cursor?: number;
}

export interface SubmitResult {
  readonly status: 'accepted' | 'duplicate' | 'rejected';
  readonly ids: readonly string[];
  readonly code?: ErrorCode;
  readonly message?: string;
}

/** The pipeline as transports see it: resolves only once the readings are committed to the journal. */
export interface ReadingSink {
  submit(submission: Submission): Promise<SubmitResult>;
  /** Records (counts and audits, no values) an input the transport could not decode into a reading. */
  recordRejection?(rejection: {
    readonly deviceId: string;
    readonly transport: 'ble' | 'mqtt';
    readonly code: ErrorCode;
    readonly message: string;
  }): void;
}
