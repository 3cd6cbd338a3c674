/**
 * The BLE central inside `medgw start`: the component in the gateway's life cycle with the sim radio,
 * its admin routes behind the token, the state stream, and log lines that carry no consent code,
 * address, patient or measured value.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { bleComponent } from '../../gateway/ble/component.ts';
import type { BleCentral, BleDeviceStatus } from '../../gateway/ble/index.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { createLogger, silentLogger } from '../../gateway/log.ts';
import { pipelineComponent } from '../../gateway/mqtt/components.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { SimScale } from '../../simulators/ble/scale.ts';
import { harness, until } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-ble-gw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('BLE central in medgw start', () => {
  it('runs as a component in sim mode and answers its admin routes behind the token', async () => {
    const dataDir = join(root, 'sim');
    const config = loadConfig({
      overrides: { dataDir, 'http.port': 0, 'mqtt.port': 0, 'national.sandboxPort': 0, 'ble.mode': 'sim' },
    });
    const gw = await startGateway({
      config,
      log: silentLogger(),
      components: [pipelineComponent, bleComponent],
    });
    try {
      expect(gw.lifecycle.running()).toEqual(['registry', 'journal', 'http', 'pipeline', 'ble']);
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${gw.http.url}/api/v1/ble${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
        });

      const events = await api('/events');
      expect(events.headers.get('content-type')).toContain('text/event-stream');
      const reader = events.body!.getReader();
      let text = '';
      const readSome = (async () => {
        while (!text.includes('"state":"synced"')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      })();

      let devices: BleDeviceStatus[] = [];
      for (let i = 0; i < 300 && !(devices.length === 3 && devices.every((d) => d.state === 'synced')); i++) {
        devices = ((await (await api('/devices')).json()) as { devices: BleDeviceStatus[] }).devices;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(devices.map((d) => d.deviceId).sort()).toEqual([
        'C0:26:DA:00:00:01',
        'C0:26:DA:00:00:02',
        'C0:26:DA:00:00:03',
      ]);
      expect(devices.every((d) => d.state === 'synced' && d.paired)).toBe(true);
      await readSome;
      expect(text).toContain('event: state');
      await reader.cancel();

      const unauth = await fetch(`${gw.http.url}/api/v1/ble/devices`);
      expect(unauth.status).toBe(401);
      const unknown = await api('/devices/C0:26:DA:00:09:09/pair', { method: 'POST', body: '{}' });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
        'MEDGW_ERR_BLE_NOT_DISCOVERED',
      );
      const bad = await api('/devices/C0:26:DA:00:00:02/pair', {
        method: 'POST',
        body: JSON.stringify({ udsUsers: [{ index: 1, consentCode: 12345 }] }),
      });
      expect(bad.status).toBe(400);
      const forgot = await api('/devices/C0:26:DA:00:00:03/forget', { method: 'POST', body: '{}' });
      expect(await forgot.json()).toEqual({ forgotten: true });
      expect(gw.ctx.registry.getDevice('C0:26:DA:00:00:03')).toBeUndefined();
    } finally {
      await gw.stop();
    }
  });

  it('writes no consent code, address, patient id or measured value in its log lines', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const S = 'C0:26:DA:00:05:01';
    const G = 'C0:26:DA:00:05:02';
    const scale = new SimScale({ address: S, users: [{ index: 0, consentCode: 8642 }] });
    scale.measure({ kg: 77.7, userIndex: 0 });
    const meter = new SimGlucometer({
      address: G,
      records: [
        {
          baseTime: { year: 2026, month: 11, day: 22, hours: 9, minutes: 0, seconds: 0 },
          concentration: mgdl(187),
          context: { meal: 3 }, // fasting: a record needs its meal moment to be filed
        },
      ],
      faults: { disconnectAfterNotifications: 0 },
    });
    const h = await harness([scale, meter], { log: createLogger({ level: 'debug', destination }) });
    try {
      await h.provision({ id: G, driver: 'roche-accu-chek-guide', patientId: 'carol' });
      await h.central.start();
      await h.waitState(S, 'discovered');
      await h.central.pair(S, { patientId: 'alice', udsUsers: [{ index: 0, consentCode: 8642 }] });
      await h.waitState(S, 'synced');
      await h.waitState(G, 'failed');
      await h.waitState(G, 'synced');
      expect(h.journal.list({ deviceId: S })).toHaveLength(1);
      // Timing fields (a retry delay of 187 ms…) are numbers too: left out of the search for values.
      const TIMING = new Set(['time', 'pid', 'retryInMs', 'retryAt', 'ms', 'elapsedMs', 'durationMs']);
      const log = lines
        .map((l) => {
          try {
            const o = JSON.parse(l) as Record<string, unknown>;
            for (const k of TIMING) delete o[k];
            return JSON.stringify(o);
          } catch {
            return l;
          }
        })
        .join('\n');
      expect(log).toContain('"component":"ble"');
      expect(log).toContain('MEDGW_ERR_BLE_LINK_LOST');
      for (const secret of [
        '8642',
        'C0:26:DA:00:05',
        'c0:26:da:00:05',
        'c026da0005',
        'alice',
        'carol',
        '77.7',
        '187',
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await h.close();
    }
  });

  it('is a plain Component: start and stop twice are harmless', async () => {
    const h = await harness([]);
    const c: BleCentral = h.central;
    await c.stop();
    await c.start();
    await c.start();
    await until(() => c.scanning, 'scanning');
    await c.stop();
    expect(c.scanning).toBe(false);
    await c.stop();
    await h.close();
  });
});
