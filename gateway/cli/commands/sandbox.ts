/**
 * `medgw sandbox [--port 8090] [--host 127.0.0.1]`: runs the Mon espace santé sandbox until SIGINT or
 * SIGTERM and prints how to use it (docs/sandbox.md).
 */
import { parseArgs } from 'node:util';
import { MedgwError } from '../../../kernel/errors.ts';
import {
  CONTRACT_GENERATIONS,
  createSandbox,
  GATEWAY_CLIENT_ID,
  TEST_IDENTITIES,
} from '../../../simulators/sandbox/index.ts';
import type { CommandIo } from '../command.ts';

const USAGE = `usage: medgw sandbox [--port <port>] [--host <address>] [--generation mes-1.5.2|ans-3.2.0]

Runs the local Mon espace santé sandbox (OpenID provider, measurements API, patient page).
  --port   TCP port (default 8090; 0 picks a free one)
  --host   address to listen on (default 127.0.0.1)
  --generation  the glucose Bundle it takes: mes-1.5.2 (default, MES API Mesures 1.5.2: the feeding
           Bundle) or ans-3.2.0 (ans.fhir.fr.mesures 3.2.0: the biology Bundle), as the gateway's
           national.profileGeneration
See docs/sandbox.md.
`;

export async function run(args: string[], io: CommandIo): Promise<number> {
  let values: { port?: string; host?: string; generation?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        generation: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new MedgwError('MEDGW_ERR_USAGE', `${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? 8090 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `--port must be a TCP port number (0-65535), got "${values.port}"`,
    );
  }
  const generation = values.generation ?? 'mes-1.5.2';
  if (generation !== 'mes-1.5.2' && generation !== 'ans-3.2.0') {
    throw new MedgwError(
      'MEDGW_ERR_USAGE',
      `--generation must be mes-1.5.2 or ans-3.2.0, got "${generation}"`,
    );
  }
  // Ctrl+C or SIGTERM closes the sandbox and exits 0. The handlers are installed before the banner,
  // since whoever reads it may signal at once, and stay until the process ends: removing the last
  // SIGTERM listener gives the signal back its default action, and a delivery still in flight then
  // ended the process by SIGTERM instead of the orderly exit. A second signal exits at once (130).
  let stopping = false;
  let onSignal: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    onSignal();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const sandbox = await createSandbox({
    port,
    host: values.host ?? '127.0.0.1',
    profileGenerations: CONTRACT_GENERATIONS[generation],
  });
  io.stdout.write(
    [
      `medgw sandbox listening on ${sandbox.url}`,
      `  OpenID issuer     ${sandbox.issuer}  (discovery: ${sandbox.issuer}/.well-known/openid-configuration)`,
      `  measurements API  ${sandbox.url}/fhir  (ID token in header ${sandbox.idTokenHeader})`,
      `  patient page      ${sandbox.url}/patient`,
      `  device code page  ${sandbox.issuer}/device`,
      `  gateway client    ${GATEWAY_CLIENT_ID} (its test secret is in docs/sandbox.md)`,
      `  glucose Bundle    ${generation === 'ans-3.2.0' ? 'ans-3.2.0 (the biology Bundle)' : 'mes-1.5.2 (the feeding Bundle)'}`,
      `  test identities   ${TEST_IDENTITIES.map((i) => i.login).join(', ')} (password: sandbox)`,
      '',
    ].join('\n'),
  );
  await signalled;
  await sandbox.close();
  io.stdout.write('medgw sandbox stopped\n');
  return 0;
}
