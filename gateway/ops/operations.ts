/**
 * The operations service: every change a person makes through the pages, the JSON admin API or the
 * command line, with its rule written once. The pages' forms (gateway/web/plugin.ts) and the
 * `/api/v1` routes (gateway/admin/server.ts, gateway/web/api.ts) all call it, so one operation gives
 * one result whichever door it came through.
 *
 * The journal and registry transitions (retry, discard, confirm, add, assign, remove) are the store
 * operations of `LocalAdminOps` (store.ts), which the command line also runs on a stopped
 * gateway; this service adds the rules that need the running parts (the Bluetooth bond, the national
 * link, the consent choices) and, after each operation, one event: which live pages changed, whether
 * the forwarder should look at the outbox now, and the audit entries written.
 */
import { EventEmitter } from 'node:events';
import { CONSENT_KINDS, type ConsentKind } from '../../cloud-bridge/profiles.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { MedgwError } from '../../kernel/errors.ts';
import type {
  AuditEntry,
  Journal,
  OutboxRecord,
  OutboxState,
  PatientRecord,
  Registry,
} from '../contracts.ts';
import type { JournalStats } from '../journal/rules.ts';
import type { Statement } from '../pipeline/restate.ts';
import type { AdminOps, AssignBody, AuditVerification, PublicDevice } from './store.ts';

/** What a live page shows, named in the event so the pages refresh only what changed. */
export type OpsTopic = 'readings' | 'pairing' | 'exchanges' | 'registry' | 'links';

/** Names of the operations, as events carry them. */
export type OpName =
  | 'device.add'
  | 'device.remove'
  | 'device.rename'
  | 'device.assign'
  | 'patient.add'
  | 'patient.remove'
  | 'patient.unlink'
  | 'patient.consents'
  | 'reading.retry'
  | 'reading.discard'
  | 'reading.confirm'
  /** Another instance sharing the storage changed something (gateway/web/shared-changes.ts). */
  | 'storage.changed';

/** Told after every operation that changed something. */
export interface OpsEvent {
  readonly op: OpName;
  /** Live pages to refresh. */
  readonly topics: readonly OpsTopic[];
  /** The forwarder should look at the outbox now (a reading went back to pending, a consent changed). */
  readonly kick: boolean;
  /** The device, patient or reading the operation changed. */
  readonly subject: string;
}

/** The Bluetooth central as the operations use it: dropping a bond when a device is forgotten. */
export interface OpsBluetooth {
  forget?(deviceId: string): Promise<unknown>;
}

/** The national side as the operations use it: the patient links and the revocation. */
export interface OpsNational {
  unlink(patientId: string): Promise<{ revoked: boolean; message?: string }>;
  readonly links: {
    get(patientId: string): PatientLink | undefined;
    update(patientId: string, patch: Partial<Omit<PatientLink, 'patientId'>>): Promise<PatientLink>;
  };
  /** Wakes the forwarder (a reading went back to pending). */
  kick?(): void;
}

export interface OperationsOptions {
  readonly registry: Registry;
  readonly journal: Journal;
}

export class Operations implements AdminOps {
  readonly #store: AdminOps;
  readonly #registry: Registry;
  readonly #journal: Journal;
  readonly #events = new EventEmitter();
  #ble: OpsBluetooth | undefined;
  #national: OpsNational | undefined;

  /** `store`: the journal and registry operations (LocalAdminOps over the same registry and journal). */
  constructor(store: AdminOps, options: OperationsOptions) {
    this.#store = store;
    this.#registry = options.registry;
    this.#journal = options.journal;
  }

  /**
   * Plugs in the running parts the operations reach (Bluetooth, the national side); a kick event
   * wakes the national side's forwarder. Returns the function that unplugs them.
   */
  attach(parts: { readonly ble?: OpsBluetooth; readonly national?: OpsNational }): () => void {
    this.#ble = parts.ble;
    this.#national = parts.national;
    const kick = (e: OpsEvent) => {
      if (e.kick) parts.national?.kick?.();
    };
    this.#events.on('event', kick);
    return () => {
      this.#events.off('event', kick);
      if (this.#ble === parts.ble) this.#ble = undefined;
      if (this.#national === parts.national) this.#national = undefined;
    };
  }

  on(event: 'event', listener: (e: OpsEvent) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off(event: 'event', listener: (e: OpsEvent) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /**
   * Runs an operation (which writes its own audit entries in the journal), then tells what it changed:
   * the live pages to refresh and whether the forwarder should look now.
   */
  async #run<T>(
    op: OpName,
    subject: string,
    topics: readonly OpsTopic[],
    kick: boolean,
    work: () => Promise<T>,
  ): Promise<T> {
    const result = await work();
    this.#events.emit('event', { op, subject, topics, kick } satisfies OpsEvent);
    return result;
  }

  /**
   * Another instance sharing the storage changed what the live pages show (its registry or journal
   * notification, throttled by gateway/web/shared-changes.ts): one event, as after a local operation.
   * The forwarder has its own wake-up for the journal's notifications: no kick.
   */
  changedElsewhere(topics: readonly OpsTopic[]): void {
    if (topics.length === 0) return;
    this.#events.emit('event', {
      op: 'storage.changed',
      subject: '',
      topics,
      kick: false,
    } satisfies OpsEvent);
  }

  #needNational(): OpsNational {
    if (!this.#national)
      throw new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'the national side is not configured');
    return this.#national;
  }

  // --- reading ------------------------------------------------------------------------------------

  listDevices(): Promise<PublicDevice[]> {
    return this.#store.listDevices();
  }

  getDevice(id: string): Promise<PublicDevice> {
    return this.#store.getDevice(id);
  }

  listPatients(): Promise<PatientRecord[]> {
    return this.#store.listPatients();
  }

  outbox(filter: Parameters<AdminOps['outbox']>[0]): Promise<OutboxRecord[]> {
    return this.#store.outbox(filter);
  }

  journalStats(): Promise<JournalStats> {
    return this.#store.journalStats();
  }

  auditList(filter: Parameters<AdminOps['auditList']>[0]): Promise<AuditEntry[]> {
    return this.#store.auditList(filter);
  }

  auditVerify(): Promise<AuditVerification> {
    return this.#store.auditVerify();
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  // --- devices ------------------------------------------------------------------------------------

  addDevice(input: Parameters<AdminOps['addDevice']>[0]): ReturnType<AdminOps['addDevice']> {
    return this.#run('device.add', input.id, ['registry'], false, () => this.#store.addDevice(input));
  }

  /** Forgets a device: its Bluetooth bond and connection when BLE runs, then the registry entry. */
  removeDevice(id: string): Promise<void> {
    return this.#run('device.remove', id, ['registry'], false, async () => {
      if (!this.#registry.getDevice(id))
        throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${id} in the registry`);
      await this.#ble?.forget?.(id);
      await this.#store.removeDevice(id);
    });
  }

  renameDevice(id: string, rawName: string): Promise<PublicDevice> {
    return this.#run('device.rename', id, ['registry'], false, async () => {
      const d = this.#registry.getDevice(id);
      if (!d) throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no device ${id} in the registry`);
      const name = rawName.trim();
      if (name.length === 0 || name.length > 100)
        throw new MedgwError('MEDGW_ERR_ADMIN_BAD_REQUEST', 'name: 1 to 100 characters');
      await this.#registry.putDevice({ ...d, name });
      this.#journal.audit({ event: 'device.renamed', deviceId: id });
      return this.#store.getDevice(id);
    });
  }

  assignDevice(id: string, change: AssignBody): Promise<PublicDevice> {
    return this.#run('device.assign', id, ['registry'], false, () => this.#store.assignDevice(id, change));
  }

  // --- patients -----------------------------------------------------------------------------------

  addPatient(input: Parameters<AdminOps['addPatient']>[0]): Promise<PatientRecord> {
    return this.#run('patient.add', input.id, ['registry'], false, () => this.#store.addPatient(input));
  }

  /** Removes a patient; a linked one is unlinked on the national side first. */
  removePatient(id: string): Promise<void> {
    return this.#run('patient.remove', id, ['registry', 'links'], false, async () => {
      if (!this.#registry.getPatient(id))
        throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no patient ${id} in the registry`);
      if (this.#national?.links.get(id)) {
        await this.#national.unlink(id);
        this.#journal.audit({ event: 'patient.unlinked', patientId: id });
      }
      await this.#store.removePatient(id);
    });
  }

  /** Revokes the patient's national tokens; new readings are held. */
  unlinkPatient(id: string): Promise<{ revoked: boolean; message?: string }> {
    return this.#run('patient.unlink', id, ['links'], false, async () => {
      const r = await this.#needNational().unlink(id);
      this.#journal.audit({ event: 'patient.unlinked', patientId: id });
      return r;
    });
  }

  /** The kinds a linked patient chose to send; held readings of a chosen kind are released. */
  setConsents(id: string, kinds: readonly string[]): Promise<readonly ConsentKind[]> {
    return this.#run('patient.consents', id, ['links'], true, async () => {
      const national = this.#needNational();
      const bad = kinds.filter((k) => !(CONSENT_KINDS as readonly string[]).includes(k));
      if (bad.length) throw new MedgwError('MEDGW_ERR_ADMIN_BAD_REQUEST', `kind: unknown ${bad.join(', ')}`);
      if (!national.links.get(id))
        throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${id} is not linked`);
      const chosen = kinds as readonly ConsentKind[];
      await national.links.update(id, { kinds: [...chosen] });
      this.#journal.audit({ event: 'patient.consents', patientId: id, detail: { kinds: kinds.join(' ') } });
      return chosen;
    });
  }

  // --- readings -----------------------------------------------------------------------------------

  /** Sends a dead-letter, held or quarantined reading again. */
  retryReading(id: string, statement?: Statement): Promise<OutboxRecord> {
    return this.#run('reading.retry', id, ['exchanges', 'readings'], true, () =>
      this.#store.retryReading(id, statement),
    );
  }

  /**
   * Discards a reading (values purged, never sent). `expected`: the state the person saw it in (the
   * quarantine page): a reading that left it meanwhile is refused rather than discarded.
   */
  discardReading(id: string, expected?: OutboxState): Promise<OutboxRecord> {
    return this.#run('reading.discard', id, ['exchanges', 'readings'], false, async () => {
      const r = this.#journal.get(id);
      if (r && expected && r.state !== expected) {
        throw new MedgwError(
          'MEDGW_ERR_JOURNAL_STATE',
          `the reading is ${r.state}, no longer ${expected === 'quarantined' ? 'waiting to be checked' : expected}`,
        );
      }
      return this.#store.discardReading(id);
    });
  }

  /** Confirms a quarantined reading for a patient; it is sent. */
  assignReading(id: string, patientId: string, statement?: Statement): Promise<OutboxRecord> {
    return this.#run('reading.confirm', id, ['exchanges', 'readings'], true, () =>
      this.#store.assignReading(id, patientId, statement),
    );
  }
}

declare module '../lifecycle.ts' {
  interface ServiceMap {
    /** The operations service: the pages and the admin API change things only through it. */
    ops: Operations;
  }
}
