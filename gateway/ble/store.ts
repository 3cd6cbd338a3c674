/**
 * What the BLE central keeps between connections besides the registry device record: the User Data
 * Service users the gateway may consent as, per device, with their consent codes sealed (AES-256-GCM,
 * the data directory key of cloud-bridge/token-store.ts). Kept in the registry's `ble` section when
 * the registry has named sections, else in memory. A consent code is never logged.
 */
import { randomBytes } from 'node:crypto';
import { decrypt, encrypt } from '../../cloud-bridge/token-store.ts';
import { MedgwError } from '../../kernel/errors.ts';
import type { Registry } from '../contracts.ts';

export interface UdsUser {
  /** UDS user index on the device (0..254). */
  readonly index: number;
  readonly consentCode: number;
}

interface StoredUser {
  readonly index: number;
  /** Sealed consent code (see cloud-bridge/token-store.ts encrypt). */
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
  private data: Section;
  private readonly key: Buffer;

  /** `key`: 32 bytes; without one (tests, memory registries) a key for this process only. */
  constructor(
    private readonly registry: Registry,
    key?: Buffer,
  ) {
    this.key = key ?? randomBytes(32);
    this.data = (hasSections(registry) ? registry.getSection<Section>(SECTION) : undefined) ?? {
      devices: {},
    };
  }

  udsUsers(deviceId: string): UdsUser[] {
    return (this.data.devices[deviceId]?.udsUsers ?? []).map((u) => {
      const code = Number(decrypt(this.key, u.sealed));
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
  async putUdsUser(deviceId: string, user: UdsUser): Promise<void> {
    const others = (this.data.devices[deviceId]?.udsUsers ?? []).filter((u) => u.index !== user.index);
    const sealed = encrypt(this.key, String(user.consentCode));
    const udsUsers = [...others, { index: user.index, sealed }].sort((a, b) => a.index - b.index);
    await this.save({ devices: { ...this.data.devices, [deviceId]: { udsUsers } } });
  }

  /** Drops everything kept for a device (forget). */
  async forget(deviceId: string): Promise<void> {
    if (!this.data.devices[deviceId]) return;
    const { [deviceId]: _gone, ...devices } = this.data.devices;
    await this.save({ devices });
  }

  private async save(next: Section): Promise<void> {
    if (hasSections(this.registry)) await this.registry.putSection(SECTION, next);
    this.data = next;
  }
}
