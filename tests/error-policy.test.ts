/**
 * Policy lives in the error catalogue: a national error code added to a COPY of the catalogue, and
 * nothing else, changes what the measurements client names an answer, what the forwarder does with
 * the reading, the label /metrics counts it under and the HTTP status the one error handler answers.
 * The national side is a real HTTP server that answers 451 (a status no real entry names), the
 * forwarder runs over a real SQLite journal, the metrics are the pages' prom-client registry and the
 * HTTP answers come from the gateway's fastify server over TCP.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MesClient, type MesCredentials } from '../cloud-bridge/mes-client.ts';
import type { PatientLink } from '../cloud-bridge/token-store.ts';
import { LocalAdminOps } from '../gateway/admin/ops.ts';
import { adminServer } from '../gateway/admin/server.ts';
import { Forwarder, type ForwarderEvent } from '../gateway/forwarder/index.ts';
import { SqliteJournal } from '../gateway/journal/index.ts';
import { silentLogger } from '../gateway/log.ts';
import { Operations } from '../gateway/ops/operations.ts';
import { LowRegistry } from '../gateway/registry/index.ts';
import { createMetrics } from '../gateway/web/metrics.ts';
import {
  type Catalogue,
  ERROR_CATALOGUE,
  type ErrorCode,
  type ErrorEntry,
  MedgwError,
  type NationalOutcome,
} from '../kernel/errors.ts';
import { sampleObservation } from './cloud-bridge/helpers.ts';

/** A national code this build does not know: the patient's record is frozen (HTTP 451). */
const FROZEN = 'MEDGW_ERR_MES_RECORD_FROZEN' as ErrorCode;

function withFrozen(outcome: NationalOutcome): Catalogue {
  const entry: ErrorEntry = {
    area: 'cloud',
    status: 423,
    message: "The national side froze the patient's record; it takes no reading for now.",
    hint: 'Ask the patient to contact Mon espace santé; the readings wait on the exchanges page.',
    outcome,
    answer: { status: [451] },
  };
  return { ...ERROR_CATALOGUE, [FROZEN]: entry };
}

const clock = { t: Date.UTC(2026, 10, 22, 9, 0, 0), now: () => clock.t };
let national: Server;
let baseUrl: string;
let dir: string;
let seq = 0;

const credentials: MesCredentials = {
  accessToken: 'access',
  idToken: 'id',
  idPe: '0123456789',
  pairingOid: '1.2.250.1.213.1.4.8',
  solutionOid: '2.25.71922510045900526679301521263764504793',
};
const link: PatientLink = {
  patientId: 'marie',
  ...credentials,
  expiresAt: clock.t + 3600_000,
  linkedAt: clock.t - 60_000,
  status: 'linked',
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medgw-error-policy-'));
  // the national side answers every measurement with 451 and an OperationOutcome
  national = createServer((req, res) => {
    req.resume();
    res.writeHead(451, { 'content-type': 'application/fhir+json' });
    res.end(
      JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'Record frozen.' }],
      }),
    );
  });
  await new Promise<void>((resolve) => national.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(national.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => national?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** One reading of marie sent once through a real client and forwarder reading `catalogue`. */
async function forwardOnce(catalogue: Catalogue | undefined) {
  const path = join(dir, `journal-${++seq}.db`);
  const journal = new SqliteJournal({ path, clock });
  const client = new MesClient({
    baseUrl,
    tokens: { credentials: async () => credentials, refresh: async () => credentials },
    now: clock.now,
    random: () => 0.5,
    ...(catalogue ? { catalogue } : {}),
  });
  let current = link;
  const forwarder = new Forwarder({
    journal,
    sender: client,
    links: {
      get: (id) => (id === current.patientId ? current : undefined),
      update: async (_id, patch) => {
        current = { ...current, ...patch };
        return current;
      },
    },
    clock,
    ...(catalogue ? { catalogue } : {}),
  });
  const events: ForwarderEvent[] = [];
  forwarder.on('event', (e: ForwarderEvent) => events.push(e));
  const id = `policy-${seq}`;
  journal.append([
    {
      id,
      deviceId: 'scale-1',
      patientId: 'marie',
      observation: sampleObservation('body-weight'),
      state: 'pending',
    },
  ]);
  await forwarder.tick();
  const record = journal.get(id);
  const audit = journal.auditList({ patientId: 'marie' }).map((a) => a.event);
  return {
    record,
    events,
    audit,
    forwarder,
    journal,
    close: () => {
      client.close();
      journal.close();
    },
  };
}

describe('a national error code added to a copy of the catalogue', () => {
  it('the real catalogue names no 451: the reading is retried as an undocumented answer', async () => {
    const run = await forwardOnce(undefined);
    expect(run.record).toMatchObject({ state: 'pending', reason: { code: 'MEDGW_ERR_MES_PROTOCOL' } });
    run.close();
  });

  it.each([
    ['retry', 'pending'],
    ['dead-letter', 'dead-letter'],
    ['hold-reading', 'held'],
    ['hold-patient', 'held'],
  ] as const)(
    'outcome %s: the forwarder leaves the reading %s under the new code',
    async (outcome, state) => {
      const run = await forwardOnce(withFrozen(outcome));
      expect(run.record).toMatchObject({ state, reason: { code: FROZEN } });
      if (outcome === 'retry') expect(run.record?.nextAttemptAt).toBeGreaterThan(clock.t);
      if (outcome === 'dead-letter') {
        expect(run.events).toContainEqual(expect.objectContaining({ type: 'dead-letter', code: FROZEN }));
        expect(run.audit).toContain('mes.rejected');
      }
      if (outcome === 'hold-patient') {
        expect(run.events).toContainEqual(expect.objectContaining({ patientId: 'marie', code: FROZEN }));
        expect(run.audit).toContain('mes.patient-held');
      } else {
        expect(run.audit).not.toContain('mes.patient-held');
        expect(run.events.filter((e) => e.type !== 'dead-letter')).toEqual([]);
      }
      run.close();
    },
  );

  it('/metrics counts the new code under the outcome the copy gives it', async () => {
    const catalogue = withFrozen('hold-patient');
    const registry = await LowRegistry.open(join(dir, 'registry.json'));
    const journal = new SqliteJournal({ path: join(dir, 'metrics.db'), clock });
    const events = new EventEmitter();
    const metrics = createMetrics({
      dataDir: dir,
      registry,
      journal,
      ops: new Operations(new LocalAdminOps(registry, journal, clock), { registry, journal }),
      clock,
      log: silentLogger(),
      catalogue,
      national: {
        label: 'test',
        startBrowserLink: async () => ({ url: '', state: '' }),
        completeBrowserLink: async () => link,
        unlink: async () => ({ revoked: true }),
        links: { get: () => undefined, list: () => [], update: async () => link },
        events,
      },
    });
    // the events a forwarder reading the copy emitted for a held patient and a dead letter
    const held = await forwardOnce(catalogue);
    const dead = await forwardOnce(withFrozen('dead-letter'));
    for (const e of [...held.events, ...dead.events]) events.emit('event', e);
    const text = await metrics.registry.metrics();
    // the hold counted as the copy says (hold-patient); the dead letter too, under the same copy
    expect(text).toContain(`medgw_national_outcomes_total{outcome="hold-patient",code="${FROZEN}"} 2`);
    expect(text).toContain(`medgw_rejections_total{code="${FROZEN}"} 1`);
    metrics.close();
    held.close();
    dead.close();
    journal.close();
  });

  it('the HTTP error handler answers the status the copy gives the code, the hint from the copy', async () => {
    const answer = async (catalogue: Catalogue | undefined) => {
      const server = adminServer(
        {
          host: '127.0.0.1',
          port: 0,
          token: 'test-token-0123456789',
          log: silentLogger(),
          ...(catalogue ? { catalogue } : {}),
        },
        new LocalAdminOps(
          await LowRegistry.open(join(dir, `registry-${++seq}.json`)),
          new SqliteJournal({ path: join(dir, `http-${seq}.db`), clock }),
          clock,
        ),
      );
      server.register(async (app) => {
        app.get('/frozen', async () => {
          throw new MedgwError(FROZEN, 'record frozen', undefined, catalogue);
        });
      });
      await server.start();
      try {
        const r = await fetch(`${server.url}/frozen`);
        return { status: r.status, body: (await r.json()) as { error: { code: string; hint: string } } };
      } finally {
        await server.stop();
      }
    };
    const copy = await answer(withFrozen('hold-patient'));
    expect(copy.status).toBe(423);
    expect(copy.body.error).toMatchObject({
      code: FROZEN,
      hint: expect.stringContaining('Mon espace santé'),
    });
    // the real catalogue does not know the code: an internal failure
    expect((await answer(undefined)).status).toBe(500);
  });
});
