/**
 * What the BLE central keeps between connections besides the registry device record: the User Data
 * Service users the gateway may consent as, per device, with their consent codes sealed (AES-256-GCM,
 * the data directory's Sealer of gateway/secrets). Kept in the registry's `ble` section when the
 * registry has named sections, else in memory; read through the registry at each use, so instances
 * sharing a PostgreSQL registry see each other's consents. A consent code is never logged.
 */
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

interface Section {
  readonly devices: Record<string, { readonly udsUsers: readonly StoredUser[] }>;
}

interface SectionRegistry {
  getSection<T>(name: string): T | undefined;
  putSection(name: string, value: unknown): Promise<void>;
}

function hasSections(r: Registry): r is Registry & SectionRegistry {
  const x = r as Partial<SectionRegistry>;
  return typeof x.getSection === 'function' && typeof x.putSection === 'function';
}

const SECTION = 'ble';

export class BleStore {
  /** The section of a registry without named sections (memory registries in tests): kept here. */
  private local: Section = { devices: {} };
  private readonly sealer: Sealer;
  /** This store's writes, one after the other (each reads the section, changes one device, writes it). */
  private writes: Promise<unknown> = Promise.resolve();

  /** `sealer`: the data directory's (gateway/secrets); without one (tests) a key for this process only. */
  constructor(
    private readonly registry: Registry,
    sealer?: Sealer,
  ) {
    this.sealer = sealer ?? processSealer();
  }

  /**
   * The section as the registry holds it now, read at each use, never a copy taken at start: with
   * several instances on PostgreSQL, a consent or bond another instance wrote reaches this one's
   * registry through its change notifications (gateway/registry/postgres.ts), and so this store.
   */
  private read(): Section {
    if (!hasSections(this.registry)) return this.local;
    return this.registry.getSection<Section>(SECTION) ?? { devices: {} };
  }

  udsUsers(deviceId: string): UdsUser[] {
    return (this.read().devices[deviceId]?.udsUsers ?? []).map((u) => {
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
    return this.change((data) => {
      const others = (data.devices[deviceId]?.udsUsers ?? []).filter((u) => u.index !== user.index);
      const udsUsers = [...others, { index: user.index, sealed }].sort((a, b) => a.index - b.index);
      return { devices: { ...data.devices, [deviceId]: { udsUsers } } };
    });
  }

  /** Drops everything kept for a device (forget). */
  forget(deviceId: string): Promise<void> {
    return this.change((data) => {
      if (!data.devices[deviceId]) return undefined;
      const { [deviceId]: _gone, ...devices } = data.devices;
      return { devices };
    });
  }

  /** Reads the section as it is when this store's previous write is done, and writes `edit`'s result. */
  private change(edit: (data: Section) => Section | undefined): Promise<void> {
    const run = this.writes.then(async () => {
      const next = edit(this.read());
      if (!next) return;
      if (hasSections(this.registry)) await this.registry.putSection(SECTION, next);
      else this.local = next;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}
