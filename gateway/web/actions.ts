/**
 * Every action of the local pages, implemented once: the page forms (plugin.ts) and the JSON admin
 * API (api.ts) both call these. Each validates its input, does the work through the admin operations,
 * the registry, the journal, the BLE central or the national side, audits it, and tells which live
 * topic changed. Refusals are coded errors that say what to do.
 */
import { CONSENT_KINDS, type ConsentKind } from '../../cloud-bridge/profiles.ts';
import { MedgwError } from '../../kernel/errors.ts';
import type { PublicDevice } from '../admin/ops.ts';
import type { AuditEntry, OutboxRecord } from '../contracts.ts';
import type { ApiTokens } from './auth.ts';
import type { PairingAnswer, WebDeps } from './deps.ts';
import type { Topic } from './live.ts';
import { allReadings, ledger, patientOverview, queue } from './model.ts';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface UdsUserInput {
  readonly index: number;
  readonly consentCode: number;
}

/** A reading as the JSON views show it: everything but the measured values. */
export type ReadingView = Omit<OutboxRecord, 'observation'>;

function view(r: OutboxRecord): ReadingView {
  const { observation: _values, ...rest } = r;
  return rest;
}

export interface StatusView {
  readonly gateway: { readonly state: 'ok'; readonly startedAt: number };
  readonly broker: { readonly state: 'ok' | 'notConfigured'; readonly clients?: number };
  readonly bluetooth: { readonly state: 'ok' | 'off' | 'notConfigured'; readonly adapter?: string };
  readonly national: {
    readonly state: 'ok' | 'degraded' | 'notConfigured';
    readonly label?: string;
    readonly linkedPatients?: number;
  };
  readonly queue: ReturnType<typeof queue>;
}

export interface WebActions {
  pair(address: string, udsUser?: UdsUserInput): Promise<void>;
  /** The person's answer to the pairing agent: the code the device shows, or whether the numbers match. */
  answerPairing(address: string, answer: PairingAnswer): Promise<void>;
  /** Pairs again a device that forgot the gateway. */
  repair(deviceId: string): Promise<void>;
  rename(deviceId: string, name: string): Promise<PublicDevice>;
  assign(deviceId: string, patientId: string | null, userIndex?: number): Promise<PublicDevice>;
  forget(deviceId: string): Promise<void>;
  addPatient(id: string, displayName: string): Promise<void>;
  removePatient(patientId: string): Promise<void>;
  /** Starts the authorization code flow; the person opens `url` to sign in and consent. */
  startLink(patientId: string, redirectUri: string): Promise<{ url: string }>;
  unlink(patientId: string): Promise<{ revoked: boolean; message?: string }>;
  /** The kinds the patient chose to send (`null`: every kind granted on the national side). */
  consents(patientId: string): { kinds: readonly ConsentKind[] | null; available: readonly ConsentKind[] };
  setConsents(patientId: string, kinds: readonly string[]): Promise<readonly ConsentKind[]>;
  /** Confirms a quarantined reading for a patient, with the meal moment a meter did not give (restate.ts). */
  confirmQuarantined(readingId: string, patientId: string, moment?: string): Promise<ReadingView>;
  discardQuarantined(readingId: string): Promise<ReadingView>;
  retry(readingId: string): Promise<ReadingView>;
  createToken(label: string): { id: string; token: string };
  listTokens(): ReturnType<ApiTokens['list']>;
  revokeToken(id: string): void;
  status(): StatusView;
  quarantined(): ReadingView[];
  exchanges(): ReadingView[];
  overview(): { patients: ReturnType<typeof patientOverview>; ledger: ReturnType<typeof ledger> };
  /** The audit log for export; the export itself is audited. */
  auditExport(format: 'json' | 'csv'): AuditEntry[];
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // a leading = + - @ would be a formula in a spreadsheet (CSV injection): prefix it with a quote
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The audit log as CSV (RFC 4180 line ends): seq, at, event, readingId, deviceId, patientId, kind, detail, hash. */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const cols = ['seq', 'at', 'event', 'readingId', 'deviceId', 'patientId', 'kind', 'detail', 'hash'];
  const lines = [cols.join(',')];
  for (const e of entries) {
    lines.push(
      [
        e.seq,
        new Date(e.at).toISOString(),
        e.event,
        e.readingId,
        e.deviceId,
        e.patientId,
        e.kind,
        e.detail,
        e.hash,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

type Publish = (topic: Topic) => void;

function needBle(deps: WebDeps) {
  if (!deps.ble)
    throw new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'Bluetooth is not running on this gateway');
  return deps.ble;
}

function needNational(deps: WebDeps) {
  if (!deps.national)
    throw new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'the national side is not configured');
  return deps.national;
}

const userIndexOk = (n: number) => Number.isInteger(n) && n >= 0 && n <= 254;

/** The actions, one group per page or resource. */
export function createActions(deps: WebDeps, tokens: ApiTokens, publish: Publish): WebActions {
  return {
    ...pairingActions(deps, publish),
    ...registryActions(deps),
    ...nationalActions(deps, publish),
    ...readingActions(deps),
    ...tokenActions(deps, tokens, publish),
    ...statusActions(deps),
  };
}

/** Pairing through the BLE central (the devices page): pair, answer the pairing agent, pair again. */
function pairingActions(
  deps: WebDeps,
  publish: Publish,
): Pick<WebActions, 'pair' | 'answerPairing' | 'repair'> {
  return {
    async pair(address, udsUser) {
      if (!ID.test(address)) {
        throw new MedgwError('MEDGW_ERR_WEB_FORM', 'address: the device address or id shown in the list');
      }
      if (udsUser && !userIndexOk(udsUser.index))
        throw new MedgwError('MEDGW_ERR_WEB_FORM', 'user number: 0 to 254');
      if (
        udsUser &&
        (!Number.isInteger(udsUser.consentCode) || udsUser.consentCode < 0 || udsUser.consentCode > 9999)
      ) {
        throw new MedgwError('MEDGW_ERR_WEB_FORM', 'consent code: 0 to 9999, as the device shows it');
      }
      await needBle(deps).pair(address, udsUser ? { udsUser } : {});
      publish('pairing');
    },

    async answerPairing(address, answer) {
      const ble = needBle(deps);
      if (!ID.test(address) || !ble.answer) {
        throw new MedgwError('MEDGW_ERR_BLE_NO_PROMPT', `${address} is not waiting for a pairing code`);
      }
      await ble.answer(address, answer);
      publish('pairing');
    },

    async repair(deviceId) {
      const ble = needBle(deps);
      if (!ble.repair) return ble.pair(deviceId);
      await ble.repair(deviceId);
      publish('pairing');
    },
  };
}

/**
 * Devices and patients of the registry. The changes themselves are the operations service's
 * (gateway/ops/operations.ts): one rule for the pages, the admin API and the command line; its events
 * refresh the live pages and wake the forwarder.
 */
function registryActions(
  deps: WebDeps,
): Pick<WebActions, 'rename' | 'assign' | 'forget' | 'addPatient' | 'removePatient'> {
  return {
    rename: (deviceId, name) => deps.ops.renameDevice(deviceId, name),

    async assign(deviceId, patientId, userIndex) {
      if (userIndex !== undefined) {
        if (!userIndexOk(userIndex)) throw new MedgwError('MEDGW_ERR_WEB_FORM', 'user number: 0 to 254');
        return deps.ops.assignDevice(deviceId, { users: { [String(userIndex)]: patientId } });
      }
      return deps.ops.assignDevice(deviceId, { patientId });
    },

    forget: (deviceId) => deps.ops.removeDevice(deviceId),

    async addPatient(id, displayName) {
      await deps.ops.addPatient({ id: id.trim(), displayName });
    },

    removePatient: (patientId) => deps.ops.removePatient(patientId),
  };
}

/** A patient's link with the national side: start it, end it, the kinds the patient chose to send. */
function nationalActions(
  deps: WebDeps,
  publish: Publish,
): Pick<WebActions, 'startLink' | 'unlink' | 'consents' | 'setConsents'> {
  return {
    async startLink(patientId, redirectUri) {
      if (!deps.registry.getPatient(patientId))
        throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no patient ${patientId}`);
      const { url } = await needNational(deps).startBrowserLink(patientId, { redirectUri });
      deps.journal.audit({ event: 'patient.link.started', patientId });
      publish('links');
      return { url };
    },

    unlink: (patientId) => deps.ops.unlinkPatient(patientId),

    consents(patientId) {
      const link = needNational(deps).links.get(patientId);
      if (!link) throw new MedgwError('MEDGW_ERR_NOT_LINKED', `patient ${patientId} is not linked`);
      return { kinds: link.kinds ?? null, available: CONSENT_KINDS };
    },

    setConsents: (patientId, kinds) => deps.ops.setConsents(patientId, kinds),
  };
}

/** Readings (the quarantine and exchanges pages, the provider overview): act on one, list them. */
function readingActions(
  deps: WebDeps,
): Pick<
  WebActions,
  'confirmQuarantined' | 'discardQuarantined' | 'retry' | 'quarantined' | 'exchanges' | 'overview'
> {
  return {
    confirmQuarantined: async (readingId, patientId, moment) =>
      view(await deps.ops.assignReading(readingId, patientId, moment ? { moment } : {})),

    discardQuarantined: async (readingId) => view(await deps.ops.discardReading(readingId, 'quarantined')),

    retry: async (readingId) => view(await deps.ops.retryReading(readingId)),

    quarantined: () =>
      allReadings(deps)
        .filter((r) => r.state === 'quarantined')
        .map(view),
    exchanges: () =>
      allReadings(deps)
        .filter((r) => r.state !== 'quarantined')
        .map(view),
    overview: () => ({ patients: patientOverview(deps), ledger: ledger(deps) }),
  };
}

/** Provider API tokens: create (shown once), list, revoke; each change audited. */
function tokenActions(
  deps: WebDeps,
  tokens: ApiTokens,
  publish: Publish,
): Pick<WebActions, 'createToken' | 'listTokens' | 'revokeToken'> {
  return {
    createToken(label) {
      const { token, info } = tokens.create(label, deps.clock);
      deps.journal.audit({ event: 'web.token.created' });
      publish('registry');
      return { id: info.id, token };
    },

    listTokens: () => tokens.list(),

    revokeToken(id) {
      if (!tokens.revoke(id)) throw new MedgwError('MEDGW_ERR_WEB_FORM', 'no such token');
      deps.journal.audit({ event: 'web.token.revoked' });
      publish('registry');
    },
  };
}

/** The status page's components, and the audit log export (itself audited). */
function statusActions(deps: WebDeps): Pick<WebActions, 'status' | 'auditExport'> {
  return {
    status() {
      const adapter = deps.ble?.adapterState();
      const breaker = deps.national?.state?.();
      return {
        gateway: { state: 'ok', startedAt: deps.startedAt ?? deps.clock.now() },
        broker: deps.broker
          ? { state: 'ok', clients: deps.broker.counters.connections }
          : { state: 'notConfigured' },
        bluetooth:
          adapter === undefined
            ? { state: 'notConfigured' }
            : { state: adapter === 'poweredOn' ? 'ok' : 'off', adapter },
        national: deps.national
          ? {
              state: breaker === 'open' ? 'degraded' : 'ok',
              label: deps.national.label,
              linkedPatients: deps.national.links.list().length,
            }
          : { state: 'notConfigured' },
        queue: queue(deps),
      };
    },

    auditExport(format) {
      deps.journal.audit({ event: 'audit.exported', detail: { format } });
      return deps.journal.auditList({ limit: 100_000 });
    },
  };
}
