/** The BLE central behind the pages' WebBluetooth interface (gateway/ble/web.ts). */
import { describe, expect, it } from 'vitest';
import { webBluetooth } from '../../gateway/ble/web.ts';
import type { PairingProgress } from '../../gateway/web/deps.ts';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { harness, until } from './harness.ts';

describe('webBluetooth over the BLE central', () => {
  it('lists nearby devices, pairs with live progress, reports health, forgets', async () => {
    const C = 'C0:26:DA:00:06:01';
    const cuff = new SimCuff({
      address: C,
      stored: [
        {
          unit: 'mmHg',
          systolic: 121,
          diastolic: 79,
          meanArterial: 93,
          time: { year: 2026, month: 11, day: 22, hours: 7, minutes: 30, seconds: 0 },
        },
      ],
    });
    const h = await harness([cuff]);
    try {
      const web = webBluetooth(h.central);
      const progress: PairingProgress[] = [];
      const listener = (p: PairingProgress) => progress.push(p);
      web.on('progress', listener);
      await h.central.start();
      await until(() => web.nearby().some((n) => n.address === C), 'nearby cuff');
      expect(web.adapterState()).toBe('poweredOn');
      expect(web.nearby().find((n) => n.address === C)).toMatchObject({ driver: 'generic-blood-pressure' });
      expect(web.pairings()).toEqual([]);
      await web.pair(C);
      await until(() => progress.some((p) => p.state === 'synced'), 'synced progress');
      expect(progress.map((p) => p.state)).toEqual([
        'discovered',
        'connecting',
        'bonding',
        'discovering',
        'subscribing',
        'syncing',
        'synced',
      ]);
      expect(web.pairings()).toMatchObject([{ address: C, state: 'synced' }]);
      const health = web.health?.(C);
      expect(health?.clock).toBe('synced');
      expect(health?.lastSyncAt).toBeGreaterThan(0);
      expect(h.journal.list({ deviceId: C })).toHaveLength(1);
      web.off('progress', listener);
      await web.forget?.(C);
      expect(web.pairings()).toEqual([]);
      expect(progress.at(-1)?.state).toBe('synced');
    } finally {
      await h.close();
    }
  });
});
