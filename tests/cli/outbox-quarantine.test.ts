/**
 * `medgw outbox …` (and its former name `journal`), `medgw quarantine list|assign|discard` and
 * `medgw devices show` as a person runs them: real `medgw` processes, first on a stopped instance
 * (directly on the data directory, under its lock), then while a gateway runs on it (admin API).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import type { Journal } from '../../gateway/contracts.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { silentLogger } from '../../gateway/log.ts';
import { reading } from '../journal/conformance.ts';
import { medgw, ok } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'medgw-cli-oq-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WEIGHT = '72.4'; // the value of every seeded reading (tests/journal/conformance.ts)

/** Three quarantined readings of a household scale and one pending one, for `tag`. */
function seed(j: Journal, tag: string): void {
  const reason = { code: 'MEDGW_ERR_HOUSEHOLD_USER', message: 'household user 1 is mapped to no patient' };
  j.append([
    reading(`q1-${tag}`, { deviceId: `scale-${tag}`, patientId: undefined, state: 'quarantined', reason }),
    reading(`q2-${tag}`, { deviceId: `scale-${tag}`, patientId: undefined, state: 'quarantined', reason }),
    reading(`q3-${tag}`, { deviceId: `scale-${tag}`, patientId: undefined, state: 'quarantined', reason }),
    reading(`p1-${tag}`, { deviceId: `scale-${tag}`, patientId: `alice-${tag}` }),
    // a cuff reading without a device time: dated at reception (docs/clinical-mapping.md, Time)
    reading(`q4-${tag}`, {
      deviceId: `cuff-${tag}`,
      patientId: undefined,
      state: 'quarantined',
      reason,
      observation: { ...reading('x').observation, time: { ...UNDATED, quality: 'received' } },
    }),
    // a glucose whose meter gave no meal moment (docs/clinical-mapping.md, Glucose)
    reading(`q5-${tag}`, {
      deviceId: `meter-${tag}`,
      patientId: `alice-${tag}`,
      state: 'quarantined',
      reason: { code: 'MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN', message: 'the meter did not say' },
      observation: {
        kind: 'glucose',
        loinc: '2345-7',
        mdc: '160184',
        value: 104,
        decimals: 0,
        unit: 'mg/dL',
        time: { device: '2026-11-20T08:00:00', utc: '2026-11-20T07:00:00.000Z', quality: 'corrected' },
      },
    }),
  ]);
}

const UNDATED = { utc: '2026-11-20T10:00:05.000Z', received: '2026-11-20T10:00:05.000Z' };

/** The same operator session against the instance, running or not. */
async function session(dir: string, tag: string): Promise<void> {
  const d = ['--data-dir', dir];
  await ok(['patients', 'add', '--id', `alice-${tag}`, '--name', 'Alice', ...d]);
  await ok([
    'devices',
    'add',
    '--transport',
    'ble',
    '--id',
    `scale-${tag}`,
    '--name',
    'Bathroom scale',
    ...d,
  ]);
  await ok(['devices', 'assign', `scale-${tag}`, '--user', `0=alice-${tag}`, ...d]);

  // quarantine list: kind, time and reason code; never the measured value
  const listed = await ok(['quarantine', 'list', '--device', `scale-${tag}`, ...d]);
  expect(listed).toMatch(/ID\s+KIND\s+DEVICE\s+PATIENT\s+TAKEN\s+QUARANTINED\s+REASON/);
  for (const q of ['q1', 'q2', 'q3']) expect(listed).toMatch(new RegExp(`${q}-${tag}\\s+body-weight`));
  expect(listed).toContain('MEDGW_ERR_HOUSEHOLD_USER');
  expect(listed).not.toContain(WEIGHT);
  expect(listed).not.toContain(`p1-${tag}`);
  // a reading the device did not date is never listed as if its reception were when it was taken
  const undated = await ok(['quarantine', 'list', '--device', `cuff-${tag}`, ...d]);
  expect(undated).toContain(`${UNDATED.utc} (received; not dated by the device)`);
  const asJson = JSON.parse(await ok(['quarantine', 'list', '--device', `scale-${tag}`, '--json', ...d])) as {
    id: string;
    state: string;
  }[];
  expect(asJson.map((r) => r.id).sort()).toEqual([`q1-${tag}`, `q2-${tag}`, `q3-${tag}`]);
  expect(asJson.every((r) => r.state === 'quarantined')).toBe(true);

  // assign: attributed and released to pending, audited
  expect(await ok(['quarantine', 'assign', `q1-${tag}`, '--patient', `alice-${tag}`, ...d])).toBe(
    `q1-${tag}: pending, patient alice-${tag}\n`,
  );
  const pending = JSON.parse(
    await ok(['outbox', 'list', '--state', 'pending', '--patient', `alice-${tag}`, '--json', ...d]),
  ) as { id: string }[];
  expect(pending.map((r) => r.id).sort()).toEqual([`p1-${tag}`, `q1-${tag}`]);
  const audit = JSON.parse(await ok(['audit', 'list', '--reading', `q1-${tag}`, '--json', ...d])) as {
    event: string;
    patientId?: string;
    detail?: Record<string, unknown>;
  }[];
  const assigned = audit.find((e) => e.event === 'reading.assigned');
  expect(assigned).toMatchObject({
    patientId: `alice-${tag}`,
    detail: { from: 'quarantined', by: 'operator', reason: 'MEDGW_ERR_HOUSEHOLD_USER' },
  });
  expect(JSON.stringify(audit)).not.toContain(WEIGHT);

  // confirm: a glucose without meal moment needs one (J157 has no "unknown"); then it is released with it
  const noMoment = await medgw(['quarantine', 'confirm', `q5-${tag}`, ...d]);
  expect(noMoment.code).toBe(2);
  expect(noMoment.stderr).toContain('MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN');
  expect(await ok(['quarantine', 'confirm', `q5-${tag}`, '--moment', 'fasting', ...d])).toBe(
    `q5-${tag}: pending, patient alice-${tag}\n`,
  );
  const confirmed = JSON.parse(await ok(['audit', 'list', '--reading', `q5-${tag}`, '--json', ...d])) as {
    event: string;
    detail?: Record<string, unknown>;
  }[];
  expect(confirmed.find((e) => e.event === 'reading.retried')?.detail).toMatchObject({ moment: 'fasting' });

  // refusals, each with its code: unknown patient, already released, unknown reading, usage
  const ghost = await medgw(['quarantine', 'assign', `q2-${tag}`, '--patient', 'nobody', ...d]);
  expect(ghost.code).toBe(2);
  expect(ghost.stderr).toContain(`q2-${tag}: MEDGW_ERR_REGISTRY_UNKNOWN`);
  const twice = await medgw(['quarantine', 'assign', `q1-${tag}`, '--patient', `alice-${tag}`, ...d]);
  expect(twice.code).toBe(2);
  expect(twice.stderr).toContain(`q1-${tag}: MEDGW_ERR_JOURNAL_STATE`);
  const noPatient = await medgw(['quarantine', 'assign', `q2-${tag}`, ...d]);
  expect(noPatient.code).toBe(2);
  expect(noPatient.stderr).toContain('MEDGW_ERR_USAGE');

  // discard: only what is in quarantine; values purged
  expect(await ok(['quarantine', 'discard', `q2-${tag}`, ...d])).toBe(`q2-${tag}: dead-letter\n`);
  const notQuarantined = await medgw(['quarantine', 'discard', `p1-${tag}`, ...d]);
  expect(notQuarantined.code).toBe(2);
  expect(notQuarantined.stderr).toContain(`p1-${tag}: MEDGW_ERR_JOURNAL_STATE`);
  const left = JSON.parse(await ok(['quarantine', 'list', '--device', `scale-${tag}`, '--json', ...d])) as {
    id: string;
  }[];
  expect(left.map((r) => r.id)).toEqual([`q3-${tag}`]);

  // outbox purge (and `journal discard`, the same module): values gone, never sent
  expect(await ok(['outbox', 'purge', `q3-${tag}`, ...d])).toBe(`q3-${tag}: dead-letter\n`);
  expect(await ok(['journal', 'discard', `p1-${tag}`, ...d])).toBe(`p1-${tag}: dead-letter\n`);
  const dead = JSON.parse(
    await ok(['outbox', 'list', '--state', 'dead-letter', '--device', `scale-${tag}`, '--json', ...d]),
  ) as { id: string; observation: unknown; reason?: { code: string } }[];
  expect(dead.map((r) => r.id).sort()).toEqual([`p1-${tag}`, `q2-${tag}`, `q3-${tag}`]);
  expect(dead.every((r) => r.observation === null && r.reason?.code === 'MEDGW_ERR_OPERATOR_DISCARDED')).toBe(
    true,
  );
  const stats = await ok(['outbox', 'stats', ...d]);
  expect(stats).toMatch(/STATE\s+READINGS/);
  expect(stats).toContain('oldest unsent reading');
  expect(JSON.parse(await ok(['journal', 'stats', '--json', ...d])).byState).toEqual(
    JSON.parse(await ok(['outbox', 'stats', '--json', ...d])).byState,
  );

  // devices show: the device as text, with its outbox counts; --json for scripts
  const shown = await ok(['devices', 'show', `scale-${tag}`, ...d]);
  expect(shown).toMatch(new RegExp(`id:\\s+scale-${tag}\\n`));
  expect(shown).toMatch(/name:\s+Bathroom scale/);
  expect(shown).toMatch(new RegExp(`household users:\\s+0→alice-${tag}`));
  expect(shown).toMatch(/readings in the outbox:\s+.*pending 1.*dead-letter 3|dead-letter 3.*pending 1/);
  expect(JSON.parse(await ok(['devices', 'show', `scale-${tag}`, '--json', ...d]))).toMatchObject({
    id: `scale-${tag}`,
    transport: 'ble',
    users: { '0': `alice-${tag}` },
  });
  const missing = await medgw(['devices', 'show', 'no-such-device', ...d]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('MEDGW_ERR_REGISTRY_UNKNOWN');
}

describe('medgw outbox | quarantine | devices show', () => {
  const dir = join(root, 'instance');

  it('work directly on the data directory when no gateway runs', async () => {
    // the journal as a gateway left it
    mkdirSync(dir, { recursive: true });
    const j = new SqliteJournal({ path: join(dir, 'journal.db') });
    seed(j, 'direct');
    j.close();
    await session(dir, 'direct');
    expect(existsSync(join(dir, 'medgw.lock'))).toBe(false);
  }, 180_000);

  it('work through the admin API while the gateway runs', async () => {
    const config = loadConfig({ overrides: { dataDir: dir, 'http.port': 0, 'ble.mode': 'off' } });
    const gw = await startGateway({ config, log: silentLogger(), components: [] });
    try {
      seed(gw.ctx.journal, 'api');
      await session(dir, 'api');
      // what the commands did is what the gateway's own journal holds
      expect(gw.ctx.journal.get('q1-api')).toMatchObject({ state: 'pending', patientId: 'alice-api' });
      expect(gw.ctx.journal.get('q2-api')).toMatchObject({ state: 'dead-letter', observation: null });
    } finally {
      await gw.stop();
    }
  }, 180_000);

  it('lists the new commands in medgw help and refuses unknown sub-commands with a code', async () => {
    const help = await ok(['help']);
    for (const c of ['outbox', 'quarantine', 'pair', 'devices', 'audit', 'start'])
      expect(help).toMatch(new RegExp(`\\n  ${c}\\s+\\S`));
    expect(await ok(['outbox', '--help'])).toContain('medgw outbox purge <reading-id>');
    expect(await ok(['quarantine', '--help'])).toContain('medgw quarantine assign <reading-id>');
    const bad = await medgw(['quarantine', 'release', 'x', '--data-dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('MEDGW_ERR_USAGE');
  });
});
