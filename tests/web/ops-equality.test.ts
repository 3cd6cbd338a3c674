/**
 * One operation, one result, whichever door it came through: for each operation of the operations
 * service (gateway/ops/operations.ts) the page's form action and the `/api/v1` route(s) are run on
 * twin subjects of one real gateway (fastify over TCP, SQLite journal, lowdb registry, the sandbox
 * for the national side), and must leave the same state, the same audit entries and the same
 * operations events (live pages to refresh, forwarder kick), or refuse with the same code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpsEvent } from '../../gateway/ops/operations.ts';
import { authorizeInBrowser } from '../../simulators/sandbox/browser.ts';
import { Client, startGateway, type TestGateway } from './harness.ts';
import { weight } from './seed.ts';

interface Outcome {
  readonly ok: boolean;
  readonly code?: string;
}

/** What one door did: its outcome, the operations events it caused, with the subject's id made neutral. */
interface Trace {
  readonly outcome: Outcome;
  readonly events: readonly Omit<OpsEvent, 'subject'>[];
  readonly subjects: readonly string[];
}

function doors(gw: () => TestGateway, client: () => Client, csrf: () => string) {
  const events: OpsEvent[] = [];
  let attached = false;
  const listen = () => {
    if (attached) return;
    gw().ops.on('event', (e) => events.push(e));
    attached = true;
  };
  const trace = async (run: () => Promise<Outcome>): Promise<Trace> => {
    listen();
    const from = events.length;
    const outcome = await run();
    const mine = events.slice(from);
    return {
      outcome,
      events: mine.map(({ subject: _s, ...rest }) => rest),
      subjects: mine.map((e) => e.subject),
    };
  };
  return {
    /** A form posted by a signed-in session: the flash on the page it lands on says how it went. */
    page: (path: string, form: Record<string, string> = {}) =>
      trace(async () => {
        const res = await client().go(path, { form: { _csrf: csrf(), ...form } });
        expect(res.status, path).toBe(303);
        const landed = await (await client().go(res.headers.get('location') ?? '/status')).text();
        const flash = /class="fr-alert fr-alert--(success|error)[^"]*"[^>]*>([\s\S]*?)<\/div>/.exec(landed);
        expect(flash, `${path}: a notice on the page`).not.toBeNull();
        const code = /MEDGW_ERR_[A-Z0-9_]+/.exec(flash?.[2] ?? '')?.[0];
        return { ok: flash?.[1] === 'success', ...(code ? { code } : {}) };
      }),
    /** A JSON call with the admin token. */
    api: (method: string, path: string, body?: unknown) =>
      trace(async () => {
        const res = await fetch(`${gw().url}/api/v1${path}`, {
          method,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${gw().adminToken}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const json = (await res.json()) as { error?: { code: string } };
        return res.ok ? { ok: true } : { ok: false, code: json.error?.code ?? `HTTP ${res.status}` };
      }),
  };
}

/** The audit entries about one subject, without what necessarily differs (seq, time, hash, the id). */
function auditOf(gw: TestGateway, filter: { readingId?: string; patientId?: string }, id: string) {
  return gw.journal
    .auditList({ ...filter, limit: 1000 })
    .filter((e) => !e.event.startsWith('mes.'))
    .map((e) => ({
      event: e.event,
      detail: e.detail,
      deviceId: e.deviceId === id ? 'X' : e.deviceId,
      patientId: e.patientId === id ? 'X' : e.patientId,
    }));
}

function readingState(gw: TestGateway, id: string) {
  const r = gw.journal.get(id);
  return (
    r && { state: r.state, reason: r.reason?.code, patientId: r.patientId, purged: r.observation === null }
  );
}

describe('operations through the pages and the admin API, without a national side', () => {
  let gw: TestGateway;
  let c: Client;
  let csrf: string;
  const d = doors(
    () => gw,
    () => c,
    () => csrf,
  );

  beforeAll(async () => {
    gw = await startGateway();
    await gw.ops.addPatient({ id: 'p1', displayName: 'Marie Martin' });
    for (const id of ['scale-page', 'scale-api', 'scale-admin'])
      await gw.ops.addDevice({ id, transport: 'mqtt', name: 'Balance' });
    const reading = (id: string, state: 'pending' | 'quarantined') => ({
      id,
      deviceId: 'scale-page',
      patientId: 'p1',
      observation: weight(72.5),
      state,
      ...(state === 'quarantined'
        ? { reason: { code: 'MEDGW_ERR_IMPLAUSIBLE_VALUE' as const, message: 'too heavy' } }
        : {}),
    });
    const refused = ['rt-page', 'rt-api', 'rt-outbox'];
    const delivered = ['dl-page', 'dl-api', 'dl-outbox'];
    gw.journal.append([
      ...[...refused, ...delivered].map((id) => reading(id, 'pending')),
      ...['q-page', 'q-api', 'q-outbox', 'qd-page', 'qd-api'].map((id) => reading(id, 'quarantined')),
    ]);
    for (const id of refused) {
      gw.journal.transition(id, 'pending', 'dead-letter', {
        reason: { code: 'MEDGW_ERR_MES_REJECTED', message: 'HTTP 422: refused' },
      });
    }
    for (const id of delivered) {
      gw.journal.transition(id, 'pending', 'in-flight');
      gw.journal.transition(id, 'in-flight', 'delivered', { remoteId: `Observation/${id}` });
    }
    c = new Client(gw.url);
    csrf = await c.login();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('retry: the exchanges button, /exchanges/:id/retry and /outbox/:id/retry', async () => {
    const page = await d.page('/exchanges/retry', { id: 'rt-page' });
    const api = await d.api('POST', '/exchanges/rt-api/retry');
    const outbox = await d.api('POST', '/outbox/rt-outbox/retry', {});
    expect(page.outcome).toEqual({ ok: true });
    expect(page.events).toEqual([{ op: 'reading.retry', topics: ['exchanges', 'readings'], kick: true }]);
    for (const other of [api, outbox]) expect(other).toEqual({ ...page, subjects: other.subjects });
    expect([page, api, outbox].map((t) => t.subjects)).toEqual([['rt-page'], ['rt-api'], ['rt-outbox']]);
    const states = ['rt-page', 'rt-api', 'rt-outbox'].map((id) => readingState(gw, id));
    expect(states[0]).toMatchObject({ state: 'pending' });
    expect(states).toEqual([states[0], states[0], states[0]]);
    const audits = ['rt-page', 'rt-api', 'rt-outbox'].map((id) => auditOf(gw, { readingId: id }, id));
    expect(audits[0]?.map((a) => a.event)).toContain('reading.retried');
    expect(audits).toEqual([audits[0], audits[0], audits[0]]);
  });

  it('retry refused: a delivered reading is refused with the same code by every door', async () => {
    const page = await d.page('/exchanges/retry', { id: 'dl-page' });
    const api = await d.api('POST', '/exchanges/dl-api/retry');
    const outbox = await d.api('POST', '/outbox/dl-outbox/retry', {});
    expect(page).toEqual({
      outcome: { ok: false, code: 'MEDGW_ERR_JOURNAL_STATE' },
      events: [],
      subjects: [],
    });
    expect(api).toEqual(page);
    expect(outbox).toEqual(page);
  });

  it('confirm: the quarantine form, /quarantine/:id/confirm and /outbox/:id/assign', async () => {
    const page = await d.page('/quarantine/confirm', { id: 'q-page', patientId: 'p1' });
    const api = await d.api('POST', '/quarantine/q-api/confirm', { patientId: 'p1' });
    const outbox = await d.api('POST', '/outbox/q-outbox/assign', { patientId: 'p1' });
    expect(page.outcome).toEqual({ ok: true });
    expect(page.events).toEqual([{ op: 'reading.confirm', topics: ['exchanges', 'readings'], kick: true }]);
    for (const other of [api, outbox]) expect(other).toEqual({ ...page, subjects: other.subjects });
    const states = ['q-page', 'q-api', 'q-outbox'].map((id) => readingState(gw, id));
    expect(states[0]).toMatchObject({ state: 'pending', patientId: 'p1' });
    expect(states).toEqual([states[0], states[0], states[0]]);
    const audits = ['q-page', 'q-api', 'q-outbox'].map((id) => auditOf(gw, { readingId: id }, id));
    expect(audits[0]?.map((a) => a.event)).toContain('reading.assigned');
    expect(audits).toEqual([audits[0], audits[0], audits[0]]);
  });

  it('discard: the quarantine form and /quarantine/:id/discard; a reading no longer quarantined is refused alike', async () => {
    const page = await d.page('/quarantine/discard', { id: 'qd-page' });
    const api = await d.api('POST', '/quarantine/qd-api/discard');
    expect(page.outcome).toEqual({ ok: true });
    expect(page.events).toEqual([{ op: 'reading.discard', topics: ['exchanges', 'readings'], kick: false }]);
    expect(api).toEqual({ ...page, subjects: ['qd-api'] });
    const states = ['qd-page', 'qd-api'].map((id) => readingState(gw, id));
    expect(states[0]).toMatchObject({
      state: 'dead-letter',
      reason: 'MEDGW_ERR_OPERATOR_DISCARDED',
      purged: true,
    });
    expect(states[1]).toEqual(states[0]);
    expect(auditOf(gw, { readingId: 'qd-api' }, 'qd-api')).toEqual(
      auditOf(gw, { readingId: 'qd-page' }, 'qd-page'),
    );
    // confirmed above, so pending now: the quarantine page's discard no longer applies
    const stale = await d.page('/quarantine/discard', { id: 'q-page' });
    expect(stale.outcome).toEqual({ ok: false, code: 'MEDGW_ERR_JOURNAL_STATE' });
    expect(await d.api('POST', '/quarantine/q-api/discard')).toEqual(stale);
    expect(readingState(gw, 'q-page')?.state).toBe('pending');
  });

  it('device rename and assign: the device page forms and the API routes', async () => {
    const renamePage = await d.page('/devices/scale-page/rename', { name: 'Balance salle de bain' });
    const renameApi = await d.api('POST', '/devices/scale-api/rename', { name: 'Balance salle de bain' });
    expect(renamePage.events).toEqual([{ op: 'device.rename', topics: ['registry'], kick: false }]);
    expect(renameApi).toEqual({ ...renamePage, subjects: ['scale-api'] });
    const assignPage = await d.page('/devices/scale-page/assign', { patientId: 'p1' });
    const assignApi = await d.api('POST', '/devices/scale-api/assign', { patientId: 'p1' });
    expect(assignPage.outcome).toEqual({ ok: true });
    expect(assignPage.events).toEqual([{ op: 'device.assign', topics: ['registry'], kick: false }]);
    expect(assignApi).toEqual({ ...assignPage, subjects: ['scale-api'] });
    const device = (id: string) => {
      const { id: _id, createdAt: _at, secretHash: _s, ...rest } = gw.registry.getDevice(id) ?? {};
      return rest;
    };
    expect(device('scale-page')).toMatchObject({ name: 'Balance salle de bain', patientId: 'p1' });
    expect(device('scale-api')).toEqual(device('scale-page'));
    const devAudit = (id: string) =>
      gw.journal
        .auditList({ limit: 1000 })
        .filter((e) => e.deviceId === id && e.event.startsWith('device.') && e.event !== 'device.added')
        .map((e) => ({ event: e.event, patientId: e.patientId, detail: e.detail }));
    expect(devAudit('scale-page').map((e) => e.event)).toEqual(['device.renamed', 'device.assigned']);
    expect(devAudit('scale-api')).toEqual(devAudit('scale-page'));
    // an unknown device: the same refusal
    const unknownPage = await d.page('/devices/nope/rename', { name: 'x' });
    expect(unknownPage.outcome).toEqual({ ok: false, code: 'MEDGW_ERR_REGISTRY_UNKNOWN' });
    expect(await d.api('POST', '/devices/nope/rename', { name: 'x' })).toEqual(unknownPage);
  });

  it('device forget: the device page, /devices/:id/forget and DELETE /devices/:id', async () => {
    const page = await d.page('/devices/scale-page/forget');
    const api = await d.api('POST', '/devices/scale-api/forget');
    const admin = await d.api('DELETE', '/devices/scale-admin');
    expect(page.outcome).toEqual({ ok: true });
    expect(page.events).toEqual([{ op: 'device.remove', topics: ['registry'], kick: false }]);
    expect(api).toEqual({ ...page, subjects: ['scale-api'] });
    expect(admin).toEqual({ ...page, subjects: ['scale-admin'] });
    for (const id of ['scale-page', 'scale-api', 'scale-admin']) {
      expect(gw.registry.getDevice(id)).toBeUndefined();
      expect(
        gw.journal
          .auditList({ limit: 1000 })
          .filter((e) => e.deviceId === id)
          .at(-1)?.event,
      ).toBe('device.removed');
    }
  });

  it('patient add and remove: the patients page and the API routes', async () => {
    const addPage = await d.page('/patients', { id: 'twin-page', displayName: 'Léa Bernard' });
    const addApi = await d.api('POST', '/patients', { id: 'twin-api', displayName: 'Léa Bernard' });
    expect(addPage.outcome).toEqual({ ok: true });
    expect(addPage.events).toEqual([{ op: 'patient.add', topics: ['registry'], kick: false }]);
    expect(addApi).toEqual({ ...addPage, subjects: ['twin-api'] });
    const again = await d.page('/patients', { id: 'twin-page', displayName: 'Léa Bernard' });
    expect(again.outcome).toEqual({ ok: false, code: 'MEDGW_ERR_REGISTRY_EXISTS' });
    expect(await d.api('POST', '/patients', { id: 'twin-api', displayName: 'Léa Bernard' })).toEqual(again);

    const removePage = await d.page('/patients/twin-page/remove');
    const removeApi = await d.api('DELETE', '/patients/twin-api');
    expect(removePage.outcome).toEqual({ ok: true });
    expect(removePage.events).toEqual([{ op: 'patient.remove', topics: ['registry', 'links'], kick: false }]);
    expect(removeApi).toEqual({ ...removePage, subjects: ['twin-api'] });
    expect(auditOf(gw, { patientId: 'twin-api' }, 'twin-api')).toEqual(
      auditOf(gw, { patientId: 'twin-page' }, 'twin-page'),
    );
    // a patient a device still points to is refused alike
    await gw.ops.addDevice({ id: 'scale-kept', transport: 'mqtt', patientId: 'p1' });
    const inUsePage = await d.page('/patients/p1/remove');
    expect(inUsePage.outcome).toEqual({ ok: false, code: 'MEDGW_ERR_REGISTRY_IN_USE' });
    expect(await d.api('DELETE', '/patients/p1')).toEqual(inUsePage);
  });
});

describe('operations on the national link through the pages and the admin API', () => {
  let gw: TestGateway;
  let c: Client;
  let csrf: string;
  const d = doors(
    () => gw,
    () => c,
    () => csrf,
  );

  beforeAll(async () => {
    gw = await startGateway({ national: true });
    c = new Client(gw.url);
    csrf = await c.login();
    for (const [id, login] of [
      ['twin-page', 'jean.dupont'],
      ['twin-api', 'lea.bernard'],
    ] as const) {
      await gw.ops.addPatient({ id, displayName: login });
      const start = await fetch(`${gw.url}/api/v1/patients/${id}/link`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const { url } = (await start.json()) as { url: string };
      const back = await authorizeInBrowser(url, { login, password: 'sandbox' });
      expect((await fetch(back, { redirect: 'manual' })).status).toBe(303);
      expect(gw.bridge?.store.get(id)).toBeDefined();
    }
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('consent choice: the patients page form and PUT /patients/:id/consents', async () => {
    const page = await d.page('/patients/twin-page/consents', { kind: 'weight' });
    const api = await d.api('PUT', '/patients/twin-api/consents', { kinds: ['weight'] });
    expect(page.outcome).toEqual({ ok: true });
    expect(page.events).toEqual([{ op: 'patient.consents', topics: ['links'], kick: true }]);
    expect(api).toEqual({ ...page, subjects: ['twin-api'] });
    expect(gw.bridge?.store.get('twin-page')?.kinds).toEqual(['weight']);
    expect(gw.bridge?.store.get('twin-api')?.kinds).toEqual(['weight']);
  });

  it('unlink: the patients page form and POST /patients/:id/unlink', async () => {
    const page = await d.page('/patients/twin-page/unlink');
    const api = await d.api('POST', '/patients/twin-api/unlink');
    expect(page.outcome).toEqual({ ok: true });
    expect(page.events).toEqual([{ op: 'patient.unlink', topics: ['links'], kick: false }]);
    expect(api).toEqual({ ...page, subjects: ['twin-api'] });
    expect(gw.bridge?.store.get('twin-page')).toBeUndefined();
    expect(gw.bridge?.store.get('twin-api')).toBeUndefined();
    const linkAudit = (id: string) =>
      auditOf(gw, { patientId: id }, id).filter((e) => e.event.startsWith('patient.'));
    expect(linkAudit('twin-page').map((e) => e.event)).toContain('patient.unlinked');
    expect(linkAudit('twin-api')).toEqual(linkAudit('twin-page'));
    // not linked any more: the same refusal
    const again = await d.page('/patients/twin-page/unlink');
    expect(again.outcome.ok).toBe(false);
    expect(await d.api('POST', '/patients/twin-api/unlink')).toEqual(again);
  });
});
