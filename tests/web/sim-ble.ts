/**
 * A small Bluetooth side for the page tests: real noble over the virtual radio scans, connects to a
 * simulated scale, gives the User Data Service consent, reads the device clock, subscribes to Weight
 * Measurement and hands decoded weights to the pipeline. It implements the pages' WebBluetooth
 * interface with the same pairing states as the gateway's BLE central.
 */
import { EventEmitter } from 'node:events';
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble';
import { decodeFrame } from '../../drivers/decode.ts';
import { MedgwError } from '../../drivers/errors.ts';
import type { DeviceDateTime } from '../../drivers/types.ts';
import type { AdminOps } from '../../gateway/admin/ops.ts';
import type { Clock, ReadingSink } from '../../gateway/contracts.ts';
import type { NearbyDevice, PairingProgress, PairingState, WebBluetooth } from '../../gateway/web/deps.ts';

export class SimBluetooth extends EventEmitter implements WebBluetooth {
  private readonly seen = new Map<string, NearbyDevice>();
  private readonly progress = new Map<string, PairingProgress>();
  private readonly connected = new Map<string, Peripheral>();
  private readonly peripherals = new Map<string, Peripheral>();
  private readonly synced = new Map<string, number>();
  private state = 'unknown';

  constructor(
    private readonly noble: Noble,
    private readonly sink: ReadingSink,
    private readonly ops: AdminOps,
    private readonly clock: Clock,
    /** UDS consent code per address (the code the person types on the scale). */
    private readonly consentCodes: ReadonlyMap<string, number>,
  ) {
    super();
    noble.on('stateChange', (s: string) => {
      this.state = s;
    });
    noble.on('discover', (p: Peripheral) => {
      const address = p.address.toUpperCase();
      this.peripherals.set(address, p);
      this.seen.set(address, {
        address,
        ...(p.advertisement.localName ? { name: p.advertisement.localName } : {}),
        rssi: p.rssi,
        seenAt: this.clock.now(),
      });
    });
  }

  async start(): Promise<void> {
    await this.noble.waitForPoweredOnAsync(5000);
    this.state = 'poweredOn';
    await this.noble.startScanningAsync([], true);
  }

  async stop(): Promise<void> {
    await this.noble.stopScanningAsync();
    for (const p of this.connected.values()) await p.disconnectAsync().catch(() => undefined);
  }

  adapterState(): string {
    return this.state;
  }

  nearby(): NearbyDevice[] {
    return [...this.seen.values()];
  }

  pairings(): PairingProgress[] {
    return [...this.progress.values()];
  }

  health(deviceId: string) {
    const at = this.synced.get(deviceId);
    return at === undefined ? undefined : { lastSyncAt: at, clock: 'synced' as const };
  }

  async forget(deviceId: string): Promise<void> {
    const p = this.connected.get(deviceId);
    this.connected.delete(deviceId);
    await p?.disconnectAsync();
  }

  private step(address: string, state: PairingState, extra: Partial<PairingProgress> = {}): void {
    const prev = this.progress.get(address);
    const p: PairingProgress = { ...prev, address, state, at: this.clock.now(), ...extra };
    this.progress.set(address, p);
    this.emit('progress', p);
  }

  async pair(address: string): Promise<void> {
    const p = this.peripherals.get(address.toUpperCase());
    if (!p) {
      this.step(address, 'failed', {
        code: 'MEDGW_ERR_BLE_NOT_DISCOVERED',
        message: 'the device is no longer advertising',
      });
      return;
    }
    this.step(address, 'discovered', {
      ...(p.advertisement.localName ? { name: p.advertisement.localName } : {}),
    });
    // the pairing runs on; the page shows its progress
    void this.run(p, address.toUpperCase()).catch((e: unknown) => {
      const code = (e as { code?: string }).code ?? 'MEDGW_ERR_BLE_UNREACHABLE';
      this.step(address, 'failed', { code, message: e instanceof Error ? e.message : String(e) });
    });
  }

  private async run(p: Peripheral, address: string): Promise<void> {
    const deviceId = `ble-${address.replace(/:/g, '').toLowerCase()}`;
    this.step(address, 'connecting', { deviceId });
    await p.connectAsync();
    this.step(address, 'discovering');
    const { characteristics } = await p.discoverAllServicesAndCharacteristicsAsync();
    const chars = new Map<string, Characteristic>(characteristics.map((c) => [c.uuid, c]));
    const get = (uuid: string) => {
      const c = chars.get(uuid);
      if (!c) throw new MedgwError('MEDGW_ERR_BLE_PROFILE', `the device has no characteristic ${uuid}`);
      return c;
    };
    if (!this.ops || !(await this.ops.listDevices()).some((d) => d.id === deviceId)) {
      await this.ops.addDevice({
        id: deviceId,
        transport: 'ble',
        name: p.advertisement.localName ?? address,
      });
    }
    this.connected.set(deviceId, p);
    this.step(address, 'bonding');
    const ucp = get('2a9f');
    await ucp.subscribeAsync();
    const code = this.consentCodes.get(address) ?? 0;
    const answer = new Promise<Buffer>((resolve) => ucp.once('data', (d: Buffer) => resolve(d)));
    // UDS User Control Point: Consent (0x02), user index 0, consent code (uint16 LE)
    await ucp.writeAsync(Buffer.from([0x02, 0x00, code & 0xff, code >> 8]), false);
    const res = await answer;
    if (res[2] !== 0x01) {
      throw new MedgwError('MEDGW_ERR_BLE_UDS_CONSENT', 'the scale refused the consent code');
    }
    // Current Time (0x2A2B): the device's sense of now beside the gateway's
    const ct = await get('2a2b').readAsync();
    const device: DeviceDateTime = {
      year: ct.readUInt16LE(0),
      month: ct[2] ?? 0,
      day: ct[3] ?? 0,
      hours: ct[4] ?? 0,
      minutes: ct[5] ?? 0,
      seconds: ct[6] ?? 0,
    };
    const coincident = { device, gatewayMs: this.clock.now() };
    this.step(address, 'subscribing');
    const weight = get('2a9d');
    weight.on('data', (data: Buffer, isNotification: boolean) => {
      if (!isNotification) return;
      const decoded = decodeFrame('2A9D', data);
      void this.sink
        .submit({ deviceId, transport: 'ble', measurements: decoded.measurements ?? [], coincident })
        .then(() => {
          this.synced.set(deviceId, this.clock.now());
          this.emit('progress', {
            ...this.progress.get(address),
            address,
            state: 'synced',
            at: this.clock.now(),
          });
        });
    });
    await weight.subscribeAsync();
    this.step(address, 'syncing');
    this.synced.set(deviceId, this.clock.now());
    this.step(address, 'synced');
  }
}
