/**
 * What the BLE central keeps between connections besides the registry device record: the User Data
 * Service users the gateway may consent as, per device, with their consent codes sealed (AES-256-GCM,
 * the data directory's Sealer of gateway/secrets). Kept in the registry's section `ble:<device id>`
 * when the registry has named sections, else in memory; read through the registry at each use, so
 * instances sharing a PostgreSQL registry see each other's consents. A consent code is never logged.
 */
import { createHash } from 'node:crypto';
import { MedgwError } from '../../kernel/errors.ts';
import type { Registry } from '../contracts.ts';
import { processSealer, type Sealer } from '../secrets/index.ts';

export interface UdsUser {
  /** UDS user index on the device (0..254). */
  readonly index: number;
  readonly consentCode: number;
}

interface StoredUser {
  readonly index: number;
  /** Sealed consent code (gateway/secrets/sealer.ts). */
  readonly sealed: string;
}

/** What is kept for one device. */
interface DeviceEntry {
  readonly udsUsers: readonly StoredUser[];
}

/** The single `ble` section of earlier versions, every device in one value: read, never written. */
interface LegacySection {
  readonly devices: Record<string, DeviceEntry>;
}

interface SectionRegistry {
  getSection<T>(name: string): T | undefined;
  putSection(name: string, value: unknown): Promise<void>;
}

function hasSections(r: Registry): r is Registry & SectionRegistry {
  const x = r as Partial<SectionRegistry>;
  return typeof x.getSection === 'function' && typeof x.putSection === 'function';
}

const LEGACY_SECTION = 'ble';

/**
 * One registry section per device (`ble:<device id>`, or a digest of a very long id: a section name
 * is at most 128 characters), so that instances sharing a PostgreSQL registry writing two devices at
 * once never overwrite each other's.
 */
function sectionOf(deviceId: string): string {
  const name = `ble:${deviceId}`;
  return name.length <= 128 ? name : `ble:sha256:${createHash('sha256').update(deviceId).digest('hex')}`;
}

export class BleStore {
  /** The entries of a registry without named sections (memory registries in tests): kept here. */
  private readonly local = new Map<string, DeviceEntry>();
  private readonly sealer: Sealer;
  /** This store's writes, one after the other (each reads a device's entry, changes it, writes it). */
  private writes: Promise<unknown> = Promise.resolve();

  /** `sealer`: the data directory's (gateway/secrets); without one (tests) a key for this process only. */
  constructor(
    private readonly registry: Registry,
    sealer?: Sealer,
  ) {
    this.sealer = sealer ?? processSealer();
  }

  /**
   * A device's entry as the registry holds it now, read at each use, never a copy taken at start:
   * with several instances on PostgreSQL, a consent another instance wrote reaches this one's registry
   * through its change notifications (gateway/registry/postgres.ts), and so this store. A device not
   * written since the per-device sections is read from the single section of earlier versions.
   */
  private read(deviceId: string): DeviceEntry | undefined {
    if (!hasSections(this.registry)) return this.local.get(deviceId);
    return (
      this.registry.getSection<DeviceEntry>(sectionOf(deviceId)) ??
      this.registry.getSection<LegacySection>(LEGACY_SECTION)?.devices[deviceId]
    );
  }

  udsUsers(deviceId: string): UdsUser[] {
    return (this.read(deviceId)?.udsUsers ?? []).map((u) => {
      const code = Number(this.sealer.open(u.sealed));
      if (!Number.isInteger(code)) {
        throw new MedgwError(
          'MEDGW_ERR_BLE_UDS_CONSENT',
          `the stored consent of user ${u.index} is unreadable`,
        );
      }
      return { index: u.index, consentCode: code };
    });
  }

  /** Adds or replaces the consent of one UDS user of a device. */
  putUdsUser(deviceId: string, user: UdsUser): Promise<void> {
    const sealed = this.sealer.seal(String(user.consentCode));
    return this.change(deviceId, (entry) => {
      const others = (entry?.udsUsers ?? []).filter((u) => u.index !== user.index);
      return { udsUsers: [...others, { index: user.index, sealed }].sort((a, b) => a.index - b.index) };
    });
  }

  /** Drops everything kept for a device (forget); an entry of the earlier single section is shadowed. */
  forget(deviceId: string): Promise<void> {
    return this.change(deviceId, (entry) => (entry?.udsUsers.length ? { udsUsers: [] } : undefined));
  }

  /** Reads the device's entry once this store's previous write is done, and writes `edit`'s result. */
  private change(
    deviceId: string,
    edit: (entry: DeviceEntry | undefined) => DeviceEntry | undefined,
  ): Promise<void> {
    const run = this.writes.then(async () => {
      const next = edit(this.read(deviceId));
      if (!next) return;
      if (hasSections(this.registry)) await this.registry.putSection(sectionOf(deviceId), next);
      else this.local.set(deviceId, next);
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}
