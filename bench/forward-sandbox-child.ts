/**
 * The national side of the delivery benchmark in its own process, as the real one is remote: the
 * sandbox on a free loopback port. bench/forward.ts starts it with an IPC channel, gets its URL, and
 * sends `close` at the end.
 */
import { createSandbox } from '../simulators/sandbox/index.ts';

export interface SandboxReady {
  readonly url: string;
  readonly issuer: string;
  readonly idTokenHeader: string;
}

const sandbox = await createSandbox({ port: 0, host: '127.0.0.1' });
const ready: SandboxReady = {
  url: sandbox.url,
  issuer: sandbox.issuer,
  idTokenHeader: sandbox.idTokenHeader,
};
process.send?.(ready);
await new Promise((resolve) => process.once('message', resolve));
await sandbox.close();
process.disconnect?.();
