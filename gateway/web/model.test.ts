import { describe, expect, it } from 'vitest';
import { LocalAdminOps } from '../admin/ops.ts';
import { MemoryJournal } from '../journal/memory.ts';
import { silentLogger } from '../log.ts';
import { Operations } from '../ops/operations.ts';
import { LowRegistry } from '../registry/registry.ts';
import type { WebDeps } from './deps.ts';
import { ledger, patientOverview } from './model.ts';

const DAY = 24 * 3600_000;

function obs(kind: 'body-weight' | 'blood-pressure') {
  return {
    kind,
    loinc: kind === 'body-weight' ? '29463-7' : '85354-9',
    mdc: kind === 'body-weight' ? '188736' : '150020',
    ...(kind === 'body-weight' ? { value: 70, unit: 'kg' } : {}),
    time: { quality: 'synced' as const },
  };
}

async function setup() {
  let now = Date.UTC(2026, 10, 1);
  const clock = { now: () => now };
  const registry = await LowRegistry.memory();
  const journal = new MemoryJournal({ clock });
  const ops = new Operations(new LocalAdminOps(registry, journal, clock), { registry, journal });
  await ops.addPatient({ id: 'p1', displayName: 'Marie' });
  await ops.addPatient({ id: 'p2', displayName: 'Jean' });
  await ops.addDevice({ id: 'cuff', transport: 'ble', patientId: 'p1' });
  await ops.addDevice({ id: 'scale', transport: 'mqtt', patientId: 'p1' });
  await ops.addDevice({ id: 'shared', transport: 'mqtt' });
  await ops.assignDevice('shared', { users: { '1': 'p2' } });
  const deps: WebDeps = { dataDir: '/nonexistent', registry, journal, ops, clock, log: silentLogger() };
  return { deps, journal, advance: (ms: number) => (now += ms) };
}

describe('provider overview', () => {
  it('reports a kind without a reading for longer than the threshold, and a patient with devices but no reading', async () => {
    const { deps, journal, advance } = await setup();
    journal.append([
      { id: 'bp-1', deviceId: 'cuff', patientId: 'p1', observation: obs('blood-pressure'), state: 'pending' },
    ]);
    advance(DAY);
    journal.append([
      { id: 'w-1', deviceId: 'scale', patientId: 'p1', observation: obs('body-weight'), state: 'pending' },
    ]);
    advance(2 * DAY + 3600_000);
    let p1 = patientOverview(deps).find((p) => p.id === 'p1')!;
    expect(p1.gaps).toEqual([{ kind: 'blood-pressure', days: 3 }]);
    expect(p1.devices).toEqual(['cuff', 'scale']);
    expect(p1.last.map((l) => l.kind)).toEqual(['blood-pressure', 'body-weight']);
    expect(patientOverview(deps).find((p) => p.id === 'p2')!.gaps).toEqual([{ kind: null }]);
    journal.append([
      { id: 'bp-2', deviceId: 'cuff', patientId: 'p1', observation: obs('blood-pressure'), state: 'pending' },
    ]);
    p1 = patientOverview(deps).find((p) => p.id === 'p1')!;
    expect(p1.gaps).toEqual([]);
  });

  it('counts per device what was received, delivered, waiting and refused, with the RACP cursor and the reported count', async () => {
    const { deps, journal } = await setup();
    journal.append(
      [1, 2, 3, 4].map((n) => ({
        id: `g-${n}`,
        deviceId: 'cuff',
        patientId: 'p1',
        observation: obs('blood-pressure'),
        state: 'pending' as const,
      })),
      { deviceId: 'cuff', value: 4 },
    );
    journal.transition('g-1', 'pending', 'in-flight');
    journal.transition('g-1', 'in-flight', 'delivered', { remoteId: 'x' });
    journal.transition('g-2', 'pending', 'dead-letter', {
      reason: { code: 'MEDGW_ERR_MES_REJECTED', message: 'no' },
    });
    const withBle: WebDeps = {
      ...deps,
      ble: {
        adapterState: () => 'poweredOn',
        nearby: () => [],
        pair: async () => undefined,
        pairings: () => [],
        health: (id) => (id === 'cuff' ? { reportedRecords: 6 } : undefined),
        on: () => undefined,
        off: () => undefined,
      },
    };
    const row = ledger(withBle).find((l) => l.deviceId === 'cuff')!;
    expect(row).toMatchObject({
      reported: 6,
      cursor: 4,
      received: 4,
      delivered: 1,
      waiting: 2,
      refused: 1,
      missing: 2,
    });
    expect(ledger(deps).find((l) => l.deviceId === 'scale')).toMatchObject({ received: 0 });
    expect(ledger(deps).find((l) => l.deviceId === 'scale')?.reported).toBeUndefined();

    // A CGM: its sensor values are kept local, then deleted once summarized; nothing is "missing".
    const glucose = {
      kind: 'glucose' as const,
      loinc: '2345-7',
      mdc: '160212',
      value: 110,
      unit: 'mg/dL',
      time: { quality: 'synced' as const },
    };
    const local = { code: 'MEDGW_ERR_CGM_POINT_LOCAL', message: 'kept' };
    journal.append(
      [1, 2, 3].map((n) => ({
        id: `c-${n}`,
        deviceId: 'cuff',
        observation: glucose,
        state: 'local' as const,
        reason: local,
      })),
    );
    const cgmRow = ledger(withBle).find((l) => l.deviceId === 'cuff')!;
    expect(cgmRow).toMatchObject({ reported: 6, received: 7, waiting: 2 });
    expect(cgmRow.missing).toBeUndefined();
  });
});
