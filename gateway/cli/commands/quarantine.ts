/**
 * `medgw quarantine list|confirm|assign|discard`: readings the pipeline set aside (implausible value,
 * a status bit the device raised, a glucose without meal moment, unmapped or ambiguous household user…)
 * with their reason code. The operator's terminal shows kind, time and reason, never the values;
 * `confirm` releases one to pending (with the meal moment a meter did not give: `--moment`), `assign`
 * attributes one to a patient and releases it, `discard` purges it. All are audited, through the admin
 * API when the gateway runs.
 */
import { MedgwError } from '../../../kernel/errors.ts';
import type { OutboxRecord } from '../../contracts.ts';
import type { CommandIo } from '../command.ts';
import { eachReading, iso, json, parse, subcommands, table, withOps } from '../support.ts';

const USAGE = {
  list: 'list [--patient <id>] [--device <id>] [--limit <n>] [--json]',
  confirm:
    'confirm <reading-id>… [--moment preprandial|postprandial|fasting|exercise|other] [--patient <patient-id>]   (quarantined → pending)',
  assign:
    'assign <reading-id>… --patient <patient-id> [--moment …]   (quarantined → pending, attributed to that patient)',
  discard: 'discard <reading-id>…   (quarantined → dead-letter, values purged, never sent)',
};

/**
 * The time the reading was taken, as the operator recognises it: UTC when known, else device time; a
 * reading the device did not date says it was dated at reception (docs/clinical-mapping.md, Time).
 */
function takenAt(r: OutboxRecord): string | undefined {
  const t = r.observation?.time;
  if (!t) return undefined;
  if (t.quality === 'received') return t.utc ? `${t.utc} (received; not dated by the device)` : undefined;
  return t.utc ?? (t.device ? `${t.device} (device)` : undefined);
}

type Handler = (args: string[], io: CommandIo) => Promise<number>;

const list: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { values, positionals } = parse(
      rest,
      {
        patient: { type: 'string' },
        device: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
      USAGE.list,
    );
    if (positionals.length)
      throw new MedgwError('MEDGW_ERR_USAGE', `no argument expected\nusage: medgw quarantine ${USAGE.list}`);
    const readings = await ops.outbox({
      state: 'quarantined',
      ...(values.patient ? { patient: values.patient } : {}),
      ...(values.device ? { device: values.device } : {}),
      ...(values.limit ? { limit: values.limit } : {}),
    });
    if (values.json) {
      json(io, readings);
      return 0;
    }
    if (readings.length === 0) {
      io.stdout.write('no reading in quarantine\n');
      return 0;
    }
    io.stdout.write(quarantineTable(readings));
    io.stdout.write(
      'release one with: medgw quarantine assign <id> --patient <patient-id>; drop one with: medgw quarantine discard <id>\n',
    );
    return 0;
  });

/** Kind, device, patient, times and reason of each reading; never its values. */
function quarantineTable(readings: readonly OutboxRecord[]): string {
  return table(
    ['ID', 'KIND', 'DEVICE', 'PATIENT', 'TAKEN', 'QUARANTINED', 'REASON'],
    readings.map((r) => [
      r.id,
      r.kind,
      r.deviceId,
      r.patientId,
      takenAt(r),
      iso(r.createdAt),
      r.reason ? `${r.reason.code}: ${r.reason.message}` : undefined,
    ]),
  );
}

const confirm: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { values, positionals } = parse(
      rest,
      { patient: { type: 'string' }, moment: { type: 'string' } },
      USAGE.confirm,
    );
    if (positionals.length === 0)
      throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw quarantine ${USAGE.confirm}`);
    const statement = values.moment !== undefined ? { moment: values.moment } : {};
    const patient = values.patient;
    return eachReading(
      positionals,
      io,
      (id) => (patient ? ops.assignReading(id, patient, statement) : ops.retryReading(id, statement)),
      (r) => `${r.state}${r.patientId ? `, patient ${r.patientId}` : ''}`,
    );
  });

const assign: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { values, positionals } = parse(
      rest,
      { patient: { type: 'string' }, moment: { type: 'string' } },
      USAGE.assign,
    );
    if (positionals.length === 0 || !values.patient)
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `a reading id and --patient are required\nusage: medgw quarantine ${USAGE.assign}`,
      );
    const patient = values.patient;
    return eachReading(
      positionals,
      io,
      (id) => ops.assignReading(id, patient, values.moment !== undefined ? { moment: values.moment } : {}),
      (r) => `${r.state}, patient ${r.patientId ?? patient}`,
    );
  });

const discard: Handler = (a, io) =>
  withOps(a, async (ops, rest) => {
    const { positionals } = parse(rest, {}, USAGE.discard);
    if (positionals.length === 0)
      throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw quarantine ${USAGE.discard}`);
    return eachReading(
      positionals,
      io,
      async (id) => {
        // only what is in quarantine: a pending reading is purged with `medgw outbox purge`
        const r = (await ops.outbox({ state: 'quarantined', limit: 10_000 })).find((x) => x.id === id);
        if (!r)
          throw new MedgwError(
            'MEDGW_ERR_JOURNAL_STATE',
            `reading ${id} is not in quarantine; see it with medgw outbox list, purge it with medgw outbox purge`,
          );
        return ops.discardReading(id);
      },
      (r) => r.state,
    );
  });

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('quarantine', args, io, {
    list: { usage: USAGE.list, run: list },
    confirm: { usage: USAGE.confirm, run: confirm },
    assign: { usage: USAGE.assign, run: assign },
    discard: { usage: USAGE.discard, run: discard },
  });
}
