/** `medgw decode`: placeholder until the codec registry lands; refuses with a coded usage error. */
import { MedgwError } from '../../../drivers/errors.ts';
import type { CommandIo } from '../command.ts';

export async function run(_args: string[], _io: CommandIo): Promise<number> {
  throw new MedgwError('MEDGW_ERR_UNKNOWN_CHARACTERISTIC', 'no codec is registered yet');
}
