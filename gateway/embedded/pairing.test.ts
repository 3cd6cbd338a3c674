import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DeviceLink } from '../../cloud-bridge/pairing.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { MedgwError } from '../../kernel/errors.ts';
import { createLogger } from '../log.ts';
import { pairingInstructions, printPairing } from './pairing.ts';

const log = createLogger({ level: 'silent' });
const SANDBOX = 'http://127.0.0.1:8090';

function flow(code: string, outcome: () => Promise<PatientLink>): DeviceLink {
  return {
    userCode: code,
    verificationUri: `${SANDBOX}/oidc/device`,
    verificationUriComplete: `${SANDBOX}/oidc/device?user_code=${code}`,
    expiresAt: Date.now() + 600_000,
    complete: () => outcome(),
  };
}

const linked = {
  patientId: 'demo',
  status: 'linked',
  grantedKinds: ['glucose', 'weight'],
} as unknown as PatientLink;

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => {
    text += b.toString('utf8');
  });
  return { out, text: () => text };
}

describe('demo pairing printout', () => {
  it('prints the URL, the code and the test identity, and where the readings appear', () => {
    const text = pairingInstructions(
      { patientId: 'demo', sandboxUrl: SANDBOX },
      flow('ABCD-EFGH', async () => linked),
    );
    expect(text).toContain(`  ${SANDBOX}/oidc/device\nand enter the code  ABCD-EFGH`);
    expect(text).toContain('marie.martin  (password: sandbox)');
    expect(text).toContain('medgw patient link demo');
    expect(text).toContain(`${SANDBOX}/_sandbox/observations`);
    expect(text).toContain('about\n10 min');
  });

  it('prints a new code after an expired or refused one, then says the patient is paired', async () => {
    const answers = [
      () => Promise.reject(new MedgwError('MEDGW_ERR_PAIRING_EXPIRED', 'expired')),
      () => Promise.reject(new MedgwError('MEDGW_ERR_PAIRING_DENIED')),
      () => Promise.resolve(linked),
    ];
    const codes = ['AAAA-AAAA', 'BBBB-BBBB', 'CCCC-CCCC'];
    const { out, text } = capture();
    let onLinked = 0;
    await printPairing(
      {
        patientId: 'demo',
        sandboxUrl: SANDBOX,
        startDeviceLink: async () => {
          const answer = answers.shift();
          const code = codes.shift();
          if (!answer || !code) throw new Error('asked for more codes than expected');
          return flow(code, answer);
        },
        onLinked: () => {
          onLinked++;
        },
        out,
        log,
      },
      new AbortController().signal,
    );
    expect(onLinked).toBe(1);
    expect(text().match(/enter the code {2}(\S+)/g)).toEqual([
      'enter the code  AAAA-AAAA',
      'enter the code  BBBB-BBBB',
      'enter the code  CCCC-CCCC',
    ]);
    expect(text()).toContain('The pairing code expired; here is a new one.');
    expect(text()).toContain('The pairing was refused in the sandbox; here is a new code.');
    expect(text()).toContain('"demo" is paired; consented kinds: glucose, weight.');
  });

  it('stops waiting when the gateway stops, and gives up (without throwing) when the flow cannot start', async () => {
    const ac = new AbortController();
    const { out, text } = capture();
    const waiting = printPairing(
      {
        patientId: 'demo',
        sandboxUrl: SANDBOX,
        startDeviceLink: async () =>
          flow(
            'WAIT-WAIT',
            () =>
              new Promise<PatientLink>((_, reject) =>
                ac.signal.addEventListener('abort', () =>
                  reject(new MedgwError('MEDGW_ERR_PAIRING_FAILED', 'pairing cancelled')),
                ),
              ),
          ),
        onLinked: () => {
          throw new Error('not linked');
        },
        out,
        log,
      },
      ac.signal,
    );
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(text()).not.toContain('is paired');

    let calls = 0;
    await expect(
      printPairing(
        {
          patientId: 'demo',
          sandboxUrl: SANDBOX,
          startDeviceLink: async () => {
            calls++;
            throw new MedgwError('MEDGW_ERR_PAIRING_FAILED', 'discovery failed');
          },
          onLinked: () => undefined,
          out,
          log,
        },
        new AbortController().signal,
      ),
    ).resolves.toBeUndefined();
    expect(calls).toBe(1);
  });
});
