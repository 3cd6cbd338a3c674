/**
 * Server-sent events, the retry of a held reading, the monitoring endpoints and the JSON views over
 * real HTTP: a signed-in stream gets a `change` event when a reading arrives, /metrics shows readings
 * by state and queue depth, the audit export is complete and carries no measured value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startGateway, type TestGateway } from './harness.ts';
import { seedReadings, weight } from './seed.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway();
  await gw.ops.addPatient({ id: 'p1', displayName: 'Marie Martin' });
  await gw.ops.addDevice({ id: 'cuff-1', transport: 'mqtt', patientId: 'p1' });
  seedReadings(gw.journal, 'cuff-1', 'p1');
});
afterAll(async () => {
  await gw?.close();
});

async function readEvents(
  res: Response,
  until: (text: string) => boolean,
  timeoutMs = 5000,
): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (!until(text)) {
    if (Date.now() > deadline) throw new Error(`no matching event in: ${text}`);
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return text;
}

describe('live updates', () => {
  it('a signed-in event stream tells that readings changed, naming no value', async () => {
    const c = new Client(gw.url);
    await c.login();
    const res = await c.go('/events', { headers: { accept: 'text/event-stream' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const got = readEvents(res, (t) => t.includes('"topic":"readings"'));
    await new Promise((r) => setTimeout(r, 100));
    gw.journal.append([
      { id: 'r-new', deviceId: 'cuff-1', patientId: 'p1', observation: weight(93.7), state: 'pending' },
    ]);
    const text = await got;
    expect(text).toContain('event: change');
    expect(text).not.toContain('93.7');
  });

  it('a form action is announced on the stream too', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    const res = await c.go('/events', { headers: { accept: 'text/event-stream' } });
    const got = readEvents(res, (t) => t.includes('"topic":"registry"'));
    await new Promise((r) => setTimeout(r, 50));
    expect((await c.go('/patients', { form: { _csrf: csrf, id: 'p9', displayName: 'Léa' } })).status).toBe(
      303,
    );
    await got;
  });
});

describe('exchanges', () => {
  it('sends a held reading again with one click and says so; a delivered one cannot be sent again', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    const page = await (await c.go('/exchanges')).text();
    expect(page).toContain('retiré son accord');
    expect(page).toContain('Observation value quantity not provided.');
    const res = await c.go('/exchanges/retry', { form: { _csrf: csrf, id: 'r-held' } });
    expect(res.headers.get('location')).toBe('/exchanges');
    expect(gw.journal.get('r-held')?.state).toBe('pending');
    expect(await (await c.go('/exchanges')).text()).toContain('La lecture sera renvoyée.');
    await c.go('/exchanges/retry', { form: { _csrf: csrf, id: 'r-delivered' } });
    expect(gw.journal.get('r-delivered')?.state).toBe('delivered');
    expect(await (await c.go('/exchanges')).text()).toContain('MEDGW_ERR_JOURNAL_STATE');
  });
});

describe('monitoring and exports', () => {
  it('/metrics shows readings by state, queue depth and the last sync per device', async () => {
    const c = new Client(gw.url);
    await c.login();
    const text = await (await c.go('/metrics', { headers: { accept: 'text/plain' } })).text();
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(line))
          ?.split(' ')
          .at(-1),
      );
    const stats = gw.journal.stats(Date.now()).byState;
    expect(value('medgw_readings{state="delivered"}')).toBe(stats.delivered);
    expect(value('medgw_readings{state="dead-letter"}')).toBe(stats['dead-letter']);
    expect(value('medgw_queue_depth')).toBe(stats.pending + stats['in-flight']);
    expect(value('medgw_device_last_sync_timestamp_seconds{device="cuff-1"}')).toBeGreaterThan(
      Date.now() / 1000 - 600,
    );
    expect(text).toContain('medgw_oldest_unsent_age_seconds');
    expect(text).toContain('# TYPE medgw_deliveries_total counter');
  });

  it('the audit export lists every entry in CSV and JSON, with the hash chain, and no measured value', async () => {
    const c = new Client(gw.url);
    await c.login();
    const json = (await (await c.go('/audit.json', { headers: { accept: 'application/json' } })).json()) as {
      entries: { seq: number; hash: string; event: string }[];
    };
    const csv = await (await c.go('/audit.csv', { headers: { accept: 'text/csv' } })).text();
    const rows = csv.trim().split('\r\n');
    expect(json.entries.length).toBeGreaterThan(3);
    // the CSV export itself was audited after the JSON one: one more entry
    expect(rows.length - 1).toBe(json.entries.length + 1);
    expect(json.entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    for (const kg of ['81.2', '70.1', '70.4', '70.6']) {
      expect(csv).not.toContain(kg);
      expect(JSON.stringify(json)).not.toContain(kg);
    }
  });
});

describe('one-time notices', () => {
  it('a live refresh does not consume the notice the next page load shows', async () => {
    const c = new Client(gw.url);
    const csrf = await c.login();
    await c.go('/patients', { form: { _csrf: csrf, id: 'p10', displayName: 'Paul' } });
    const live = await (await c.go('/patients', { headers: { 'x-medgw-live': '1' } })).text();
    expect(live).not.toContain('fr-alert--success');
    const next = await (await c.go('/patients')).text();
    expect(next).toContain('Patient ajouté.');
    expect(await (await c.go('/patients')).text()).not.toContain('Patient ajouté.');
  });
});
