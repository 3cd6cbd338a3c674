/**
 * `medgw patient link|status|kinds|unlink` in process against the real sandbox: the printed code is
 * approved by a scripted patient, the link lands in the encrypted store, unlink revokes at the provider.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PairingClient } from '../../cloud-bridge/pairing.ts';
import { run as patient } from '../../gateway/cli/commands/patient.ts';
import { run as patients } from '../../gateway/cli/commands/patients.ts';
import { TokenStore } from '../../gateway/storage/tokens-file.ts';
import { createSandbox, type Sandbox } from '../../simulators/sandbox/index.ts';
import { approveUserCode, PatientBrowser } from './helpers.ts';

let sandbox: Sandbox;
let dir: string;
let configFile: string;

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  return { io: { stdin: new PassThrough(), stdout, stderr }, text: () => out };
}

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'medgw-patient-cli-'));
  configFile = join(dir, 'medgw.json');
  writeFileSync(
    configFile,
    JSON.stringify({ dataDir: join(dir, 'data'), national: { baseUrl: sandbox.url } }),
  );
  const p = io();
  expect(await patients(['add', '--id', 'marie', '--name', 'Marie', '--config', configFile], p.io)).toBe(0);
});
afterAll(async () => {
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('medgw patient', () => {
  it('link prints the URL, the code and a QR code, waits for approval, and stores the link', async () => {
    const out = io();
    const running = patient(['link', 'marie', '--kinds', 'glucose,weight', '--config', configFile], out.io);
    let code: string | undefined;
    for (let i = 0; i < 100 && !code; i++) {
      code = /enters the code\s+(\S+)/.exec(out.text())?.[1];
      if (!code) await new Promise((r) => setTimeout(r, 50));
    }
    expect(code).toBeTruthy();
    expect(out.text()).toContain(`${sandbox.issuer}/device`);
    expect(out.text()).toMatch(/[▀▄█]/);
    await approveUserCode(sandbox, `${sandbox.issuer}/device`, code ?? '', { login: 'marie.martin' });
    expect(await running).toBe(0);
    expect(out.text()).toMatch(/linked patient marie; consented kinds: weight, glucose/);
    expect(out.text()).not.toMatch(/PE-SBX-0001|eyJ/);

    const st = io();
    expect(await patient(['status', '--json', '--config', configFile], st.io)).toBe(0);
    const rows = JSON.parse(st.text()) as { patientId: string; status: string; grantedKinds: string[] }[];
    expect(rows).toEqual([
      expect.objectContaining({ patientId: 'marie', status: 'linked', grantedKinds: ['weight', 'glucose'] }),
    ]);

    const k = io();
    expect(await patient(['kinds', 'marie', 'glucose', '--config', configFile], k.io)).toBe(0);
    expect(new TokenStore(join(dir, 'data')).get('marie')?.kinds).toEqual(['glucose']);
  });

  it('link shows how long the code stays valid, gives a new code at once on Enter, and the used code is refused with where to get another', async () => {
    const out = io();
    const running = patient(['link', 'marie', '--no-qr', '--config', configFile], out.io);
    const codeAfter = async (from: number): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const code = /enters the code\s+(\S+)/.exec(out.text().slice(from))?.[1];
        if (code) return code;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no code printed; output:\n${out.text()}`);
    };
    const first = await codeAfter(0);
    // the sandbox grants a device code for 600 s (simulators/sandbox/index.ts ttl.deviceCode)
    const validity = /valid (\d+):(\d{2}) \(until (\d{2}:\d{2}:\d{2}) UTC\)/.exec(out.text());
    expect(validity).not.toBeNull();
    const seconds = Number(validity?.[1]) * 60 + Number(validity?.[2]);
    expect(seconds).toBeGreaterThan(590);
    expect(seconds).toBeLessThanOrEqual(600);
    const until = Date.parse(`${new Date().toISOString().slice(0, 10)}T${validity?.[3]}Z`);
    const day = 86_400_000;
    const gap = (((until - (Date.now() + 600_000)) % day) + day) % day;
    expect(Math.min(gap, day - gap)).toBeLessThan(15_000);

    // Enter: a new code at once, the first one abandoned
    const mark = out.text().length;
    out.io.stdin.write('\n');
    const second = await codeAfter(mark);
    expect(second).not.toBe(first);
    expect(out.text().slice(mark)).toContain(`the code ${first} is abandoned`);
    await approveUserCode(sandbox, `${sandbox.issuer}/device`, second, { login: 'marie.martin' });
    expect(await running).toBe(0);
    expect(out.text()).toMatch(/linked patient marie/);

    // the used code again: the sandbox's page says it served already and where a new one comes from
    const b = new PatientBrowser();
    const entry = await (await b.go(`${sandbox.issuer}/device`)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(entry)?.[1] ?? '';
    const refused = await (
      await b.go(`${sandbox.issuer}/device`, {
        method: 'POST',
        form: new URLSearchParams({ xsrf, user_code: second }),
      })
    ).text();
    expect(refused).toMatch(/Ce code a (déjà servi|expiré)/);
    expect(refused).toContain('medgw patient link');
    expect(refused).toContain('Entrée');
  });

  it('unlink revokes the tokens at the provider', async () => {
    const store = new TokenStore(join(dir, 'data'));
    const before = store.get('marie');
    const out = io();
    expect(await patient(['unlink', 'marie', '--config', configFile], out.io)).toBe(0);
    expect(out.text()).toContain('revoked');
    expect(store.get('marie')).toBeUndefined();
    const config = await new PairingClient({ issuer: sandbox.issuer }, store).configuration();
    expect((await oidc.tokenIntrospection(config, before?.refreshToken ?? '')).active).toBe(false);
  });

  it('refuses an unknown patient and an unknown kind with a usage code', async () => {
    await expect(patient(['link', 'ghost', '--config', configFile], io().io)).rejects.toMatchObject({
      code: 'MEDGW_ERR_USAGE',
    });
    await expect(
      patient(['link', 'marie', '--kinds', 'bmi', '--config', configFile], io().io),
    ).rejects.toMatchObject({
      code: 'MEDGW_ERR_USAGE',
    });
  });
});
