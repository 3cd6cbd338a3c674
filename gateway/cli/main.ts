/**
 * The `medgw` command. Each sub-command lives in its own module under `commands/` and is loaded on
 * demand, so `medgw decode` never pays for the broker or the HTTP server.
 * A refused input exits 2 with its MEDGW_ERR_* code on stderr; never a stack trace.
 */
import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { CommandModule } from './command.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  decode: {
    summary: 'decode a GATT value or an MQTT payload and print the reading it carries',
    load: () => import('./commands/decode.ts'),
  },
  start: {
    summary: 'run the gateway (broker, Bluetooth, pipeline, forwarder, admin API) until Ctrl+C',
    load: () => import('./commands/start.ts'),
  },
  devices: {
    summary:
      'list, show, add, forget devices and assign them to patients; discover and pair Bluetooth devices',
    load: () => import('./commands/devices.ts'),
  },
  patients: {
    summary: 'list, add and remove patients (running or not)',
    load: () => import('./commands/patients.ts'),
  },
  patient: {
    summary: 'link a patient with Mon espace santé (device code + QR), unlink, status, kinds sent',
    load: () => import('./commands/patient.ts'),
  },
  admin: {
    summary: 'reset the admin password of the local pages (gateway stopped)',
    load: () => import('./commands/admin.ts'),
  },
  audit: {
    summary: 'list the audit log (per patient) and verify its hash chain',
    load: () => import('./commands/audit.ts'),
  },
  outbox: {
    summary: 'outbox statistics, readings by state, retry or purge a reading (running or not)',
    load: () => import('./commands/outbox.ts'),
  },
  journal: {
    summary: 'the same as outbox (former name)',
    load: () => import('./commands/outbox.ts'),
  },
  quarantine: {
    summary: 'quarantined readings with their reason; assign one to a patient or discard it',
    load: () => import('./commands/quarantine.ts'),
  },
  pair: {
    summary: 'pair a Bluetooth device: choose among nearby ones, or give its address; shows sync progress',
    load: () => import('./commands/pair.ts'),
  },
  storage: {
    summary: "import one box's registry and pairing links into the PostgreSQL storage instances share",
    load: () => import('./commands/storage.ts'),
  },
  sandbox: {
    summary: 'run the local Mon espace santé sandbox (pairing, consent, measurements API)',
    load: () => import('./commands/sandbox.ts'),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `medgw — edge gateway for connected medical devices\n\nusage: medgw <command> [options]\n\n${lines.join('\n')}\n\nRun \`medgw <command> --help\` for the options of one command.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `unknown command "${name}"; known: ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  const mod = await command.load();
  return mod.run(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}

/** Writes a coded error the way every command reports one. */
export function reportError(e: unknown, stderr: NodeJS.WritableStream): number {
  if (isMedgwError(e)) {
    stderr.write(`${e.code}: ${e.message}\n  hint: ${e.hint}\n`);
    return 2;
  }
  const message = e instanceof Error ? e.message : String(e);
  stderr.write(`medgw: unexpected failure: ${message}\n`);
  if (process.env.MEDGW_DEBUG && e instanceof Error) stderr.write(`${e.stack}\n`);
  return 1;
}

const isEntry = process.argv[1] !== undefined && /medgw(\.mjs)?$|main\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportError(e, process.stderr);
    },
  );
}
