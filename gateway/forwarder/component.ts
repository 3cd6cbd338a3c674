/**
 * The forwarder as a gateway component (entry of COMPONENTS in gateway/app.ts): builds the
 * cloud-bridge from the configuration when it starts, so an embedded sandbox started before it on a
 * free port is found through the `nationalSide` service.
 */
import type { PairingConfig } from '../../cloud-bridge/pairing.ts';
import type { Config } from '../config/schema.ts';
import type { GatewayContext } from '../context.ts';
import type { Component } from '../contracts.ts';
import type { ComponentFactory, Services } from '../lifecycle.ts';
import { type OpenedLinks, openLinks } from '../storage/links.ts';
import type { Forwarder } from './forwarder.ts';
import { type CloudBridge, createCloudBridge } from './wiring.ts';

declare module '../lifecycle.ts' {
  interface ServiceMap {
    /** Where the national side (or the embedded sandbox) answers; provided by the sandbox component. */
    nationalSide: { url(): string };
    /** The cloud-bridge once started: pairing client (patient pages), forwarder events and kick(). */
    cloudBridge: { current(): CloudBridge | undefined };
  }
}

/** Sandbox test secret of the pre-registered gateway client (docs/sandbox.md), used only with the sandbox. */
const SANDBOX_CLIENT_SECRET = 'medgw-sandbox-secret';

/** The measurements API base URL and pairing settings an instance uses. */
export function nationalSettings(
  config: Config,
  sandboxUrl?: string,
): {
  apiBaseUrl: string;
  pairing: Pick<PairingConfig, 'issuer'> & Partial<PairingConfig>;
  idTokenHeader: string;
} {
  const n = config.national;
  const sandbox = !n.baseUrl;
  const apiBaseUrl = (n.baseUrl ?? sandboxUrl ?? `http://127.0.0.1:${n.sandboxPort}`).replace(/\/+$/, '');
  const p = n.pairing;
  const secret = p.clientSecret ?? (sandbox ? SANDBOX_CLIENT_SECRET : undefined);
  return {
    apiBaseUrl,
    idTokenHeader: n.idTokenHeader,
    pairing: {
      issuer: p.issuer ?? `${apiBaseUrl}/oidc`,
      clientId: p.clientId,
      ...(secret ? { clientSecret: secret } : {}),
      ...(p.redirectUri ? { redirectUri: p.redirectUri } : {}),
      kindScopePrefix: p.kindScopePrefix,
      claims: { idPe: p.claimIdPe, pairingOid: p.claimPairingOid, solutionOid: p.claimSolutionOid },
    },
  };
}

class ForwarderComponent implements Component {
  readonly name = 'forwarder';
  #bridge: CloudBridge | undefined;
  #unsubscribe: (() => void) | undefined;
  #links: OpenedLinks | undefined;
  #unwatch: (() => void) | undefined;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly services: Services,
  ) {}

  get bridge(): CloudBridge | undefined {
    return this.#bridge;
  }

  get forwarder(): Forwarder | undefined {
    return this.#bridge?.forwarder;
  }

  async start(): Promise<void> {
    const { config, journal, registry, clock, log, dataDir } = this.ctx;
    const settings = nationalSettings(config, this.services.maybe('nationalSide')?.url());
    const f = config.forwarder;
    const commits = this.services.maybe('groupCommit');
    // storage.kind postgres: the links the instances share, and their refresh lock
    this.#links = await openLinks(config, process.env, log.child({ component: 'tokens' }));
    this.#bridge = createCloudBridge({
      links: this.#links,
      dataDir,
      journal,
      registry,
      clock,
      apiBaseUrl: settings.apiBaseUrl,
      pairing: settings.pairing,
      idTokenHeader: settings.idTokenHeader,
      profileGeneration: config.national.profileGeneration,
      maxConcurrency: f.concurrency,
      backoff: { baseMs: f.retry.initialDelayMs, maxMs: f.retry.maxDelayMs, jitter: f.retry.jitter },
      forwarder: {
        heldGraceMs: f.consentGraceMs,
        log: log.child({ component: 'forwarder' }),
        // a shared journal: other instances' commits wake this one (watch), so idle polls may stretch
        ...(journal.claim ? { leaseMs: f.leaseMs, maxPollIntervalMs: 8_000 } : {}),
      },
      ...(commits ? { commits } : {}),
    });
    await this.#bridge.start();
    // readings committed by the pipeline are sent at once; the poll stays as a safety net
    const forwarder = this.#bridge.forwarder;
    this.#unsubscribe = commits?.onAppended(() => forwarder.wake());
    // commits of the other instances sharing the journal (LISTEN/NOTIFY): a hint, the poll stays
    this.#unwatch = journal.watch?.(() => forwarder.wake());
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.#bridge?.stop();
    await this.#links?.close();
    this.#links = undefined;
  }
}

export const forwarderComponent: ComponentFactory = {
  name: 'forwarder',
  create(ctx, services) {
    if (
      ctx.config.national.baseUrl === undefined &&
      ctx.config.national.sandboxPort === 0 &&
      !services.maybe('nationalSide')
    ) {
      ctx.log.warn({}, 'forwarder left out: no national-side URL and no embedded sandbox to send to');
      return undefined;
    }
    const component = new ForwarderComponent(ctx, services);
    services.provide('cloudBridge', { current: () => component.bridge });
    return component;
  },
};
