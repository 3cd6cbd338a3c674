/**
 * `medgw start`: runs the gateway on the configured (or default embedded) setup, prints where it
 * listens, and stops cleanly on SIGINT/SIGTERM (drain, flush, close, release the lock).
 */
import { MedgwError } from '../../../drivers/errors.ts';
import { startGateway } from '../../app.ts';
import { configFromArgs } from '../../config/load.ts';
import { dataPath } from '../../datadir.ts';
import { stopOnSignals } from '../../lifecycle.ts';
import { createLogger } from '../../log.ts';
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
  io.stdout.write(`${lines.join('\n')}\n`);
  return new Promise<number>((resolve) => {
    const remove = stopOnSignals(gateway.lifecycle, log, (signal) => {
      gateway.stop().then(
        () => {
          remove();
          io.stdout.write(`medgw stopped (${signal})\n`);
          resolve(0);
        },
        () => resolve(1),
      );
    });
  });
}
