/**
 * `medgw sandbox` as a real child process, in its own process group: prints its URL, serves discovery,
 * stops on SIGTERM (sent to the group, as a service manager does).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/medgw.mjs', import.meta.url));

describe('medgw sandbox', () => {
  it('starts on a free port, answers, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'sandbox', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const meta = (await (await fetch(`${url}/oidc/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(meta.issuer).toBe(`${url}/oidc`);
    expect(out).toContain('medgw-gateway');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    expect(await exit).toBe(0);
    expect(out).toContain('medgw sandbox stopped');
  });

  it('--generation ans-3.2.0: says so, and refuses an unknown generation with a usage error', async () => {
    const child = spawn(process.execPath, [bin, 'sandbox', '--port', '0', '--generation', 'ans-3.2.0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('test identities')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    expect(out).toContain('glucose Bundle    ans-3.2.0 (the biology Bundle)');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    expect(await exit).toBe(0);

    const bad = spawn(process.execPath, [bin, 'sandbox', '--port', '0', '--generation', 'ans-3.1.0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let err = '';
    bad.stderr.setEncoding('utf8');
    bad.stderr.on('data', (c: string) => {
      err += c;
    });
    expect(await new Promise<number | null>((resolve) => bad.on('exit', (c) => resolve(c)))).toBe(2);
    expect(err).toContain('MEDGW_ERR_USAGE');
  });

  it('refuses a bad port with a usage error (exit 2)', async () => {
    const child = spawn(process.execPath, [bin, 'sandbox', '--port', 'abc'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      err += c;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain('MEDGW_ERR_USAGE');
  });
});
