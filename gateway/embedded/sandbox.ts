/**
 * The embedded national-side sandbox of `medgw start` (entry of COMPONENTS in gateway/app.ts, before
 * the forwarder): when no `national.baseUrl` is configured, the Mon espace santé sandbox
 * (simulators/sandbox, docs/sandbox.md) runs in the gateway process on `national.sandboxPort`
 * (`--sandbox-port`, default 8090, 0 = a free port) and the forwarder finds it through the
 * `nationalSide` service. Its state lives in memory: it starts empty on every start.
 * The sandbox (and oidc-provider behind it) is loaded by `import()` when it starts, so a gateway with
 * a national-side URL never loads it (tests/start/lazy-modules.test.ts).
 */
import { isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { Sandbox } from '../../simulators/sandbox/index.ts';
import type { GatewayContext } from '../context.ts';
import type { Component } from '../contracts.ts';
import type { ComponentFactory, Endpoint, EndpointSource } from '../lifecycle.ts';

declare module '../lifecycle.ts' {
  interface ServiceMap {
    /** The embedded sandbox once started (absent when a national-side URL is configured). */
    sandbox: { current(): Sandbox | undefined };
  }
}

/** Loopback only: the sandbox's /_sandbox/* inspection endpoints have no authentication. */
export const SANDBOX_HOST = '127.0.0.1';

export class EmbeddedSandbox implements Component, EndpointSource {
  readonly name = 'sandbox';
  #sandbox: Sandbox | undefined;

  constructor(private readonly ctx: GatewayContext) {}

  get sandbox(): Sandbox | undefined {
    return this.#sandbox;
  }

  /** The base URL once listening. */
  url(): string {
    if (!this.#sandbox) {
      throw new MedgwError('MEDGW_ERR_START_FAILED', 'the embedded sandbox is not started yet');
    }
    return this.#sandbox.url;
  }

  async start(): Promise<void> {
    const { config, log } = this.ctx;
    const n = config.national;
    const { CONTRACT_GENERATIONS, createSandbox } = await import('../../simulators/sandbox/index.ts');
    try {
      this.#sandbox = await createSandbox({
        port: n.sandboxPort,
        host: SANDBOX_HOST,
        idTokenHeader: n.idTokenHeader,
        // the embedded national side takes the glucose Bundle of the generation the gateway sends
        profileGenerations: CONTRACT_GENERATIONS[n.profileGeneration],
        claimNames: {
          idPe: n.pairing.claimIdPe,
          pairingOid: n.pairing.claimPairingOid,
          solutionOid: n.pairing.claimSolutionOid,
        },
      });
    } catch (e) {
      if (isMedgwError(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new MedgwError(
        'MEDGW_ERR_SANDBOX_PORT',
        `the embedded sandbox cannot listen on ${SANDBOX_HOST}:${n.sandboxPort} (${code ?? (e as Error).message})`,
      );
    }
    log.info(
      { component: 'sandbox', url: this.#sandbox.url },
      'embedded Mon espace santé sandbox started (no national.baseUrl configured); its state is in memory',
    );
  }

  async stop(): Promise<void> {
    const s = this.#sandbox;
    this.#sandbox = undefined;
    await s?.close();
  }

  endpoints(): Endpoint[] {
    const s = this.#sandbox;
    if (!s) return [];
    return [
      { name: 'sandbox', url: s.url },
      { name: 'sandbox page', url: `${s.url}/patient` },
    ];
  }
}

export const sandboxComponent: ComponentFactory = {
  name: 'sandbox',
  create(ctx, services) {
    if (ctx.config.national.baseUrl !== undefined) return undefined;
    const component = new EmbeddedSandbox(ctx);
    services.provide('nationalSide', { url: () => component.url() });
    services.provide('sandbox', { current: () => component.sandbox });
    return component;
  },
};
