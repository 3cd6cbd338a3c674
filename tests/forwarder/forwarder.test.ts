/**
 * The forwarder over a real journal and the real sandbox: delivery with values purged and audit,
 * consent gate per kind, unlinked patients, never-sendable kinds, retries until delivered exactly once,
 * and a crash that leaves readings in flight settled by search (no duplicate at the national side).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObservationKind } from '../../drivers/types.ts';
import type { NewReading } from '../../gateway/contracts.ts';
import { Forwarder, type ForwarderEvent } from '../../gateway/forwarder/index.ts';
import { MemoryJournal, SqliteJournal } from '../../gateway/journal/index.ts';
import {
  GLUCOMETER,
  type NationalSide,
  sampleObservation,
  startNationalSide,
} from '../cloud-bridge/helpers.ts';

const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
let side: NationalSide;
let seq = 0;
const clock = { t: Date.UTC(2026, 10, 22, 9, 0, 0), now: () => clock.t };

function newReading(
  patientId: string | undefined,
  kind: 'glucose' | 'body-weight' | 'blood-pressure' | 'heart-rate' | 'body-temperature' | 'spo2',
): NewReading {
  return {
    id: `fw-${process.pid}-${++seq}`,
    deviceId: GLUCOMETER.id,
    ...(patientId ? { patientId } : {}),
    observation: sampleObservation(kind),
    state: 'pending',
  };
}
const atSandbox = (id: string) =>
  side.sandbox.observations().filter((o) => o.identifier === `urn:oid:${SOLUTION_OID}|${id}`);

function forwarderOn(journal: MemoryJournal | SqliteJournal, events: ForwarderEvent[] = []): Forwarder {
  const f = new Forwarder({
    journal,
    sender: side.client({ now: clock.now }),
    links: side.store,
    registry: {
      getDevice: (id) =>
        id === GLUCOMETER.id ? { ...GLUCOMETER, transport: 'ble', createdAt: 0 } : undefined,
    },
    clock,
    heldGraceMs: 3600_000,
  });
  f.on('event', (e: ForwarderEvent) => events.push(e));
  return f;
}

beforeAll(async () => {
  side = await startNationalSide();
  await side.link('marie', 'marie.martin');
});
afterAll(async () => {
  await side?.close();
});

describe('forwarder', () => {
  it('delivers due readings once, purges their values and audits the national id', async () => {
    const journal = new MemoryJournal({ clock });
    const events: ForwarderEvent[] = [];
    const f = forwarderOn(journal, events);
    const readings = (['glucose', 'body-weight', 'blood-pressure'] as const).map((k) =>
      newReading('marie', k),
    );
    journal.append(readings);
    await f.tick();
    await f.tick();
    for (const r of readings) {
      const rec = journal.get(r.id);
      expect(rec?.state).toBe('delivered');
      expect(rec?.observation).toBeNull();
      const stored = atSandbox(r.id);
      expect(stored).toHaveLength(1);
      expect(rec?.remoteId).toBe(`Observation/${stored[0]?.id}`);
      const audit = journal.auditList({ readingId: r.id }).find((a) => a.event === 'mes.delivered');
      expect(audit).toMatchObject({
        patientId: 'marie',
        deviceId: GLUCOMETER.id,
        kind: r.observation.kind,
        detail: {
          remoteId: rec?.remoteId,
          status: 'delivered',
          measuredAt: '2026-11-22T07:15:00Z',
          httpStatus: 200,
        },
      });
      expect(Object.keys(audit?.detail ?? {})).not.toContain('value');
      expect(JSON.stringify(audit)).not.toMatch(/"value"|72\.4|mg\/dL|mm\[Hg\]/);
    }
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(3);
    expect(f.stats()).toMatchObject({ delivered: 3, deadLetter: {}, held: {}, retry: {} });
    expect(f.stats().lastDeliveryAt.marie).toBe(clock.t);
    // The device identity from the registry reached the PhdDevice.
    expect(side.sandbox.devices().some((d) => d.key.endsWith('|00-1B-DC-FF-FE-01-02-03'))).toBe(true);
    expect(journal.auditVerify()).toBeUndefined();
  });

  it('writes log lines with reading ids and codes only: no value, identity or token', async () => {
    const journal = new MemoryJournal({ clock });
    const lines: string[] = [];
    const capture = (obj: object, msg: string): void => {
      lines.push(`${msg} ${JSON.stringify(obj)}`);
    };
    const f = new Forwarder({
      journal,
      sender: side.client({ now: clock.now }),
      links: side.store,
      clock,
      log: { info: capture, warn: capture, error: capture },
    });
    const ok = newReading('marie', 'body-weight');
    const refused = newReading('marie', 'glucose');
    journal.append([ok]);
    await f.tick();
    side.sandbox.setFaults({ status: { code: 503, times: 1 } });
    journal.append([refused]);
    try {
      await f.tick();
    } finally {
      side.sandbox.clearFaults();
    }
    expect(lines.some((l) => l.startsWith('reading delivered'))).toBe(true);
    expect(lines.some((l) => l.startsWith('reading will be retried'))).toBe(true);
    const link = side.store.get('marie');
    for (const secret of ['PE-SBX-0001', link?.accessToken, link?.idToken, link?.refreshToken, 'marie']) {
      for (const l of lines) expect(l).not.toContain(secret);
    }
    for (const l of lines) expect(l).not.toMatch(/"value"|72\.4|mg\/dL|"kg"/);
  });

  it('holds kinds the patient did not choose, releases them when chosen, and never sends BMI', async () => {
    const journal = new MemoryJournal({ clock });
    const f = forwarderOn(journal);
    side.store.update('marie', { kinds: ['glucose'] });
    const weight = newReading('marie', 'body-weight');
    const bmi: NewReading = {
      ...newReading('marie', 'body-weight'),
      observation: {
        kind: 'bmi' as ObservationKind,
        loinc: '39156-5',
        mdc: '188752',
        value: 22.5,
        decimals: 1,
        unit: 'kg/m2',
        time: { utc: '2026-11-22T07:15:00Z', quality: 'synced' },
      },
    };
    journal.append([weight, bmi]);
    await f.tick();
    expect(journal.get(weight.id)).toMatchObject({
      state: 'held',
      reason: { code: 'MEDGW_ERR_CONSENT_LOCAL' },
    });
    expect(journal.get(bmi.id)).toMatchObject({
      state: 'dead-letter',
      reason: { code: 'MEDGW_ERR_BUNDLE_NOT_SENDABLE' },
    });
    expect(atSandbox(weight.id)).toHaveLength(0);
    expect(atSandbox(bmi.id)).toHaveLength(0);
    expect(f.stats()).toMatchObject({
      delivered: 0,
      held: { MEDGW_ERR_CONSENT_LOCAL: 1 },
      deadLetter: { MEDGW_ERR_BUNDLE_NOT_SENDABLE: 1 },
    });
    side.store.update('marie', { kinds: undefined });
    await f.tick();
    await f.tick();
    expect(journal.get(weight.id)?.state).toBe('delivered');
    expect(atSandbox(weight.id)).toHaveLength(1);
  });

  it('holds readings of a patient who is not linked', async () => {
    const journal = new MemoryJournal({ clock });
    const f = forwarderOn(journal);
    const r = newReading('nobody', 'glucose');
    const unattributed = newReading(undefined, 'glucose');
    journal.append([r, unattributed]);
    await f.tick();
    expect(journal.get(r.id)).toMatchObject({ state: 'held', reason: { code: 'MEDGW_ERR_NOT_LINKED' } });
    expect(journal.get(unattributed.id)).toMatchObject({
      state: 'held',
      reason: { code: 'MEDGW_ERR_NOT_LINKED' },
    });
  });

  it('retries a sandbox answering 503 then 429, and delivers exactly once when it is back', async () => {
    const journal = new MemoryJournal({ clock });
    const f = forwarderOn(journal);
    const r = newReading('marie', 'heart-rate');
    journal.append([r]);
    side.sandbox.setFaults({ status: { code: 503, times: 2 } });
    try {
      const t0 = clock.t;
      await f.tick();
      const first = journal.get(r.id);
      expect(first).toMatchObject({
        state: 'pending',
        reason: { code: 'MEDGW_ERR_MES_UNAVAILABLE' },
        attempts: 1,
      });
      expect(first?.nextAttemptAt).toBeGreaterThan(clock.t);
      await f.tick();
      expect(journal.get(r.id)?.attempts).toBe(1);
      clock.t = (first?.nextAttemptAt ?? clock.t) + 1;
      await f.tick();
      const second = journal.get(r.id);
      expect(second).toMatchObject({ state: 'pending', attempts: 2 });
      // Default backoff 2 s base with equal jitter: attempt 1 waits 1-2 s, attempt 2 waits 2-4 s.
      const delay1 = (first?.nextAttemptAt ?? 0) - t0;
      const delay2 = (second?.nextAttemptAt ?? 0) - clock.t;
      expect(delay1).toBeGreaterThanOrEqual(1000);
      expect(delay1).toBeLessThanOrEqual(2000);
      expect(delay2).toBeGreaterThanOrEqual(2000);
      expect(delay2).toBeLessThanOrEqual(4000);
      side.sandbox.setFaults({ rateLimit: { retryAfterSeconds: 30, times: 1 } });
      clock.t = (second?.nextAttemptAt ?? clock.t) + 1;
      await f.tick();
      const third = journal.get(r.id);
      expect(third?.nextAttemptAt).toBeGreaterThanOrEqual(clock.t + 30_000);
      clock.t = (third?.nextAttemptAt ?? clock.t) + 1;
      await f.tick();
    } finally {
      side.sandbox.clearFaults();
    }
    expect(journal.get(r.id)?.state).toBe('delivered');
    expect(atSandbox(r.id)).toHaveLength(1);
  });

  it('searches before resending a reading whose POST got no answer (timeout), then sends it once', async () => {
    const journal = new MemoryJournal({ clock });
    const f = new Forwarder({
      journal,
      sender: side.client({ now: clock.now, timeoutMs: 300 }),
      links: side.store,
      clock,
    });
    const r = newReading('marie', 'glucose');
    journal.append([r]);
    side.sandbox.setFaults({ latencyMs: 700 });
    try {
      await f.tick();
    } finally {
      side.sandbox.clearFaults();
    }
    const first = journal.get(r.id);
    expect(first).toMatchObject({ state: 'pending', reason: { code: 'MEDGW_ERR_MES_NO_ANSWER' } });
    await new Promise((ok) => setTimeout(ok, 500));
    const searches = side.sandbox.audit().filter((a) => a.event === 'search').length;
    clock.t = (first?.nextAttemptAt ?? clock.t) + 1;
    await f.tick();
    expect(side.sandbox.audit().filter((a) => a.event === 'search')).toHaveLength(searches + 1);
    expect(journal.get(r.id)).toMatchObject({
      state: 'delivered',
      remoteId: `Observation/${atSandbox(r.id)[0]?.id}`,
    });
    expect(atSandbox(r.id)).toHaveLength(1);
  });

  it('sandbox down for a while (5xx, 429, dropped connections): every reading delivered once it is back', async () => {
    const journal = new MemoryJournal({ clock });
    const f = forwarderOn(journal);
    const readings = Array.from({ length: 8 }, (_, i) =>
      newReading('marie', (['glucose', 'body-weight', 'heart-rate', 'spo2'] as const)[i % 4] ?? 'glucose'),
    );
    journal.append(readings);
    side.sandbox.setFaults({
      status: { code: 500, times: 6 },
      drop: { times: 3 },
      rateLimit: { retryAfterSeconds: 5, times: 2 },
    });
    try {
      for (let i = 0; i < 40 && journal.list({ state: 'delivered' }).length < readings.length; i++) {
        await f.tick();
        const next = Math.min(...journal.list({ state: 'pending' }).map((x) => x.nextAttemptAt ?? clock.t));
        clock.t = Math.max(clock.t, Number.isFinite(next) ? next : clock.t) + 1;
      }
    } finally {
      side.sandbox.clearFaults();
    }
    for (const r of readings) {
      expect(journal.get(r.id)?.state).toBe('delivered');
      expect(atSandbox(r.id)).toHaveLength(1);
    }
    expect(side.sandbox.faults()).toEqual({});
  });

  it('a refused refresh holds the patient, asks for a new link, and a new link releases the readings', async () => {
    await side.link('jean', 'jean.dupont');
    const journal = new MemoryJournal({ clock });
    const events: ForwarderEvent[] = [];
    const f = forwarderOn(journal, events);
    const first = newReading('jean', 'glucose');
    const second = newReading('jean', 'body-weight');
    journal.append([first, second]);
    // The tokens expire and the provider no longer honours the refresh token.
    const link = side.store.get('jean');
    const config = await side.pairing.configuration();
    await oidc.tokenRevocation(config, link?.refreshToken ?? '', { token_type_hint: 'refresh_token' });
    side.store.update('jean', { expiresAt: 0 });
    await f.tick();
    for (const r of [first, second]) {
      expect(journal.get(r.id)).toMatchObject({
        state: 'held',
        reason: { code: 'MEDGW_ERR_REAUTH_REQUIRED' },
      });
    }
    expect(events).toContainEqual({
      type: 'reauth-required',
      patientId: 'jean',
      held: expect.any(Number),
      code: 'MEDGW_ERR_REAUTH_REQUIRED',
    });
    expect(side.store.get('jean')?.status).toBe('reauth-required');
    await f.tick();
    expect(journal.get(first.id)?.state).toBe('held');

    await side.link('jean', 'jean.dupont');
    await f.tick();
    await f.tick();
    for (const r of [first, second]) {
      expect(journal.get(r.id)?.state).toBe('delivered');
      expect(atSandbox(r.id)).toHaveLength(1);
    }
  }, 60_000);

  it('settles readings left in flight by a crash: found by search, or sent again once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgw-fw-crash-'));
    try {
      const path = join(dir, 'journal.db');
      let journal = new SqliteJournal({ path, clock });
      const arrived = newReading('marie', 'glucose');
      const lost = newReading('marie', 'body-temperature');
      journal.append([arrived, lost]);
      // The gateway marks both in flight; the first POST reaches the national side, then the process dies.
      journal.transition(arrived.id, 'pending', 'in-flight');
      journal.transition(lost.id, 'pending', 'in-flight');
      const client = side.client({ now: clock.now });
      const sent = await client.send('marie', {
        id: arrived.id,
        observation: arrived.observation,
        device: GLUCOMETER,
      });
      expect(sent.status).toBe('delivered');
      journal.close();

      journal = new SqliteJournal({ path, clock });
      const f = forwarderOn(journal);
      await f.start();
      await f.stop();
      expect(journal.get(arrived.id)).toMatchObject({
        state: 'delivered',
        remoteId: sent.status === 'delivered' ? sent.remoteId : '',
        observation: null,
      });
      expect(journal.get(lost.id)?.state).toBe('delivered');
      expect(atSandbox(arrived.id)).toHaveLength(1);
      expect(atSandbox(lost.id)).toHaveLength(1);
      expect(side.sandbox.observations().filter((o) => o.duplicateOf)).toEqual([]);
      expect(journal.auditList({ readingId: lost.id }).map((a) => a.event)).toContain(
        'mes.resend-after-crash',
      );
      journal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reading left in flight whose patient withdrew consent meanwhile is held, not sent', async () => {
    await side.link('lea', 'lea.bernard');
    const journal = new MemoryJournal({ clock });
    const r = newReading('lea', 'spo2');
    journal.append([r]);
    journal.transition(r.id, 'pending', 'in-flight');
    side.sandbox.revokeConsent('sbx-patient-3', 'medgw-gateway', [
      'weight',
      'blood-pressure',
      'heart-rate',
      'glucose',
      'temperature',
      'spo2',
    ]);
    const f = forwarderOn(journal);
    await f.tick();
    const after = journal.get(r.id);
    expect(after).toMatchObject({ state: 'pending', reason: { code: 'MEDGW_ERR_MES_NO_ANSWER' } });
    clock.t = (after?.nextAttemptAt ?? clock.t) + 1;
    await f.tick();
    expect(journal.get(r.id)).toMatchObject({ state: 'held', reason: { code: 'MEDGW_ERR_MES_CONSENT' } });
    expect(side.store.get('lea')?.status).toBe('consent-withdrawn');
    expect(atSandbox(r.id)).toHaveLength(0);
  }, 60_000);
});
