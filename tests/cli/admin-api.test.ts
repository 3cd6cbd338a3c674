import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../gateway/admin/client.ts';
import { LocalAdminOps } from '../../gateway/admin/ops.ts';
import { HttpServer } from '../../gateway/admin/server.ts';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { lockHolder, readAdminEndpoint } from '../../gateway/datadir.ts';
import { MemoryJournal } from '../../gateway/journal/memory.ts';
import type { ComponentFactory } from '../../gateway/lifecycle.ts';
import { createLogger, silentLogger } from '../../gateway/log.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';
import { reading } from '../journal/conformance.ts';

const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuvwxyz';
const clock = { now: () => 1_700_000_000_000 };

describe('admin API over HTTP', () => {
  let server: HttpServer;
  let base: string;
  let journal: MemoryJournal;

  beforeAll(async () => {
    const registry = await LowRegistry.memory();
    journal = new MemoryJournal({ clock });
    server = new HttpServer(
      { host: '127.0.0.1', port: 0, token: TOKEN, log: silentLogger() },
      new LocalAdminOps(registry, journal, clock),
    );
    server.register(async (app) => {
      app.get('/api/v1/extra/ping', { onRequest: server.requireAdmin }, async () => ({ pong: true }));
      app.get('/public/hello', async () => ({ hello: 'world' }));
    });
    await server.start();
    base = server.url!;
  });
  afterAll(() => server.stop());

  it('refuses requests without the bearer token with 401 and a MEDGW code', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/devices'],
      ['POST', '/api/v1/patients'],
      ['GET', '/api/v1/audit/verify'],
      ['GET', '/api/v1/no-such-route'],
      ['GET', '/api/v1/extra/ping'],
    ] as const) {
      for (const auth of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        const res = await fetch(`${base}${path}`, { method, headers: auth ? { authorization: auth } : {} });
        expect(res.status, `${method} ${path} ${auth}`).toBe(401);
        const body = (await res.json()) as { error: { code: string; hint: string } };
        expect(body.error.code).toBe('MEDGW_ERR_ADMIN_UNAUTHORIZED');
        expect(body.error.hint).toContain('admin-token');
      }
    }
  });

  it('serves the registry, the outbox and the audit log to the token holder', async () => {
    const api = new AdminClient(base, TOKEN);
    await api.addPatient({ id: 'p1', displayName: 'Alice' });
    const { device, secret } = await api.addDevice({ id: 'bp-1', transport: 'mqtt', patientId: 'p1' });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(device).toMatchObject({ id: 'bp-1', patientId: 'p1', hasSecret: true });
    expect(JSON.stringify(await api.listDevices())).not.toContain('scrypt');
    await api.addPatient({ id: 'p2', displayName: 'Bob' });
    expect((await api.assignDevice('bp-1', { users: { '1': 'p2' } })).users).toEqual({ '1': 'p2' });
    await expect(api.removePatient('p2')).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_IN_USE' });
    await expect(api.getDevice('ghost')).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
    await expect(api.addDevice({ id: 'bp-1', transport: 'mqtt' })).rejects.toMatchObject({
      code: 'MEDGW_ERR_REGISTRY_EXISTS',
    });

    journal.append([
      reading('r1', { deviceId: 'bp-1' }),
      reading('r2', { deviceId: 'bp-1', state: 'held', reason: { code: 'C', message: 'm' } }),
    ]);
    expect((await api.outbox({ state: 'held' })).map((r) => r.id)).toEqual(['r2']);
    expect((await api.journalStats()).byState).toMatchObject({ pending: 1, held: 1 });
    const audit = await api.auditList({ patient: 'p1' });
    expect(audit.map((e) => e.event)).toEqual([
      'patient.added',
      'device.added',
      'reading.stored',
      'reading.stored',
    ]);
    expect((await api.auditList({ patient: 'p2' })).map((e) => e.event)).toEqual([
      'patient.added',
      'device.user-assigned',
    ]);
    expect(await api.auditVerify()).toEqual({ ok: true, entries: 6 });

    // operator actions on readings: retry a held one, discard a pending one, refuse the rest
    expect((await api.retryReading('r2')).state).toBe('pending');
    const gone = await api.discardReading('r1');
    expect(gone).toMatchObject({
      state: 'dead-letter',
      observation: null,
      reason: { code: 'MEDGW_ERR_OPERATOR_DISCARDED' },
    });
    await expect(api.discardReading('r1')).rejects.toMatchObject({ code: 'MEDGW_ERR_JOURNAL_STATE' });
    await expect(api.retryReading('r1')).rejects.toMatchObject({ code: 'MEDGW_ERR_JOURNAL_STATE' });
    await expect(api.retryReading('nope')).rejects.toMatchObject({
      code: 'MEDGW_ERR_JOURNAL_UNKNOWN_READING',
    });
    expect(journal.auditList({ readingId: 'r1' }).map((e) => e.event)).toEqual([
      'reading.stored',
      'reading.discarded',
    ]);
    expect(journal.auditList({ readingId: 'r2' }).map((e) => e.event)).toEqual([
      'reading.stored',
      'reading.retried',
    ]);

    await api.removeDevice('bp-1');
    await expect(api.removeDevice('bp-1')).rejects.toMatchObject({ code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
  });

  it('refuses malformed input with 400 and names the field', async () => {
    const post = (path: string, body: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body,
      });
    const r1 = await post('/api/v1/devices', JSON.stringify({ id: 'a/b', transport: 'mqtt' }));
    expect(r1.status).toBe(400);
    const b1 = (await r1.json()) as { error: { code: string; message: string } };
    expect(b1.error).toMatchObject({
      code: 'MEDGW_ERR_ADMIN_BAD_REQUEST',
      message: expect.stringContaining('id:'),
    });
    const r2 = await post('/api/v1/patients', '{"id": ');
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: { code: string } }).error.code).toBe('MEDGW_ERR_ADMIN_BAD_REQUEST');
    const r3 = await post('/api/v1/patients', JSON.stringify({ id: 'p9', displayName: 'X', admin: true }));
    expect(((await r3.json()) as { error: { message: string } }).error.message).toContain(
      'admin: unknown field',
    );
    const r4 = await fetch(`${base}/api/v1/outbox?state=lost`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(r4.status).toBe(400);
  });

  it('serves routes other components register, protected or public as they choose', async () => {
    const ok = await fetch(`${base}/api/v1/extra/ping`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await ok.json()).toEqual({ pong: true });
    expect(await (await fetch(`${base}/public/hello`)).json()).toEqual({ hello: 'world' });
    expect(() => server.register(async () => undefined)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_START_FAILED' }),
    );
  });
});

describe('startGateway', () => {
  const root = mkdtempSync(join(tmpdir(), 'medgw-app-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const config = (name: string) =>
    loadConfig({
      overrides: { dataDir: join(root, name), 'http.port': 0, 'mqtt.port': 0, 'national.sandboxPort': 0 },
    });

  it('starts registry, journal, http then the listed components, and stops them in reverse', async () => {
    const events: string[] = [];
    const factory = (name: string, after: string[] = []): ComponentFactory => ({
      name,
      after,
      create: (ctx, services) => {
        expect(ctx.journal).toBeDefined();
        expect(services.get('http')).toBeDefined();
        return {
          name,
          start: async () => {
            events.push(`start:${name}`);
          },
          stop: async () => {
            events.push(`stop:${name}`);
          },
          endpoints: () => [{ name, url: `mqtt://127.0.0.1:1/${name}` }],
        } as never;
      },
    });
    const c = config('ok');
    const gw = await startGateway({
      config: c,
      log: silentLogger(),
      components: [
        factory('pipeline'),
        factory('broker', ['pipeline']),
        { name: 'off', create: () => undefined },
      ],
    });
    expect(gw.lifecycle.running()).toEqual(['registry', 'journal', 'http', 'pipeline', 'broker']);
    expect(gw.endpoints().map((e) => e.name)).toEqual(['admin API', 'pipeline', 'broker']);
    expect(lockHolder(c.dataDir)?.role).toBe('gateway');
    expect(readAdminEndpoint(c.dataDir)?.url).toBe(gw.http.url);
    await expect(startGateway({ config: c, log: silentLogger(), components: [] })).rejects.toMatchObject({
      code: 'MEDGW_ERR_DATADIR_LOCKED',
    });
    await gw.stop();
    expect(events).toEqual(['start:pipeline', 'start:broker', 'stop:broker', 'stop:pipeline']);
    expect(lockHolder(c.dataDir)).toBeUndefined();
    expect(readAdminEndpoint(c.dataDir)).toBeUndefined();
    expect(() => gw.ctx.journal.list()).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_OPEN' }));
  });

  it('raises one operator alarm in the log when the journal refuses readings for lack of room', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const c = loadConfig({
      overrides: { dataDir: join(root, 'full'), 'http.port': 0, 'journal.maxReadings': 1 },
    });
    const gw = await startGateway({ config: c, log, components: [] });
    gw.ctx.journal.append([reading('f1')]);
    for (const id of ['f2', 'f3']) {
      expect(() =>
        gw.ctx.journal.append([reading(id, { observation: { ...reading(id).observation, value: 98.7 } })]),
      ).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }));
    }
    await gw.stop();
    const alarms = lines.filter((l) => l.includes('journal full'));
    expect(alarms).toHaveLength(1);
    expect(JSON.parse(alarms[0]!)).toMatchObject({
      level: 50,
      code: 'MEDGW_ERR_JOURNAL_FULL',
      limit: 'maxReadings',
    });
    expect(lines.join('')).not.toContain('98.7');
  });

  it('a component that fails to start stops the others, closes the journal and frees the data directory', async () => {
    const events: string[] = [];
    const c = config('fail');
    let journalRef: { list(): unknown } | undefined;
    await expect(
      startGateway({
        config: c,
        log: silentLogger(),
        components: [
          {
            name: 'pipeline',
            create: (ctx) => {
              journalRef = ctx.journal;
              return {
                name: 'pipeline',
                start: async () => void events.push('start:pipeline'),
                stop: async () => void events.push('stop:pipeline'),
              };
            },
          },
          {
            name: 'broker',
            create: () => ({
              name: 'broker',
              start: async () => {
                throw new Error('listen EADDRINUSE 127.0.0.1:1883');
              },
              stop: async () => void events.push('stop:broker'),
            }),
          },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'MEDGW_ERR_START_FAILED',
      message: expect.stringContaining('EADDRINUSE'),
    });
    expect(events).toEqual(['start:pipeline', 'stop:pipeline']);
    expect(lockHolder(c.dataDir)).toBeUndefined();
    expect(() => journalRef!.list()).toThrow(expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_OPEN' }));
    // and the directory can be used again right away
    const gw = await startGateway({ config: c, log: silentLogger(), components: [] });
    await gw.stop();
  });
});
