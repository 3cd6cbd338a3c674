/**
 * Pairing links and their tokens, as the national side's client needs them: the link of a patient
 * (PatientLink), where links live (LinkStore) and the lock that serializes a patient's token refresh
 * (RefreshLock). The stores themselves are the gateway's: the encrypted file of one data directory
 * (gateway/storage/tokens-file.ts) and the PostgreSQL table instances share
 * (gateway/storage/tokens-postgres.ts), both sealing with gateway/secrets. Nothing in here is ever logged.
 */
import type { ConsentKind } from './profiles.ts';

/** One patient's link with the national side. */
export interface PatientLink {
  readonly patientId: string;
  readonly idPe: string;
  /** Assigning authority OID of the idPe (subject.identifier.system). */
  readonly pairingOid: string;
  /** OID of this solution as the national side knows it (meta.source root, 409 check). */
  readonly solutionOid: string;
  readonly accessToken: string;
  readonly idToken: string;
  readonly refreshToken?: string;
  /** Access token expiry, ms since the epoch. */
  readonly expiresAt: number;
  readonly scope?: string;
  readonly linkedAt: number;
  /** `reauth-required` once the refresh token is refused; `consent-withdrawn` after a 403 consent. */
  readonly status: 'linked' | 'reauth-required' | 'consent-withdrawn';
  /** Kinds the patient consented to on the national side at pairing (granted scopes). */
  readonly grantedKinds?: readonly ConsentKind[];
  /** The patient's local choice of kinds to send; absent = every granted kind. */
  readonly kinds?: readonly ConsentKind[];
}

/**
 * Where pairing links live, keyed by local patient id: the encrypted file of one gateway (TokenStore,
 * gateway/storage/tokens-file.ts) or a table several instances share (gateway/storage/tokens-postgres.ts).
 * Reads answer from the store's copy in memory (the forwarder and the pages read a link on every send
 * and every page); writes resolve once the link is durable. Tokens are sealed at rest in every
 * implementation by the gateway's Sealer (gateway/secrets), whose key never goes into the store.
 */
export interface LinkStore {
  get(patientId: string): PatientLink | undefined;
  list(): PatientLink[];
  put(link: PatientLink): Promise<void>;
  /** Throws MEDGW_ERR_NOT_LINKED when the patient has no link. */
  update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink>;
  remove(patientId: string): Promise<boolean>;
  /**
   * The link as durable storage holds it now, past the copy in memory (which it refreshes): what a
   * refresh reads once it holds the patient's refresh lock, since another instance may have just
   * rotated the tokens.
   */
  fresh(patientId: string): Promise<PatientLink | undefined>;
}

/**
 * Serializes token refreshes of one patient across every process that shares a LinkStore (a
 * PostgreSQL advisory lock, gateway/storage/tokens-postgres.ts). Refresh tokens rotate: two
 * processes spending the same one make the provider revoke the whole chain.
 */
export interface RefreshLock {
  /** Runs `fn` while no other holder of the lock for `patientId` runs; releases it on return or throw. */
  withLock<T>(patientId: string, fn: () => Promise<T>): Promise<T>;
}
