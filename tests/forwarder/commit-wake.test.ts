/**
 * The forwarder over the real SQLite journal and the real sandbox, wired as `medgw start` wires it:
 * one group commit shared with the ingest side, each commit of new readings wakes the forwarder (the
 * poll here is an hour, so only the wake can deliver), a state change and its audit entry are one
 * transaction, and the moves of concurrent sends share commits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewReading } from '../../gateway/contracts.ts';
import { Forwarder, type ForwarderEvent } from '../../gateway/forwarder/index.ts';
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { SqliteJournal } from '../../gateway/journal/index.ts';
import {
  GLUCOMETER,
  type NationalSide,
  sampleObservation,
  startNationalSide,
} from '../cloud-bridge/helpers.ts';

let side: NationalSide;
let dir: string;
let seq = 0;
const clock = { now: () => Date.now() };

function newReading(): NewReading {
  return {
    id: `wake-${process.pid}-${++seq}`,
    deviceId: GLUCOMETER.id,
    patientId: 'marie',
    observation: sampleObservation('body-weight'),
    state: 'pending',
  };
}

/** The real SQLite journal, counting its write transactions by kind. */
class CountingJournal extends SqliteJournal {
  transitionCommits = 0;
  auditCommits = 0;
  override transitionBatch(...args: Parameters<SqliteJournal['transitionBatch']>) {
    this.transitionCommits++;
    return super.transitionBatch(...args);
  }
  override audit(...args: Parameters<SqliteJournal['audit']>) {
    this.auditCommits++;
    return super.audit(...args);
  }
}

function wired(journal: SqliteJournal, events: ForwarderEvent[]) {
  const commits = new GroupCommit(journal);
  const forwarder = new Forwarder({
    journal,
    sender: side.client(),
    links: side.store,
    registry: {
      getDevice: (id) =>
        id === GLUCOMETER.id ? { ...GLUCOMETER, transport: 'ble', createdAt: 0 } : undefined,
    },
    clock,
    pollIntervalMs: 3600_000,
    commits,
  });
  forwarder.on('event', (e: ForwarderEvent) => events.push(e));
  const unsubscribe = commits.onAppended(() => forwarder.wake());
  return { commits, forwarder, unsubscribe };
}

function deliveredCount(events: readonly ForwarderEvent[], n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (events.filter((e) => e.type === 'delivered').length >= n) {
        clearInterval(check);
        resolve();
      }
    }, 10);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medgw-fwd-wake-'));
  side = await startNationalSide();
  await side.link('marie', 'marie.martin');
});
afterAll(async () => {
  await side?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('forwarder woken by commits', () => {
  it('delivers readings committed after start without waiting for the poll', async () => {
    const journal = new CountingJournal({ path: join(dir, 'wake.sqlite'), clock });
    const events: ForwarderEvent[] = [];
    const { commits, forwarder, unsubscribe } = wired(journal, events);
    await forwarder.start();
    try {
      const first = [newReading(), newReading()];
      await commits.append(first);
      await deliveredCount(events, 2);
      // a duplicate commit stores nothing new: no wake needed, nothing sent twice
      await commits.append([first[0] as NewReading]);
      const later = [newReading(), newReading(), newReading()];
      for (const r of later) await commits.append([r]);
      await deliveredCount(events, 5);
      for (const r of [...first, ...later]) {
        expect(journal.get(r.id)?.state).toBe('delivered');
        expect(side.sandbox.observations().filter((o) => o.identifier?.endsWith(`|${r.id}`))).toHaveLength(1);
      }
    } finally {
      unsubscribe();
      await forwarder.stop();
      journal.close();
    }
  });

  it('writes each outcome and its audit entry in one transaction, concurrent moves sharing commits', async () => {
    const journal = new CountingJournal({ path: join(dir, 'atomic.sqlite'), clock });
    const events: ForwarderEvent[] = [];
    const { forwarder, unsubscribe } = wired(journal, events);
    const readings = Array.from({ length: 12 }, () => newReading());
    journal.append(readings);
    try {
      await forwarder.tick();
      for (const r of readings) {
        expect(journal.get(r.id)).toMatchObject({ state: 'delivered', observation: null });
        const trail = journal.auditList({ readingId: r.id }).map((a) => a.event);
        // the delivery is one entry written with the state change, not a second transaction
        expect(trail.filter((e) => e.startsWith('mes.') || e === 'reading.delivered')).toEqual([
          'mes.delivered',
        ]);
      }
      expect(journal.auditCommits).toBe(0);
      // without sharing: 2 per reading (in flight, delivered) plus 1 per audit entry
      expect(journal.transitionCommits).toBeLessThan(2 * readings.length);
      expect(journal.auditVerify()).toBeUndefined();
    } finally {
      unsubscribe();
      await forwarder.stop();
      journal.close();
    }
  });

  it('a stop in the middle of a drain leaves nothing in flight: unsent claims go back to pending', async () => {
    const journal = new CountingJournal({ path: join(dir, 'stop.sqlite'), clock });
    const events: ForwarderEvent[] = [];
    const { commits, forwarder, unsubscribe } = wired(journal, events);
    await forwarder.start();
    const readings = Array.from({ length: 40 }, () => newReading());
    try {
      await commits.append(readings);
      await deliveredCount(events, 1);
    } finally {
      unsubscribe();
      await forwarder.stop();
    }
    try {
      const states = readings.map((r) => journal.get(r.id)?.state);
      expect(states).not.toContain('in-flight');
      for (const r of readings) {
        const arrived = side.sandbox.observations().filter((o) => o.identifier?.endsWith(`|${r.id}`));
        expect(arrived).toHaveLength(journal.get(r.id)?.state === 'delivered' ? 1 : 0);
      }
      // what was left is sent by the next start, once
      const again = wired(journal, events);
      await again.forwarder.tick();
      again.unsubscribe();
      for (const r of readings) expect(journal.get(r.id)?.state).toBe('delivered');
    } finally {
      journal.close();
    }
  });
});
