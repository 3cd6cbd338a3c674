/**
 * A person confirming a held reading states what the device did not: the meal moment of a glucose test
 * (JDV J157 has no "unknown"), and a HI / LO glucose without a limit value can only be discarded and is
 * shown as critical on the provider overview and the exchanges page. Readings go through the real
 * pipeline into a journal; the operations are the admin ones the CLI, the API and the pages all call.
 */
import { describe, expect, it } from 'vitest';
import { buildBundle } from '../../cloud-bridge/bundle.ts';
import { toFhirJson } from '../../cloud-bridge/fhir-json.ts';
import type { CoincidentTime, Measurement } from '../../drivers/types.ts';
import { LocalAdminOps } from '../admin/ops.ts';
import { MemoryJournal } from '../journal/memory.ts';
import { silentLogger } from '../log.ts';
import { Operations } from '../ops/operations.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { LowRegistry } from '../registry/registry.ts';
import type { WebDeps } from './deps.ts';
import type { PageContext } from './html.ts';
import { translator } from './i18n/index.ts';
import { exchangesPage, overviewPage, quarantinePage } from './pages.ts';

const NOW = Date.UTC(2026, 10, 20, 10, 0);
const COINCIDENT: CoincidentTime = {
  device: { year: 2026, month: 11, day: 20, hours: 11, minutes: 0, seconds: 0 },
  gatewayMs: NOW,
};
const glucose = (sequence: number, mgdl: number, extra: Partial<Measurement> = {}): Measurement => ({
  kind: 'glucose',
  source: '2A18',
  sequence,
  deviceTime: { year: 2026, month: 11, day: 20, hours: 8, minutes: sequence, seconds: 0 },
  components: [
    {
      name: 'glucose',
      value: { mantissa: mgdl, exponent: -5, value: mgdl / 100_000 },
      unit: 'kg/L',
    },
  ],
  final: true,
  ...extra,
});

async function gateway() {
  const clock = { now: () => NOW };
  const registry = await LowRegistry.memory();
  const journal = new MemoryJournal({ clock });
  const ops = new Operations(new LocalAdminOps(registry, journal, clock, () => undefined, 'Europe/Paris'), {
    registry,
    journal,
  });
  await ops.addPatient({ id: 'p1', displayName: 'Marie' });
  await ops.addDevice({ id: 'meter', transport: 'ble', patientId: 'p1' });
  const pipeline = new Pipeline({ journal, registry, clock, log: silentLogger(), timeZone: 'Europe/Paris' });
  await pipeline.start();
  const deps: WebDeps = { dataDir: '/nonexistent', registry, journal, ops, clock, log: silentLogger() };
  return { deps, journal, ops, pipeline };
}
const ctx = (lang: 'en' | 'fr'): PageContext => ({ lang, t: translator(lang), csrf: 'x', path: '/' });

describe('confirming a held reading', () => {
  it('a glucose without meal moment is held; confirming it needs a J157 moment, which it then carries', async () => {
    const { deps, journal, ops, pipeline } = await gateway();
    await pipeline.submit({
      deviceId: 'meter',
      transport: 'ble',
      coincident: COINCIDENT,
      measurements: [glucose(1, 104)],
    });
    const [held] = journal.list({ state: 'quarantined' });
    expect(held?.reason?.code).toBe('MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN');

    // The page offers the moment with the confirmation, in the page's language.
    const page = quarantinePage(ctx('fr'), deps);
    expect(page).toContain('name="moment"');
    expect(page).toContain('À jeun');

    for (const moment of [undefined, 'sometime', '__proto__']) {
      await expect(ops.assignReading(held!.id, 'p1', moment ? { moment } : {})).rejects.toMatchObject({
        code: moment === undefined ? 'MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN' : 'MEDGW_ERR_ADMIN_BAD_REQUEST',
      });
    }
    expect(journal.get(held!.id)?.state).toBe('quarantined');

    const done = await ops.assignReading(held!.id, 'p1', { moment: 'fasting' });
    expect(done.state).toBe('pending');
    expect(done.observation?.context?.meal).toBe('fasting');
    const audit = journal.auditList({ readingId: held!.id });
    expect(audit.find((e) => e.event === 'reading.assigned')?.detail).toMatchObject({ moment: 'fasting' });
    const bundle = toFhirJson(
      buildBundle(
        {
          id: done.id,
          observation: done.observation!,
          device: { id: 'meter' },
          patient: { idPe: 'x', oid: '2.25.1' },
        },
        { solutionOid: '2.25.2' },
      ),
    );
    expect(bundle).toContain('"code":"53049-3"');
  });

  it('a control solution or demonstration reading cannot be confirmed, so it is never sent; it can be discarded', async () => {
    const { journal, ops, pipeline } = await gateway();
    await pipeline.submit({
      deviceId: 'meter',
      transport: 'ble',
      coincident: COINCIDENT,
      measurements: [
        glucose(4, 101, { context: { meal: 'fasting', sampleType: 10 } }),
        glucose(5, 99, { context: { meal: 'fasting' }, flags: ['dataForDemonstration'] }),
      ],
    });
    const held = journal.list({ state: 'quarantined' });
    expect(held.map((r) => r.reason?.code).sort()).toEqual([
      'MEDGW_ERR_CONTROL_SOLUTION',
      'MEDGW_ERR_STATUS_SUPPRESSED',
    ]);
    for (const r of held) {
      // The value is there and a Bundle could be built: only the catalogue's policy stops it.
      await expect(ops.assignReading(r.id, 'p1', { moment: 'fasting' })).rejects.toMatchObject({
        code: 'MEDGW_ERR_QUARANTINE_DISCARD_ONLY',
      });
      expect(journal.get(r.id)?.state).toBe('quarantined');
    }
    expect(journal.list({ state: 'pending' })).toHaveLength(0);
  });

  it('a HI glucose without a limit value cannot be confirmed, and is critical on the overview and the exchanges page', async () => {
    const { deps, journal, ops, pipeline } = await gateway();
    await pipeline.submit({
      deviceId: 'meter',
      transport: 'ble',
      coincident: COINCIDENT,
      measurements: [
        glucose(2, 0, {
          components: [
            { name: 'glucose', value: { absent: 'positive-infinity', raw: 0x07fe }, unit: 'kg/L' },
          ],
          flags: ['resultHigherThanDeviceCanProcess'],
          context: { meal: 'fasting' },
        }),
        glucose(3, 98, { context: { meal: 'preprandial' } }),
      ],
    });
    const [critical] = journal.list({ state: 'quarantined' });
    expect(critical?.reason?.code).toBe('MEDGW_ERR_GLUCOSE_BEYOND_RANGE');
    expect(journal.list({ state: 'pending' })).toHaveLength(1);

    await expect(ops.assignReading(critical!.id, 'p1', {})).rejects.toMatchObject({
      code: 'MEDGW_ERR_QUARANTINE_DISCARD_ONLY',
    });
    for (const [lang, title] of [
      ['en', 'Critical readings kept here: 1'],
      ['fr', 'Lectures critiques gardées ici : 1'],
    ] as const) {
      for (const html of [overviewPage(ctx(lang), deps), exchangesPage(ctx(lang), deps)]) {
        expect(html).toContain(title);
        expect(html).toContain(`data-critical="${critical!.id}"`);
      }
    }
    // No confirm form for it: only discard.
    const q = quarantinePage(ctx('en'), deps);
    expect(q).toContain('Critical');
    expect(q).not.toContain('action="/quarantine/confirm"');

    await ops.discardReading(critical!.id);
    expect(overviewPage(ctx('en'), deps)).not.toContain('Critical readings kept here');
  });
});
