/**
 * noble's own D-Bus bindings (the `dbus` mode's code, unmodified) against the fake BlueZ on a private
 * dbus-daemon: discovery, connection, GATT reads and notifications, the pairing agent with each pairing
 * method, a wrong passkey, a device that refuses until bonded, a device that forgot the bond, link loss.
 */
import type { Peripheral } from '@stoprocent/noble';
import { afterEach, describe, expect, it } from 'vitest';
import { isMedgwError } from '../../kernel/errors.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { FakeBluez, type PairingMethod } from '../../simulators/bluez/fake-bluez.ts';
import { dbus } from '../../simulators/bluez/objects.ts';
import { type BluezBench, bluezBench, until } from './harness.ts';

let b: BluezBench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const ID = 'C0:26:DA:00:00:11';

function meter(address = ID) {
  return new SimGlucometer({
    address,
    requireBonding: true,
    records: [
      {
        baseTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: 0, seconds: 0 },
        concentration: mgdl(104),
      },
    ],
  });
}

async function discover(bench: BluezBench, address: string): Promise<Peripheral> {
  const noble = bench.noble();
  const found = new Promise<Peripheral>((resolve) => {
    noble.on('discover', (p: Peripheral) => {
      if (p.address.toUpperCase() === address) resolve(p);
    });
  });
  await noble.waitForPoweredOnAsync();
  await noble.startScanningAsync([], true);
  return found;
}

async function pairWith(
  bench: BluezBench,
  method: PairingMethod,
  answer: (
    shown: number | undefined,
  ) => Parameters<BluezBench['pairing']['prompts']['answer']>[1] | undefined,
) {
  bench.bluez.add(meter(), { pairing: method });
  const p = await discover(bench, ID);
  await p.connectAsync();
  const bonding = bench.pairing.bond(ID);
  if (method !== 'just-works') {
    const prompt = await bench.nextPrompt(ID);
    const shown = prompt.kind === 'passkey' ? bench.bluez.device(ID)?.displayedPasskey : prompt.passkey;
    const a = answer(shown);
    if (a) bench.pairing.prompts.answer(ID, a);
  }
  return { p, bonding };
}

describe('noble D-Bus bindings on the fake BlueZ', () => {
  it('discovers an advertising meter with its name, services and RSSI', async () => {
    b = await bluezBench();
    b.bluez.add(meter());
    const p = await discover(b, ID);
    expect(p.advertisement.localName).toBeTruthy();
    expect(p.advertisement.serviceUuids).toContain('1808');
    expect(p.rssi).toBe(-60);
    expect(b.bluez.device(ID)).toMatchObject({ known: true, paired: false, connected: false });
  });

  it('connects, reads open characteristics, and is refused the glucose service until bonded (NotPermitted "Not paired")', async () => {
    b = await bluezBench();
    b.bluez.add(meter());
    const p = await discover(b, ID);
    await p.connectAsync();
    const { characteristics } = await p.discoverAllServicesAndCharacteristicsAsync();
    const manufacturer = characteristics.find((c) => c.uuid === '2a29');
    expect((await manufacturer!.readAsync()).length).toBeGreaterThan(0);
    const feature = characteristics.find((c) => c.uuid === '2a51');
    const refused = await feature!.readAsync().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((refused as Error).message)).toMatch(/Not paired/);
    const explained = await b.pairing.explain(ID, refused);
    expect(explained?.code).toBe('MEDGW_ERR_BLE_NOT_BONDED');

    await b.pairing.bond(ID);
    expect(b.bluez.device(ID)).toMatchObject({ paired: true, bonded: true, trusted: true });
    expect((await feature!.readAsync()).length).toBe(2);
  });

  it('bonds just-works without asking the person', async () => {
    b = await bluezBench();
    const { bonding } = await pairWith(b, 'just-works', () => undefined);
    await bonding;
    expect(b.bluez.agentCalls).toEqual([]);
    expect(b.bluez.device(ID)).toMatchObject({ paired: true, trusted: true });
  });

  it('passkey entry: the person types the 6 digits the meter shows', async () => {
    b = await bluezBench();
    const { bonding } = await pairWith(b, 'passkey-entry', (shown) => ({ passkey: shown! }));
    await bonding;
    expect(b.bluez.agentCalls.map((c) => c.method)).toEqual(['RequestPasskey']);
    expect(b.bluez.device(ID)).toMatchObject({ paired: true, trusted: true });
  });

  it('passkey entry with a wrong code: MEDGW_ERR_BLE_PASSKEY_WRONG, nothing bonded, the next try works', async () => {
    b = await bluezBench();
    const { bonding } = await pairWith(b, 'passkey-entry', (shown) => ({
      passkey: (shown! + 1) % 1_000_000,
    }));
    const e = await bonding.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isMedgwError(e) && e.code).toBe('MEDGW_ERR_BLE_PASSKEY_WRONG');
    expect(b.bluez.device(ID)).toMatchObject({ paired: false });

    const again = b.pairing.bond(ID);
    await b.nextPrompt(ID);
    b.pairing.prompts.answer(ID, { passkey: b.bluez.device(ID)!.displayedPasskey! });
    await again;
    expect(b.bluez.device(ID)).toMatchObject({ paired: true });
  });

  it('numeric comparison: confirmed numbers bond, different numbers are refused', async () => {
    b = await bluezBench();
    const { bonding } = await pairWith(b, 'numeric-comparison', () => ({ confirm: false }));
    const e = await bonding.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isMedgwError(e) && e.code).toBe('MEDGW_ERR_BLE_PAIRING_REFUSED');

    const again = b.pairing.bond(ID);
    const prompt = await b.nextPrompt(ID);
    expect(prompt).toMatchObject({ kind: 'confirm', passkey: b.bluez.device(ID)!.displayedPasskey });
    b.pairing.prompts.answer(ID, { confirm: true });
    await again;
    expect(b.bluez.device(ID)).toMatchObject({ paired: true, trusted: true });
    expect(b.bluez.agentCalls.map((c) => [c.method, c.error ?? 'ok'])).toEqual([
      ['RequestConfirmation', 'org.bluez.Error.Rejected'],
      ['RequestConfirmation', 'ok'],
    ]);
  });

  it('passkey display: the gateway shows the code the person types on the device', async () => {
    b = await bluezBench();
    const { bonding } = await pairWith(b, 'passkey-display', () => undefined);
    await bonding;
    const call = b.bluez.agentCalls[0];
    expect(call).toMatchObject({ method: 'DisplayPasskey' });
    expect(b.bluez.device(ID)).toMatchObject({ paired: true });
  });

  it('a passkey nobody types in time: MEDGW_ERR_BLE_PAIRING_TIMEOUT', async () => {
    b = await bluezBench({ promptTimeoutMs: 100 });
    const { bonding } = await pairWith(b, 'passkey-entry', () => undefined);
    const e = await bonding.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isMedgwError(e) && e.code).toBe('MEDGW_ERR_BLE_PAIRING_TIMEOUT');
  });

  it('a device that is not in pairing mode: MEDGW_ERR_BLE_PAIRING_REFUSED', async () => {
    b = await bluezBench();
    b.bluez.add(meter(), { refusePairing: true });
    const p = await discover(b, ID);
    await p.connectAsync();
    const e = await b.pairing.bond(ID).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isMedgwError(e) && e.code).toBe('MEDGW_ERR_BLE_PAIRING_REFUSED');
  });

  it('a device that forgot us: the first encrypted access fails, explained as MEDGW_ERR_BLE_BOND_LOST; unbond + bond repairs it', async () => {
    b = await bluezBench();
    const g = b.bluez.add(meter());
    const p = await discover(b, ID);
    await p.connectAsync();
    await b.pairing.bond(ID);
    await p.disconnectAsync();
    g.clearBonds(); // the meter was reset
    await until(() => g.advertising, 'the meter advertising again');
    await p.connectAsync();
    const { characteristics } = await p.discoverAllServicesAndCharacteristicsAsync();
    const feature = characteristics.find((c) => c.uuid === '2a51')!;
    const refused = await feature.readAsync().then(
      () => undefined,
      (e: unknown) => e,
    );
    const explained = await b.pairing.explain(ID, refused);
    expect(explained?.code).toBe('MEDGW_ERR_BLE_BOND_LOST');
    await until(() => p.state === 'disconnected', 'the link dropped after the authentication failure');

    await b.pairing.unbond(ID);
    expect(b.bluez.device(ID)).toMatchObject({ known: false, paired: false });
    const again = await discover(b, ID);
    await again.connectAsync();
    await b.pairing.bond(ID);
    const chars = (await again.discoverAllServicesAndCharacteristicsAsync()).characteristics;
    expect((await chars.find((c) => c.uuid === '2a51')!.readAsync()).length).toBe(2);
  });

  it('a link loss is a disconnect noble reports; the device is seen and connected again', async () => {
    b = await bluezBench();
    const g = b.bluez.add(meter());
    const p = await discover(b, ID);
    await p.connectAsync();
    const gone = new Promise<void>((r) => p.once('disconnect', () => r()));
    b.bluez.linkLoss(ID);
    await gone;
    expect(g.connected).toBe(false);
    await until(() => g.advertising, 'advertising again');
    await p.connectAsync();
    expect(g.connected).toBe(true);
  });

  it('bluetoothd restarts: the agent registers again by itself and a passkey pairing works', async () => {
    b = await bluezBench();
    expect(b.bluez.defaultAgentPath).toBe('/org/medgw/agent');
    await b.bluez.stop();
    const restarted = await FakeBluez.start({ busAddress: b.bus.address });
    try {
      restarted.add(meter(), { pairing: 'passkey-entry' });
      await until(() => restarted.defaultAgentPath === '/org/medgw/agent', 'the agent registered again');
      // a discovery (any client's) makes the meter's object appear, as with the real daemon
      const client = dbus.sessionBus({ busAddress: b.bus.address });
      try {
        const adapter = (await client.getProxyObject('org.bluez', '/org/bluez/hci0')).getInterface(
          'org.bluez.Adapter1',
        ) as unknown as { StartDiscovery(): Promise<void> };
        await adapter.StartDiscovery();
      } finally {
        client.disconnect();
      }
      await until(() => restarted.device(ID)?.known === true, 'the meter seen');
      const bonding = b.pairing.bond(ID);
      await b.nextPrompt(ID);
      b.pairing.prompts.answer(ID, { passkey: restarted.device(ID)!.displayedPasskey! });
      await bonding;
      expect(restarted.device(ID)).toMatchObject({ paired: true, trusted: true });
    } finally {
      await restarted.stop();
    }
  });
});
