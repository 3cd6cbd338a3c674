/**
 * The gateway's secrets: the data directory's sealing key (./key.ts) and what seals with it
 * (./sealer.ts). The stores that keep secrets at rest (the pairing links' file and PostgreSQL table,
 * the BLE store's UDS consent codes) receive a Sealer from here; none of them sees the key.
 */
import { loadSealingKey } from './key.ts';
import { AesGcmSealer, type Sealer } from './sealer.ts';

export { KEY_FILE, loadSealingKey } from './key.ts';
export { AesGcmSealer, processSealer, type Sealer } from './sealer.ts';

/** The sealer of a data directory: its key from MEDGW_TOKEN_KEY or `<dataDir>/token.key`. */
export function openSealer(dataDir: string, env: NodeJS.ProcessEnv = process.env): Sealer {
  return new AesGcmSealer(loadSealingKey(dataDir, env));
}
