/**
 * `medgw patient link|unlink|status|kinds`: the link of a local patient with Mon espace santé.
 * `link` runs the device authorization grant (RFC 8628): it prints the verification URL, the user code
 * and a QR code with how long the code stays valid, then waits with progress until the patient approves
 * on their phone or computer; Enter (a line on stdin) asks for a new code at once and abandons the one
 * shown (RFC 8628 has no way to withdraw a code at the provider: it is no longer polled, and expires).
 * Tokens go to the encrypted token store (the data directory's file, or the PostgreSQL table the
 * instances share with storage.kind postgres); none is ever printed.
 */
import { createInterface } from 'node:readline';
import QRCode from 'qrcode';
import { type DeviceLink, PairingClient } from '../../../cloud-bridge/pairing.ts';
import { CONSENT_KINDS, type ConsentKind } from '../../../cloud-bridge/profiles.ts';
import type { PatientLink } from '../../../cloud-bridge/token-store.ts';
import { MedgwError } from '../../../kernel/errors.ts';
import { connect } from '../../admin/connect.ts';
import { configFromArgs } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { nationalSettings } from '../../forwarder/component.ts';
import { openLinks } from '../../storage/links.ts';
import type { CommandIo } from '../command.ts';
import { iso, json, parse, subcommands, table } from '../support.ts';

const USAGE = {
  link: 'link <patient-id> [--kinds glucose,weight,…] [--no-qr] [--json]',
  unlink: 'unlink <patient-id>',
  status: 'status [<patient-id>] [--json]',
  kinds: 'kinds <patient-id> <all|kind,kind,…>',
};

function parseKinds(text: string | undefined): ConsentKind[] | undefined {
  if (text === undefined || text === 'all') return undefined;
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(CONSENT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `unknown kind ${unknown.join(', ') || '(none)'}; choose among ${CONSENT_KINDS.join(', ')} or all`,
    );
  }
  return kinds as ConsentKind[];
}

/**
 * The pairing client on this gateway's links (the data directory's file, or with storage.kind
 * postgres the table the instances share, refreshes serialized with theirs), and how to close them.
 */
async function pairingFor(config: Config): Promise<{ pairing: PairingClient; close(): Promise<void> }> {
  const settings = nationalSettings(config);
  const links = await openLinks(config);
  const pairing = new PairingClient(settings.pairing, links.store, links.lock ? { lock: links.lock } : {});
  return { pairing, close: () => links.close() };
}

/** The patient must exist in the registry (checked through the running gateway or directly). */
async function checkPatient(config: Config, patientId: string): Promise<void> {
  const ops = await connect(config);
  try {
    const patients = await ops.listPatients();
    if (!patients.some((p) => p.id === patientId)) {
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `no patient ${patientId}; add it first with \`medgw patients add --id ${patientId} --name …\``,
      );
    }
  } finally {
    await ops.close();
  }
}

function minutes(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

async function link(args: string[], io: CommandIo): Promise<number> {
  const { config, rest } = configFromArgs(args);
  const { values, positionals } = parse(
    rest,
    { kinds: { type: 'string' }, 'no-qr': { type: 'boolean' }, json: { type: 'boolean' } },
    USAGE.link,
  );
  const patientId = positionals[0];
  if (!patientId || positionals.length !== 1) {
    throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw patient ${USAGE.link}`);
  }
  const kinds = parseKinds(values.kinds);
  await checkPatient(config, patientId);
  const { pairing, close } = await pairingFor(config);
  const tty = (io.stdout as NodeJS.WriteStream).isTTY === true;
  // a line on stdin (Enter) asks for a new code at once; the one shown is abandoned (no more polling)
  const lines = createInterface({ input: io.stdin, terminal: false });
  let renew: (() => void) | undefined;
  lines.on('line', () => renew?.());
  const cancelled = new AbortController();
  const cancel = (): void => cancelled.abort();
  process.once('SIGINT', cancel);
  try {
    let flow = await pairing.startDeviceLink(patientId, kinds ? { kinds } : {});
    for (;;) {
      await showCode(io, patientId, flow, values['no-qr'] !== true);
      const renewal = new AbortController();
      renew = () => renewal.abort();
      let saved: PatientLink;
      try {
        saved = await flow.complete({
          signal: AbortSignal.any([cancelled.signal, renewal.signal]),
          onProgress: (p) => {
            if (p.lastAnswer === 'approved') return;
            const line = `waiting for the patient… code valid ${minutes(p.remainingMs)} more (check ${p.polls}${p.lastAnswer === 'slow_down' ? ', provider asked to slow down' : ''})`;
            io.stdout.write(tty ? `\r${line}` : `${line}\n`);
          },
        });
      } catch (e) {
        if (!renewal.signal.aborted || cancelled.signal.aborted) throw e;
        if (tty) io.stdout.write('\n');
        io.stdout.write(`the code ${flow.userCode} is abandoned; asking for a new one\n`);
        flow = await pairing.startDeviceLink(patientId, kinds ? { kinds } : {});
        continue;
      } finally {
        renew = undefined;
      }
      if (tty) io.stdout.write('\n');
      const summary = {
        patientId,
        status: saved.status,
        grantedKinds: saved.grantedKinds ?? [],
        tokenExpiresAt: iso(saved.expiresAt),
      };
      if (values.json) json(io, summary);
      else
        io.stdout.write(
          `linked patient ${patientId}; consented kinds: ${summary.grantedKinds.join(', ') || 'none'}\n`,
        );
      return 0;
    }
  } finally {
    process.off('SIGINT', cancel);
    lines.close();
    await close();
  }
}

/** The instructions for one user code: URL, code, how long it stays valid, how to get a new one, QR. */
async function showCode(io: CommandIo, patientId: string, flow: DeviceLink, qr: boolean): Promise<void> {
  const target = flow.verificationUriComplete ?? flow.verificationUri;
  const until = new Date(flow.expiresAt).toISOString().slice(11, 19);
  io.stdout.write(
    [
      `To link patient ${patientId} with Mon espace santé, the patient opens`,
      `  ${flow.verificationUri}`,
      `and enters the code  ${flow.userCode}`,
      `valid ${minutes(flow.expiresAt - Date.now())} (until ${until} UTC); press Enter for a new code at once (this one is then abandoned)`,
      flow.verificationUriComplete
        ? `(or opens ${flow.verificationUriComplete} directly, or scans:)`
        : '(or scans:)',
      '',
    ].join('\n'),
  );
  if (qr) io.stdout.write(`${await QRCode.toString(target, { type: 'terminal', small: true })}\n`);
}

async function unlink(args: string[], io: CommandIo): Promise<number> {
  const { config, rest } = configFromArgs(args);
  const { positionals } = parse(rest, {}, USAGE.unlink);
  const patientId = positionals[0];
  if (!patientId || positionals.length !== 1) {
    throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw patient ${USAGE.unlink}`);
  }
  const { pairing, close } = await pairingFor(config);
  const result = await pairing.unlink(patientId).finally(close);
  io.stdout.write(
    result.revoked
      ? `unlinked patient ${patientId}; the tokens are revoked at Mon espace santé\n`
      : `unlinked patient ${patientId} locally; revocation failed (${result.message ?? 'no answer'}): the tokens expire on their own\n`,
  );
  return result.revoked ? 0 : 1;
}

async function status(args: string[], io: CommandIo): Promise<number> {
  const { config, rest } = configFromArgs(args);
  const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, USAGE.status);
  const opened = await openLinks(config);
  const links = opened.store
    .list()
    .filter((l) => positionals.length === 0 || positionals.includes(l.patientId));
  await opened.close();
  const rows = links.map((l) => ({
    patientId: l.patientId,
    status: l.status,
    grantedKinds: [...(l.grantedKinds ?? [])],
    chosenKinds: l.kinds ? [...l.kinds] : 'all granted',
    linkedAt: iso(l.linkedAt),
    tokenExpiresAt: iso(l.expiresAt),
  }));
  if (values.json) json(io, rows);
  else if (rows.length === 0)
    io.stdout.write('no patient is linked; run `medgw patient link <patient-id>`\n');
  else
    io.stdout.write(
      table(
        ['PATIENT', 'STATUS', 'CONSENTED', 'SENT', 'LINKED', 'TOKEN EXPIRES'],
        rows.map((r) => [
          r.patientId,
          r.status,
          r.grantedKinds.join(','),
          Array.isArray(r.chosenKinds) ? r.chosenKinds.join(',') : r.chosenKinds,
          r.linkedAt,
          r.tokenExpiresAt,
        ]),
      ),
    );
  return 0;
}

async function kindsCommand(args: string[], io: CommandIo): Promise<number> {
  const { config, rest } = configFromArgs(args);
  const { positionals } = parse(rest, {}, USAGE.kinds);
  const [patientId, list] = positionals;
  if (!patientId || !list || positionals.length !== 2) {
    throw new MedgwError('MEDGW_ERR_USAGE', `usage: medgw patient ${USAGE.kinds}`);
  }
  const kinds = parseKinds(list);
  const links = await openLinks(config);
  await links.store.update(patientId, { kinds }).finally(() => links.close());
  io.stdout.write(`patient ${patientId} sends ${kinds ? kinds.join(', ') : 'every consented kind'}\n`);
  return 0;
}

export function run(args: string[], io: CommandIo): Promise<number> {
  return subcommands('patient', args, io, {
    link: { usage: USAGE.link, run: link },
    unlink: { usage: USAGE.unlink, run: unlink },
    status: { usage: USAGE.status, run: status },
    kinds: { usage: USAGE.kinds, run: kindsCommand },
  });
}
