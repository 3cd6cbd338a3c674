import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { GatewayContext } from '../context.ts';
import { createLogger } from '../log.ts';
import { EmbeddedSandbox, SANDBOX_HOST } from './sandbox.ts';

function ctx(sandboxPort: number): GatewayContext {
  const config = loadConfig({ overrides: { 'national.sandboxPort': sandboxPort } });
  return {
    config,
    log: createLogger({ level: 'silent' }),
    clock: { now: () => Date.now() },
    dataDir: config.dataDir,
  } as GatewayContext;
}

describe('embedded sandbox component', () => {
  it('listens on loopback, tells where, and closes', async () => {
    const s = new EmbeddedSandbox(ctx(0));
    expect(s.endpoints()).toEqual([]);
    await s.start();
    const url = s.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.endpoints().map((e) => e.url)).toEqual([url, `${url}/patient`]);
    const discovery = await fetch(`${url}/oidc/.well-known/openid-configuration`);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(`${url}/oidc`);
    await s.stop();
    await s.stop();
    await expect(fetch(`${url}/_sandbox/observations`)).rejects.toThrow();
  });

  it('refuses a port already taken with MEDGW_ERR_SANDBOX_PORT', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, SANDBOX_HOST, r));
    try {
      const port = (taken.address() as AddressInfo).port;
      const s = new EmbeddedSandbox(ctx(port));
      await expect(s.start()).rejects.toMatchObject({ code: 'MEDGW_ERR_SANDBOX_PORT' });
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
