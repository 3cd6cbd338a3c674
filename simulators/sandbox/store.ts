/**
 * The sandbox's state, all in memory: registered clients, pairings with consent per kind, received
 * Observations and Devices, and the audit trail (never measured values).
 */
import type { ConsentKind } from './profiles.ts';

export interface ClientRecord {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientName: string;
  readonly redirectUris: readonly string[];
  readonly applicationType: 'web' | 'native';
  readonly authMethod: 'client_secret_basic' | 'client_secret_post';
  solutionOid: string;
}

export interface Pairing {
  readonly sub: string;
  readonly clientId: string;
  kinds: Set<ConsentKind>;
  pairedAt: string;
  readonly grantIds: Set<string>;
}

export interface StoredObservation {
  readonly id: string;
  readonly receivedAt: string;
  readonly clientId: string;
  readonly solutionOid: string;
  readonly idPe: string;
  readonly sub: string;
  readonly kind: string;
  readonly code: string;
  /** `system|value` of the first Observation.identifier, when there is one. */
  readonly identifier: string | undefined;
  readonly deviceId: string | undefined;
  /** The id of an earlier Observation with the same identifier (the national side does not deduplicate). */
  readonly duplicateOf: string | undefined;
  /** epoch ms of effectiveDateTime, for search. */
  readonly effectiveMs: number;
  readonly resource: Record<string, unknown>;
  /** The DiagnosticReport that came with it in an ans.fhir.fr.mesures 3.2.0 biology Bundle. */
  readonly report?: { readonly id: string; readonly resource: Record<string, unknown> };
}

export interface StoredDevice {
  readonly id: string;
  /** `system|value` from ifNoneExist. */
  readonly key: string;
  readonly createdAt: string;
  readonly clientId: string;
  readonly resource: Record<string, unknown>;
}

export type AuditEvent =
  | 'pairing'
  | 'consent'
  | 'consent.revoked'
  | 'unpaired'
  | 'observation.created'
  | 'observation.refused'
  | 'search'
  /** A refresh-token grant answered with new tokens. */
  | 'token.refreshed'
  /** A rotated refresh token spent again: the whole grant is revoked (RFC 9700 §4.14.2). */
  | 'token.reuse-revoked';

export interface AuditEntry {
  readonly at: string;
  readonly event: AuditEvent;
  readonly clientId?: string;
  readonly solutionOid?: string;
  readonly idPe?: string;
  readonly kind?: string;
  readonly status?: number;
  readonly message?: string;
  readonly observationId?: string;
  readonly deviceId?: string;
}

export class SandboxStore {
  readonly clients = new Map<string, ClientRecord>();
  readonly pairings = new Map<string, Pairing>();
  readonly observations: StoredObservation[] = [];
  readonly devices = new Map<string, StoredDevice>();
  readonly audit: AuditEntry[] = [];

  pairing(sub: string, clientId: string): Pairing | undefined {
    return this.pairings.get(`${sub} ${clientId}`);
  }

  setPairing(p: Pairing): void {
    this.pairings.set(`${p.sub} ${p.clientId}`, p);
  }

  removePairing(sub: string, clientId: string): Pairing | undefined {
    const p = this.pairing(sub, clientId);
    this.pairings.delete(`${sub} ${clientId}`);
    return p;
  }

  pairingsOf(sub: string): Pairing[] {
    return [...this.pairings.values()].filter((p) => p.sub === sub);
  }

  private readonly deviceKeys = new Map<string, string>();
  private readonly firstByIdentifier = new Map<string, string>();

  deviceByKey(key: string): StoredDevice | undefined {
    const id = this.deviceKeys.get(key);
    return id === undefined ? undefined : this.devices.get(id);
  }

  addDevice(d: StoredDevice): void {
    this.devices.set(d.id, d);
    this.deviceKeys.set(d.key, d.id);
  }

  /** The first Observation stored for this patient with this identifier (`system|value`). */
  firstWithIdentifier(sub: string, identifier: string): string | undefined {
    return this.firstByIdentifier.get(`${sub} ${identifier}`);
  }

  addObservation(o: StoredObservation): void {
    this.observations.push(o);
    if (o.identifier !== undefined && !this.firstByIdentifier.has(`${o.sub} ${o.identifier}`)) {
      this.firstByIdentifier.set(`${o.sub} ${o.identifier}`, o.id);
    }
  }
}
