/**
 * The command line's way to the BLE central: pairing and the list of nearby devices need the radio,
 * which only the running gateway holds, so these calls go through its admin API (`/api/v1/ble/...`)
 * and are refused with MEDGW_ERR_BLE_GATEWAY_NOT_RUNNING when no gateway holds the data directory.
 */
import { MedgwError } from '../../kernel/errors.ts';
import { adminRequest } from '../admin/client.ts';
import type { PairingPrompt, PromptAnswer } from '../ble/bluez/prompts.ts';
import type { BleDeviceStatus } from '../ble/central.ts';
import type { BleStateChange } from '../ble/states.ts';
import type { UdsUser } from '../ble/store.ts';
import { lockHolder, readAdminEndpoint, readAdminToken } from '../datadir.ts';

/** One event of the gateway's stream: a state change, or a question of the pairing agent (dbus mode). */
export type BleEvent =
  | { readonly type: 'state'; readonly change: BleStateChange }
  | { readonly type: 'prompt'; readonly prompt: PairingPrompt };

export interface PairRequest {
  readonly patientId?: string;
  readonly name?: string;
  readonly udsUsers?: readonly UdsUser[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class BleAdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** The client of the gateway running on `dataDir`, or a coded refusal saying to start it. */
  static async forDataDir(dataDir: string, waitMs = 5000): Promise<BleAdminClient> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const holder = lockHolder(dataDir);
      if (holder?.role !== 'gateway') {
        throw new MedgwError(
          'MEDGW_ERR_BLE_GATEWAY_NOT_RUNNING',
          `no gateway runs on ${dataDir}: start it with \`medgw start --data-dir ${dataDir}\` (pairing needs the radio), then run this command again`,
        );
      }
      const endpoint = readAdminEndpoint(dataDir);
      const token = readAdminToken(dataDir);
      if (endpoint && endpoint.pid === holder.pid && token) return new BleAdminClient(endpoint.url, token);
      if (Date.now() >= deadline) {
        throw new MedgwError(
          'MEDGW_ERR_ADMIN_UNREACHABLE',
          `the gateway (process ${holder.pid}) holds ${dataDir} but has not published its admin endpoint`,
        );
      }
      await sleep(100);
    }
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    // the BLE routes exist only when the gateway has a central: a missing route means ble.mode off
    return adminRequest<T>(this.baseUrl, this.token, method, `/ble${path}`, body, (code) =>
      code === 'MEDGW_ERR_ADMIN_NOT_FOUND'
        ? new MedgwError(
            'MEDGW_ERR_BLE_OFF',
            'the running gateway has no BLE central (ble.mode: off): restart it with --ble auto to pair Bluetooth devices',
          )
        : undefined,
    );
  }

  /** Every device the central tracks: discovered nearby (with RSSI and matched driver) and paired. */
  async devices(): Promise<BleDeviceStatus[]> {
    return (await this.call<{ devices: BleDeviceStatus[] }>('GET', '/devices')).devices;
  }

  /**
   * The central's state changes as they happen (the server-sent events of `/api/v1/ble/events`),
   * until `signal` aborts. Resolves once the stream is open, so no change after it is missed.
   */
  async events(signal: AbortSignal): Promise<AsyncIterable<BleStateChange>> {
    const all = await this.stream(signal);
    return (async function* () {
      for await (const e of all) if (e.type === 'state') yield e.change;
    })();
  }

  /** State changes and the pairing agent's questions, as they happen (see `events`). */
  async stream(signal: AbortSignal): Promise<AsyncIterable<BleEvent>> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1/ble/events`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
        signal,
      });
    } catch (e) {
      throw new MedgwError(
        'MEDGW_ERR_ADMIN_UNREACHABLE',
        `the gateway at ${this.baseUrl} does not answer: ${(e as Error).message}`,
      );
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      if (res.status === 404)
        throw new MedgwError('MEDGW_ERR_BLE_OFF', 'the running gateway has no BLE central (ble.mode: off)');
      throw new MedgwError('MEDGW_ERR_ADMIN_UNREACHABLE', `the state stream answered ${res.status}`);
    }
    const body = res.body;
    return (async function* (): AsyncGenerator<BleEvent> {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (!data) continue;
            if (/^event: state$/m.test(block))
              yield { type: 'state', change: JSON.parse(data) as BleStateChange };
            else if (/^event: prompt$/m.test(block))
              yield { type: 'prompt', prompt: JSON.parse(data) as PairingPrompt };
          }
        }
      } catch (e) {
        if (!signal.aborted) throw e;
      }
    })();
  }

  /** The person's answer to the pairing agent's question about `address` (the code, or yes/no). */
  async answer(address: string, answer: PromptAnswer): Promise<void> {
    await this.call('POST', `/devices/${encodeURIComponent(address)}/passkey`, answer);
  }

  /** Pairs a device again after it forgot the gateway (its stale key removed from the stack). */
  async repair(address: string): Promise<BleDeviceStatus> {
    return (
      await this.call<{ device: BleDeviceStatus }>(
        'POST',
        `/devices/${encodeURIComponent(address)}/repair`,
        {},
      )
    ).device;
  }

  /** Asks the central to forget a device: disconnect, drop its bond, consents and registry entry. */
  async forget(address: string): Promise<boolean> {
    return (
      await this.call<{ forgotten: boolean }>('POST', `/devices/${encodeURIComponent(address)}/forget`, {})
    ).forgotten;
  }

  /** Asks the central to pair a discovered device; it connects, bonds and syncs in the background. */
  async pair(address: string, request: PairRequest = {}): Promise<BleDeviceStatus> {
    return (
      await this.call<{ device: BleDeviceStatus }>(
        'POST',
        `/devices/${encodeURIComponent(address)}/pair`,
        request,
      )
    ).device;
  }
}
