/**
 * `medgw start`: runs the gateway on the configured (or default embedded) setup, prints where it
 * listens, and stops cleanly on SIGINT/SIGTERM (drain, flush, close, release the lock).
 */
import { MedgwError } from '../../../kernel/errors.ts';
import { type Gateway, startGateway } from '../../app.ts';
import { configFromArgs } from '../../config/load.ts';
import { dataPath } from '../../datadir.ts';
import { FATAL_EXIT_CODE, stopOnFatal, stopOnSignals } from '../../lifecycle.ts';
import { createLogger, type Logger } from '../../log.ts';
import type { CommandIo } from '../command.ts';

const USAGE = `usage: medgw start [--config <file>] [--data-dir <dir>] [--mqtt-port <n>] [--http-port <n>]
                   [--ble auto|sim|hci|dbus|off] [--sandbox-port <n>] [--log-level <level>]

Every setting can also come from the environment (MEDGW_*) or the configuration file;
see docs/configuration.md.
`;

export async function run(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(USAGE);
    return 0;
  }
  const { config, rest } = configFromArgs(args);
  if (rest.length > 0) throw new MedgwError('MEDGW_ERR_USAGE', `unknown argument ${rest[0]}\n${USAGE}`);
  const log = createLogger({ level: config.log.level });
  const gateway = await startGateway({ config, log });
  const lines = [
    `medgw is running (process ${process.pid})`,
    `  data directory  ${config.dataDir}`,
    ...gateway.endpoints().map((e) => `  ${e.name.padEnd(14)}  ${e.url}`),
    `  admin token     ${dataPath(config.dataDir, 'token')}`,
    'Press Ctrl+C to stop.',
  ];
  // The signal handlers first (runUntilStopped installs them at once), then the banner: whoever reads
  // "Press Ctrl+C to stop." may signal at once, and must get the orderly stop.
  const stopped = runUntilStopped(gateway, log, io);
  io.stdout.write(`${lines.join('\n')}\n`);
  return stopped;
}

/**
 * Runs a started gateway until SIGINT/SIGTERM (status 0) or a fatal error, an unhandled rejection or
 * an uncaught exception (logged as MEDGW_ERR_FATAL, orderly stop, status FATAL_EXIT_CODE).
 */
export function runUntilStopped(gateway: Gateway, log: Logger, io: CommandIo): Promise<number> {
  return new Promise<number>((resolve) => {
    let removeFatal = () => {};
    const remove = stopOnSignals(gateway.lifecycle, log, (signal) => {
      gateway.stop().then(
        () => {
          remove();
          removeFatal();
          io.stdout.write(`medgw stopped (${signal})\n`);
          resolve(0);
        },
        () => resolve(1),
      );
    });
    removeFatal = stopOnFatal(log, gateway.stop, () => {
      remove();
      io.stdout.write('medgw stopped after a fatal error (MEDGW_ERR_FATAL, see the log)\n');
      resolve(FATAL_EXIT_CODE);
    });
  });
}
