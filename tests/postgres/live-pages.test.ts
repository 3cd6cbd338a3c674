/**
 * Live pages across instances: two `startGateway` instances (their pages and admin API over real
 * HTTP) share one real PostgreSQL. A page open on instance one, signed in and holding its event
 * stream (/events), is told to refresh when instance two changes the registry (a device added, a
 * patient removed) or the journal (a reading quarantined, then discarded), and the refreshed page
 * shows the change. The registry's and the journal's NOTIFY become the live-page topics a local
 * operation names (gateway/web/shared-changes.ts, Operations.changedElsewhere). Last, `medgw devices
 * add --again` through the running instance one's admin API: instance two takes the new secret only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { pipelineComponent } from '../../gateway/mqtt/components.ts';
import { initialPasswordPath } from '../../gateway/web/auth.ts';
import { webComponent } from '../../gateway/web/component.ts';
import { runMedgw } from '../support/gateway.ts';
import { Client } from '../web/harness.ts';
import { weight } from '../web/seed.ts';
import { type RunningPostgres, startPostgres } from './cluster.ts';

let server: RunningPostgres;
const root = mkdtempSync(join(tmpdir(), 'medgw-pg-live-'));
const gateways: Gateway[] = [];

/** The instances share the database and its token key. */
const TOKEN_KEY = randomBytes(32).toString('hex');
const envOf = (url: string) => ({
  MEDGW_STORAGE_KIND: 'postgres',
  MEDGW_STORAGE_URL: url,
  MEDGW_TOKEN_KEY: TOKEN_KEY,
});

async function instance(name: string, url: string): Promise<Gateway> {
  const env = envOf(url);
  const gw = await startGateway({
    config: loadConfig({ env, overrides: { dataDir: join(root, name), 'http.port': 0 } }),
    log: silentLogger(),
    components: [pipelineComponent, webComponent],
  });
  gateways.push(gw);
  return gw;
}

/** A signed-in browser of `gw` with its event stream open; `next(topic)` waits for a change naming it. */
async function browser(gw: Gateway, dataDir: string) {
  const url = gw.http.url;
  if (!url) throw new Error('no HTTP server');
  const password = readFileSync(initialPasswordPath(dataDir), 'utf8').split('\n', 1)[0] ?? '';
  const client = new Client(url);
  await client.login(password);
  const res = await client.go('/events', { headers: { accept: 'text/event-stream' } });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    client,
    /** Forgets what came so far (events of earlier steps). */
    mark() {
      text = '';
    },
    async next(topic: string, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!text.includes(`"topic":"${topic}"`)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no change naming ${topic}; got: ${text}`);
        const chunk = await Promise.race([
          reader.read(),
          new Promise<'late'>((r) => setTimeout(() => r('late'), left).unref()),
        ]);
        if (chunk === 'late') continue;
        if (chunk.done) throw new Error(`the event stream ended; got: ${text}`);
        text += decoder.decode(chunk.value);
      }
    },
    close: () => reader.cancel(),
  };
}

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  for (const gw of gateways) await gw.stop().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('live pages across instances', () => {
  it('a page open on instance one refreshes when instance two changes the registry or the journal', async () => {
    const url = server.database();
    const one = await instance('one', url);
    const two = await instance('two', url);
    const page = await browser(one, join(root, 'one'));
    const opsTwo = two.services.get('ops');
    try {
      // the registry: a patient and a device added through instance two
      await opsTwo.addPatient({ id: 'p-live', displayName: 'Camille Live' });
      await page.next('registry');
      page.mark();
      await opsTwo.addDevice({ id: 'scale-live', transport: 'mqtt', patientId: 'p-live' });
      await page.next('registry');
      // what the page fetches on that event shows it
      expect(await (await page.client.go('/devices')).text()).toContain('scale-live');

      // the journal: a reading instance two quarantined
      page.mark();
      two.ctx.journal.append([
        {
          id: 'r-live-quarantined',
          deviceId: 'scale-live',
          observation: weight(77.7),
          state: 'quarantined',
          reason: { code: 'MEDGW_ERR_HOUSEHOLD_USER', message: 'household user 2 is not mapped' },
        },
      ]);
      await page.next('exchanges');
      expect(await (await page.client.go('/quarantine')).text()).toContain('scale-live');

      // a change with no notification of its own (discarded on instance two): the counts say it
      page.mark();
      await opsTwo.discardReading('r-live-quarantined');
      await page.next('readings');
      expect(await (await page.client.go('/quarantine')).text()).not.toContain('scale-live');

      // a patient removed on instance two (its device first)
      await opsTwo.removeDevice('scale-live');
      page.mark();
      await opsTwo.removePatient('p-live');
      await page.next('registry');
      const patients = await (await page.client.go('/patients')).text();
      expect(patients).not.toContain('Camille Live');

      // medgw devices add --again on instance one's data directory goes through its admin API; the
      // other instance lets in only the new secret, and the page shows the registry changed
      const first = await opsTwo.addDevice({ id: 'cuff-again', transport: 'mqtt' });
      page.mark();
      const run = await runMedgw(
        ['devices', 'add', '--again', '--id', 'cuff-again', '--json', '--data-dir', join(root, 'one')],
        { env: envOf(url) },
      );
      expect(run.stderr).toBe('');
      const renewed = (JSON.parse(run.stdout) as { secret?: string }).secret ?? '';
      expect(renewed).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await page.next('registry');
      for (let i = 0; i < 250 && !two.ctx.registry.verifyDeviceSecret('cuff-again', renewed); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(two.ctx.registry.verifyDeviceSecret('cuff-again', renewed)).toBe(true);
      expect(two.ctx.registry.verifyDeviceSecret('cuff-again', first.secret ?? '')).toBe(false);
      const audit = await opsTwo.auditList({ limit: 1000 });
      expect(audit.some((e) => e.event === 'device.secret-reissued' && e.deviceId === 'cuff-again')).toBe(
        true,
      );
    } finally {
      await page.close();
    }
  }, 120_000);
});
