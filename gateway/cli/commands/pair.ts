/**
 * `medgw pair [<address>]`: pairs a Bluetooth device through the running gateway. Without an
 * address it lists the nearby unpaired devices and asks for one by number; with it, it runs without
 * a question (scripts). The same pairing as `medgw devices pair` (gateway/cli/pairing.ts).
 */
import type { CommandIo } from '../command.ts';
import { PAIR_USAGE, pairDevice } from '../pairing.ts';
import { withBle } from './devices.ts';

export function run(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(
      `usage: medgw pair [<address>] ${PAIR_USAGE}\n\n` +
        'Without an address: lists the Bluetooth health devices nearby and asks which one to pair.\n' +
        'Needs the running gateway (medgw start); accepts --data-dir <dir> and --config <file>.\n',
    );
    return Promise.resolve(0);
  }
  return withBle(args, (ble, rest) => pairDevice(ble, rest, io, 'pair', true));
}
