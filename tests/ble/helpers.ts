/** Helpers for driving the real noble over the virtual radio in tests. */
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble';

/** Scans for a peripheral advertising one of the service UUIDs, then stops scanning. */
export async function discover(noble: Noble, serviceUuids: string[], timeoutMs = 5000): Promise<Peripheral> {
  await noble.waitForPoweredOnAsync(timeoutMs);
  const found = new Promise<Peripheral>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no peripheral advertising ${serviceUuids} seen`)),
      timeoutMs,
    );
    noble.once('discover', (p: Peripheral) => {
      clearTimeout(timer);
      resolve(p);
    });
  });
  await noble.startScanningAsync(serviceUuids, false);
  const p = await found;
  await noble.stopScanningAsync();
  return p;
}

/** Connects and discovers every service and characteristic; returns characteristics by UUID. */
export async function connectAll(p: Peripheral): Promise<Map<string, Characteristic>> {
  await p.connectAsync();
  const { characteristics } = await p.discoverAllServicesAndCharacteristicsAsync();
  return new Map(characteristics.map((c) => [c.uuid, c]));
}

export function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`missing ${what}`);
  return v;
}

/** Collects notifications of characteristics in arrival order as [uuid, hex]. */
export function record(chars: Characteristic[]): Array<[string, string]> {
  const log: Array<[string, string]> = [];
  for (const c of chars) {
    c.on('data', (data: Buffer, isNotification: boolean) => {
      if (isNotification) log.push([c.uuid, data.toString('hex')]);
    });
  }
  return log;
}

/** Resolves when `predicate` holds, polling on each macrotask turn. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits for the next 'disconnect' of a peripheral and returns its reason. */
export function nextDisconnect(p: Peripheral): Promise<unknown> {
  return new Promise((resolve) => p.once('disconnect', (reason: unknown) => resolve(reason)));
}
