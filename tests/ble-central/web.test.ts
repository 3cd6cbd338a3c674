/** The BLE central behind the pages' WebBluetooth interface (gateway/web/ble.ts). */
import { describe, expect, it } from 'vitest';
import { LocalAdminOps } from '../../gateway/admin/ops.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Operations } from '../../gateway/ops/operations.ts';
import { webBluetooth } from '../../gateway/web/ble.ts';
import type { PairingProgress, WebDeps } from '../../gateway/web/deps.ts';
import { translator } from '../../gateway/web/i18n/index.ts';
import { devicesPage } from '../../gateway/web/pages.ts';
import { SimCuff } from '../../simulators/ble/cuff.ts';
import { SimOmronX4Smart } from '../../simulators/ble/omron-x4-smart.ts';
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

  it('shows how to pair a known model beside it while it waits, in the page language', async () => {
    const O = 'C0:26:DA:00:06:02';
    const h = await harness([new SimOmronX4Smart({ address: O, stored: [] })]);
    try {
      const web = webBluetooth(h.central);
      await h.central.start();
      await until(() => web.nearby().some((n) => n.address === O), 'nearby Omron');
      expect(web.nearby().find((n) => n.address === O)).toMatchObject({ driver: 'omron-x4-smart' });
      const clock = { now: () => Date.now() };
      const deps: WebDeps = {
        dataDir: h.dir,
        registry: h.registry,
        journal: h.journal,
        ops: new Operations(
          new LocalAdminOps(h.registry, h.journal, clock, () => undefined, 'Europe/Paris'),
          {
            registry: h.registry,
            journal: h.journal,
          },
        ),
        clock,
        log: silentLogger(),
        ble: web,
      };
      for (const [lang, summary, text] of [
        ['fr', 'Comment l’appairer', 'Maintenez le bouton Bluetooth'],
        ['en', 'How to pair it', 'Hold the Bluetooth button'],
      ] as const) {
        const page = devicesPage({ lang, t: translator(lang), csrf: 'x', path: '/devices' }, deps);
        expect(page).toContain(`<summary>${summary}</summary>`);
        expect(page).toContain(text);
      }
    } finally {
      await h.close();
    }
  });
});
