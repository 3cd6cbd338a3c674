/**
 * End to end over real transports: a simulated glucometer over the virtual radio (real noble), the
 * BLE central, the pipeline and the SQLite journal; the forwarder and the cloud-bridge to the real
 * sandbox over HTTP after a device-flow pairing approved by a scripted patient.
 * 1. every record arrives at the national side exactly once and is readable back through
 *    GET /fhir/Observation, a link loss in the middle of the transfer included;
 * 2. the patient withdraws consent → 403 → readings held, nothing more sent, purged after the grace
 *    period, all audited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder, type ForwarderEvent } from '../../gateway/forwarder/index.ts';
import { mgdl, SimGlucometer } from '../../simulators/ble/glucometer.ts';
import { type Harness, harness, until } from '../ble-central/harness.ts';
import { type NationalSide, startNationalSide } from '../cloud-bridge/helpers.ts';

const METER = 'C0:26:DA:00:0E:01';
const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
const GRACE_MS = 6 * 3600_000;

let h: Harness | undefined;
let side: NationalSide | undefined;
let forwarder: Forwarder | undefined;
afterEach(async () => {
  await forwarder?.stop();
  await h?.close();
  await side?.close();
  forwarder = undefined;
  h = undefined;
  side = undefined;
});

function meter(count: number, faults = {}): SimGlucometer {
  const records = Array.from({ length: count }, (_, i) => ({
    baseTime: { year: 2026, month: 11, day: 20, hours: 7 + Math.floor(i / 60), minutes: i % 60, seconds: 0 },
    concentration: mgdl(95 + i),
    // Every record states its meal: a record without one is held for a person (normalize.test.ts).
    context: { meal: 1 + (i % 3) },
  }));
  return new SimGlucometer({ address: METER, records, faults });
}

async function setUp(
  g: SimGlucometer,
  offset: { ms: number },
  events: ForwarderEvent[],
): Promise<{ h: Harness; side: NationalSide; f: Forwarder }> {
  h = await harness([g], { timing: { cooldownMs: 200 } });
  side = await startNationalSide();
  await side.link('alice', 'marie.martin');
  await h.provision({ id: METER, driver: 'roche-accu-chek-guide', patientId: 'alice' });
  const clock = { now: () => Date.now() + offset.ms };
  forwarder = new Forwarder({
    journal: h.journal,
    sender: side.client({ now: clock.now }),
    links: side.store,
    registry: h.registry,
    clock,
    pollIntervalMs: 50,
    heldGraceMs: GRACE_MS,
  });
  forwarder.on('event', (e: ForwarderEvent) => events.push(e));
  return { h, side, f: forwarder };
}

/** GET /fhir/Observation in the documented "all" mode, every page. */
async function searchAll(
  s: NationalSide,
  code: string,
  ge: string,
  le: string,
): Promise<{ id: string; identifier: string }[]> {
  const creds = await s.pairing.credentials('alice');
  const out: { id: string; identifier: string }[] = [];
  for (let page = 0; ; page++) {
    const url = new URL(`${s.sandbox.url}/fhir/Observation`);
    url.searchParams.set('subject.identifier', `urn:oid:${creds.pairingOid}|${creds.idPe}`);
    url.searchParams.set('code', code);
    url.searchParams.append('date', `ge${ge}`);
    url.searchParams.append('date', `le${le}`);
    url.searchParams.set('_count', '10');
    url.searchParams.set('_offset', String(page));
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${creds.accessToken}`, 'x-id-token': creds.idToken },
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as {
      entry?: { resource: { id: string; identifier?: { system: string; value: string }[] } }[];
    };
    const entries = bundle.entry ?? [];
    for (const e of entries) {
      const ident = e.resource.identifier?.[0];
      out.push({ id: e.resource.id, identifier: `${ident?.system}|${ident?.value}` });
    }
    if (entries.length < 10) return out;
  }
}

describe('glucometer → gateway → Mon espace santé sandbox', () => {
  it('delivers every record exactly once, link loss included, and they read back through GET /fhir/Observation', async () => {
    const events: ForwarderEvent[] = [];
    const { h, side, f } = await setUp(meter(25, { disconnectAfterNotifications: 9 }), { ms: 0 }, events);
    await f.start();
    await h.central.start();
    expect((await h.waitState(METER, 'failed', 1, 20_000)).code).toBe('MEDGW_ERR_BLE_LINK_LOST');
    await h.waitState(METER, 'synced', 1, 30_000);
    await until(
      () => h.journal.list({ deviceId: METER, state: 'delivered' }).length === 25,
      '25 delivered',
      20_000,
    );

    const rows = h.journal.list({ deviceId: METER });
    expect(rows).toHaveLength(25);
    expect(rows.every((r) => r.state === 'delivered' && r.observation === null && r.remoteId)).toBe(true);
    const received = side.sandbox.observations().filter((o) => o.idPe === 'PE-SBX-0001');
    expect(received).toHaveLength(25);
    expect(received.filter((o) => o.duplicateOf)).toEqual([]);
    expect(new Set(received.map((o) => o.identifier))).toEqual(
      new Set(rows.map((r) => `urn:oid:${SOLUTION_OID}|${r.id}`)),
    );
    expect(side.sandbox.devices()).toHaveLength(1);

    const found = await searchAll(side, '2345-7', '2026-11-19', '2026-11-21');
    expect(found).toHaveLength(25);
    expect(new Set(found.map((o) => `Observation/${o.id}`))).toEqual(new Set(rows.map((r) => r.remoteId)));

    const audit = h.journal.auditList({ patientId: 'alice' }).filter((a) => a.event === 'mes.delivered');
    expect(audit).toHaveLength(25);
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(25);
    expect(h.journal.auditVerify()).toBeUndefined();
  }, 120_000);

  it('after consent is withdrawn: 403, readings held, nothing more sent, purged after the grace period, all audited', async () => {
    const events: ForwarderEvent[] = [];
    const offset = { ms: 0 };
    const g = meter(3);
    const { h, side, f } = await setUp(g, offset, events);
    await f.start();
    await h.central.start();
    await h.waitState(METER, 'synced', 1, 20_000);
    await until(
      () => h.journal.list({ deviceId: METER, state: 'delivered' }).length === 3,
      '3 delivered',
      20_000,
    );

    // The patient withdraws every kind on the national side.
    side.sandbox.revokeConsent('sbx-patient-1', 'medgw-gateway', [
      'weight',
      'blood-pressure',
      'heart-rate',
      'glucose',
      'temperature',
      'spo2',
    ]);
    await until(() => !g.connected, 'meter disconnected');
    await new Promise((r) => setTimeout(r, 250));
    g.measure({ mgdl: 111, context: { meal: 3 } });
    await h.waitState(METER, 'synced', 2);
    await until(
      () => h.journal.list({ deviceId: METER, state: 'held' }).length === 1,
      'held after 403',
      20_000,
    );
    expect(side.store.get('alice')?.status).toBe('consent-withdrawn');
    expect(events).toContainEqual({
      type: 'consent-withdrawn',
      patientId: 'alice',
      held: 1,
      code: 'MEDGW_ERR_MES_CONSENT',
    });
    const refusedBefore = side.sandbox.audit().filter((a) => a.event === 'observation.refused').length;
    expect(refusedBefore).toBe(1);

    // More readings: held by the gate, never sent.
    await until(() => !g.connected, 'meter disconnected again');
    await new Promise((r) => setTimeout(r, 250));
    g.measure({ mgdl: 122, context: { meal: 3 } });
    g.measure({ mgdl: 133, context: { meal: 3 } });
    await h.waitState(METER, 'synced', 3);
    await until(() => h.journal.list({ deviceId: METER, state: 'held' }).length === 3, '3 held', 20_000);
    await f.tick();
    expect(side.sandbox.audit().filter((a) => a.event === 'observation.refused')).toHaveLength(refusedBefore);
    expect(side.sandbox.observations()).toHaveLength(3);
    const held = h.journal.list({ deviceId: METER, state: 'held' });
    expect(held.every((r) => r.reason?.code === 'MEDGW_ERR_MES_CONSENT' && r.observation !== null)).toBe(
      true,
    );

    // The grace period passes: values purged, each purge audited.
    offset.ms = GRACE_MS + 1000;
    await f.tick();
    for (const r of held) {
      const after = h.journal.get(r.id);
      expect(after).toMatchObject({
        state: 'dead-letter',
        observation: null,
        reason: { code: 'MEDGW_ERR_HELD_EXPIRED' },
      });
      const trail = h.journal.auditList({ readingId: r.id }).map((a) => a.event);
      expect(trail).toContain('mes.held-purged');
    }
    const patientTrail = h.journal.auditList({ patientId: 'alice' }).map((a) => a.event);
    expect(patientTrail).toContain('mes.patient-held');
    expect(patientTrail.filter((e) => e === 'mes.delivered')).toHaveLength(3);
    expect(events).toContainEqual({ type: 'held-purged', patientId: 'alice', count: 3 });
    expect(side.sandbox.observations()).toHaveLength(3);
    expect(h.journal.auditVerify()).toBeUndefined();
  }, 120_000);
});
