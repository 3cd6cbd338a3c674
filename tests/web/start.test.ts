/**
 * The pages inside `medgw start`: the web component registers them on the gateway's HTTP server,
 * hands over the admin password once at first start (never again; to a 0600 file when stdout is not a terminal), and shows the real BLE central (sim
 * radio), the embedded MQTT broker and the queue.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { bleComponent } from '../../gateway/ble/component.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';
import { webComponent } from '../../gateway/web/component.ts';
import { Client } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-web-start-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function start(dataDir: string) {
  const config = loadConfig({
    overrides: { dataDir, 'http.port': 0, 'mqtt.port': 0, 'national.sandboxPort': 0, 'ble.mode': 'sim' },
  });
  return startGateway({
    config,
    log: silentLogger(),
    components: [pipelineComponent, mqttComponent, bleComponent, webComponent],
  });
}

describe('the pages in medgw start', () => {
  it('prints the admin password once, serves the pages with it, and shows the running components', async () => {
    const dataDir = join(root, 'gw');
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    let gw: Awaited<ReturnType<typeof start>>;
    try {
      gw = await start(dataDir);
    } finally {
      spy.mockRestore();
    }
    // stdout is not a terminal here: the password is in a 0600 file of the data directory, not printed
    expect(printed.some((l) => l.includes('admin password'))).toBe(false);
    const file = join(dataDir, 'admin-password.txt');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').split('\n')[0];
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    try {
      expect(gw.lifecycle.running()).toContain('web');
      expect(gw.endpoints().map((e) => e.name)).toContain('local pages');
      const c = new Client(gw.http.url!);
      expect((await c.go('/devices')).status).toBe(303);
      expect((await c.go('/dsfr/dsfr.min.css', { headers: { accept: 'text/css' } })).status).toBe(200);
      await c.login(password);
      const status = await (await c.go('/status')).text();
      expect(status).toContain('Serveur MQTT');
      // the adapter state in words (noble's `poweredOn`)
      expect(status).toContain('data-adapter-state="poweredOn"');
      expect(status).toContain('allumé');
      // the sim radio's devices, paired by the real BLE central, are listed once each with their last sync
      const synced = (html: string) =>
        html
          .split('<tr data-device=')
          .slice(1)
          .filter((r) => /\d{2}:\d{2}:\d{2}/.test(r.split('</tr>')[0] ?? '')).length;
      let devices = '';
      for (let i = 0; i < 200 && synced(devices) < 3; i++) {
        devices = await (await c.go('/devices')).text();
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(synced(devices)).toBe(3);
      expect(devices).not.toContain('data-pairing-state');
      expect(devices).toContain('Sim Scale BF-70');
      expect(devices).toContain('C0:26:DA:00:00:02');
      // the admin API is still behind its own token
      expect((await c.go('/api/v1/devices', { headers: { accept: 'application/json' } })).status).toBe(401);
    } finally {
      await gw.stop();
    }
    // second start on the same data directory: nothing printed, the same password works
    const again: string[] = [];
    const spy2 = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      again.push(String(chunk));
      return true;
    });
    let gw2: Awaited<ReturnType<typeof start>>;
    try {
      gw2 = await start(dataDir);
    } finally {
      spy2.mockRestore();
    }
    try {
      expect(again.some((l) => l.includes('admin password'))).toBe(false);
      expect(existsSync(join(dataDir, 'admin-password.txt'))).toBe(false);
      await new Client(gw2.http.url!).login(password);
    } finally {
      await gw2.stop();
    }
  }, 60_000);
});
