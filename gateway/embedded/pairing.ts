/**
 * The "how to pair the demo patient" printout of `npm start`: runs the device authorization grant
 * (RFC 8628) against the embedded sandbox, prints the verification URL, the user code and the test
 * identity to sign in with, waits for the approval in the background, prints a new code when one
 * expires or is refused, and says where the readings appear once the patient consented.
 * The text goes to the terminal, never to the log; no token is ever printed.
 */
import type { DeviceLink } from '../../cloud-bridge/pairing.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { isMedgwError } from '../../kernel/errors.ts';
import type { Logger } from '../log.ts';
import { DEMO_IDENTITY } from './demo.ts';

export interface PairingPrintoutOptions {
  readonly patientId: string;
  readonly sandboxUrl: string;
  readonly startDeviceLink: (patientId: string) => Promise<DeviceLink>;
  /** Called once the patient approved (the forwarder is kicked there). */
  readonly onLinked: (link: PatientLink) => void;
  readonly out: NodeJS.WritableStream;
  /** The demo component's logger: it already carries `component: 'demo'` (not repeated per line). */
  readonly log: Logger;
}

/** The instructions for one user code, as printed. */
export function pairingInstructions(o: { patientId: string; sandboxUrl: string }, flow: DeviceLink): string {
  const minutes = Math.max(1, Math.round((flow.expiresAt - Date.now()) / 60_000));
  return [
    '',
    `To pair the demo patient "${o.patientId}" with the embedded Mon espace santé sandbox, open`,
    `  ${flow.verificationUri}`,
    `and enter the code  ${flow.userCode}`,
    ...(flow.verificationUriComplete ? [`(or open ${flow.verificationUriComplete} directly)`] : []),
    `then sign in as the sandbox test identity  ${DEMO_IDENTITY.login}  (password: ${DEMO_IDENTITY.password})`,
    'and tick the kinds of readings to share. The code is valid for about',
    `${minutes} min; a new one is printed when it expires. Another terminal can pair instead with`,
    `  medgw patient link ${o.patientId}`,
    'Once consented, the readings of the simulated devices appear at',
    `  ${o.sandboxUrl}/patient  (sign in as ${DEMO_IDENTITY.login})`,
    `  ${o.sandboxUrl}/_sandbox/observations`,
    '',
  ].join('\n');
}

/** Runs until the patient is linked or `signal` aborts; never throws. */
export async function printPairing(o: PairingPrintoutOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    let flow: DeviceLink;
    try {
      flow = await o.startDeviceLink(o.patientId);
    } catch (e) {
      if (signal.aborted) return;
      o.log.error(
        { code: isMedgwError(e) ? e.code : 'MEDGW_ERR_PAIRING_FAILED', err: e },
        `the demo pairing could not start; pair by hand with \`medgw patient link ${o.patientId}\``,
      );
      return;
    }
    o.out.write(`${pairingInstructions(o, flow)}\n`);
    try {
      const link = await flow.complete({ signal });
      o.out.write(
        `\nThe demo patient "${o.patientId}" is paired; consented kinds: ${(link.grantedKinds ?? []).join(', ') || 'none'}.\n` +
          `Readings are on their way to ${o.sandboxUrl}/_sandbox/observations\n\n`,
      );
      o.log.info({}, 'demo patient paired with the embedded sandbox');
      o.onLinked(link);
      return;
    } catch (e) {
      if (signal.aborted) return;
      const code = isMedgwError(e) ? e.code : undefined;
      if (code === 'MEDGW_ERR_PAIRING_EXPIRED' || code === 'MEDGW_ERR_PAIRING_DENIED') {
        o.log.info({ code }, 'demo pairing code not used; printing a new one');
        o.out.write(
          code === 'MEDGW_ERR_PAIRING_DENIED'
            ? '\nThe pairing was refused in the sandbox; here is a new code.\n'
            : '\nThe pairing code expired; here is a new one.\n',
        );
        continue;
      }
      o.log.error(
        { code: code ?? 'MEDGW_ERR_PAIRING_FAILED', err: e },
        `the demo pairing failed; pair by hand with \`medgw patient link ${o.patientId}\``,
      );
      return;
    }
  }
}
