/**
 * A definition's hooks run where the session promises, with the link view (drivers/definitions/link.ts):
 * `afterConnect` before discovery, a `run` step and `beforeCollect` after the subscriptions, and
 * `filterRecord` on each final record after the profiles' own filters — a dropped record is counted and
 * never reaches the journal. Real noble over the virtual radio, the real pipeline and SQLite journal.
 */
import { describe, expect, it } from 'vitest';
import { genericBloodPressure } from '../../drivers/definitions/generic.ts';
import type { DriverDefinition } from '../../drivers/definitions/index.ts';
import * as step from '../../drivers/definitions/steps.ts';
import { CUFF, syncCuff } from './session-harness.ts';

describe('definition hooks', () => {
  it('run in order with the link, and a filtered record is dropped with its code', async () => {
    const calls: string[] = [];
    const steps = genericBloodPressure.steps.flatMap((s) =>
      s.kind === 'subscribe'
        ? [
            s,
            step.run('model step', async (link) => {
              calls.push(`run: 2A35 ${link.has('1810', '2A35')}`);
            }),
          ]
        : [s],
    );
    const definition: DriverDefinition = {
      ...genericBloodPressure,
      steps,
      hooks: {
        afterConnect: async (link) => {
          calls.push(`afterConnect: 2A35 ${link.has('1810', '2A35')}`);
        },
        beforeCollect: async (link) => {
          calls.push(`beforeCollect: feature ${(await link.read('1810', '2A49'))?.length ?? 0} octets`);
        },
        // Drops readings with a pulse above 100 /min (a model rule, for the test).
        filterRecord: (m) =>
          m.components.some((c) => c.name === 'pulse' && 'value' in c.value && c.value.value > 100)
            ? { code: 'MEDGW_ERR_BLE_ATT', message: 'pulse above 100: left out by the model rule' }
            : undefined,
      },
    };
    const r = await syncCuff(definition, {}, { systolic: 150, diastolic: 95, pulse: 120 });
    expect(r.outcome).toBe('synced');
    expect(calls).toEqual(['afterConnect: 2A35 false', 'run: 2A35 true', 'beforeCollect: feature 2 octets']);
    expect(r.session.counters).toMatchObject({ dropped: 1, committed: 0 });
    expect(r.journal.list({ deviceId: CUFF })).toHaveLength(0);
    expect(r.states).toEqual(['connecting', 'bonding', 'discovering', 'subscribing', 'syncing']);
  });

  it('without the filter the same reading is committed', async () => {
    const r = await syncCuff(genericBloodPressure, {}, { systolic: 150, diastolic: 95, pulse: 120 });
    expect(r.outcome).toBe('synced');
    expect(r.session.counters).toMatchObject({ dropped: 0, committed: 1 });
    expect(r.journal.list({ deviceId: CUFF }).map((x) => x.kind)).toEqual(['blood-pressure', 'heart-rate']);
  });
});
