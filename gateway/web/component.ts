/**
 * The local pages as a `medgw start` component (entry of COMPONENTS in gateway/app.ts, after the
 * others): registers the pages on the HTTP server, reads the BLE central, the MQTT counters, the
 * pipeline counters and the cloud-bridge (built when the forwarder starts) through the services.
 * The admin password is printed once at first start.
 */
import { EventEmitter } from 'node:events';
import { MedgwError } from '../../kernel/errors.ts';
import type { BluezPairing } from '../ble/bluez/pairing.ts';
import type { BleCentral } from '../ble/central.ts';
import type { GatewayContext } from '../context.ts';
import type { Component } from '../contracts.ts';
import type { ComponentFactory, EndpointSource, Services } from '../lifecycle.ts';
import { webBluetooth } from './ble.ts';
import type { WebBluetooth, WebBroker, WebDeps, WebNational } from './deps.ts';
import { createWeb } from './plugin.ts';

function unavailable(): MedgwError {
  return new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'the national side is not running on this gateway');
}

/** The national side through the forwarder's cloud-bridge, which exists only once the forwarder started. */
function lazyNational(
  services: Services,
  label: string,
  relay: EventEmitter,
  redirectUri?: string,
): WebNational | undefined {
  const holder = services.maybe('cloudBridge');
  if (!holder) return undefined;
  const bridge = () => {
    const b = holder.current();
    if (!b) throw unavailable();
    return b;
  };
  return {
    label,
    ...(redirectUri ? { redirectUri } : {}),
    startBrowserLink: (patientId, options) => bridge().pairing.startBrowserLink(patientId, options),
    completeBrowserLink: (url) => bridge().pairing.completeBrowserLink(url),
    startDeviceLink: (patientId) => bridge().pairing.startDeviceLink(patientId),
    unlink: (patientId) => bridge().pairing.unlink(patientId),
    links: {
      get: (patientId) => holder.current()?.store.get(patientId),
      list: () => holder.current()?.store.list() ?? [],
      update: (patientId, patch) => bridge().store.update(patientId, patch),
    },
    events: relay,
    kick: () => holder.current()?.forwarder.kick(),
  };
}

/** The BLE central for the pages, passing the household user and consent code typed on the devices page. */
export function bluetoothForPages(central: BleCentral, pairing?: BluezPairing): WebBluetooth {
  const base = webBluetooth(central, pairing);
  return {
    ...base,
    pair: async (address, options) => {
      await central.pair(address, options?.udsUser ? { udsUsers: [options.udsUser] } : {});
    },
  };
}

function brokerOf(services: Services): WebBroker | undefined {
  const m = services.maybe('mqtt') as { counters?: { connections?: unknown; refused?: unknown } } | undefined;
  const c = m?.counters;
  if (!c || typeof c.connections !== 'number' || typeof c.refused !== 'object' || c.refused === null)
    return undefined;
  return m as WebBroker;
}

class WebComponent implements Component, EndpointSource {
  readonly name = 'web';
  private attached: (() => void) | undefined;

  constructor(
    private readonly services: Services,
    private readonly relay: EventEmitter,
  ) {}

  async start(): Promise<void> {
    // forwarder events reach the pages once the cloud-bridge exists (the forwarder starts before us)
    const forwarder = this.services.maybe('cloudBridge')?.current()?.forwarder;
    if (forwarder) {
      const pass = (e: unknown) => this.relay.emit('event', e);
      forwarder.on('event', pass);
      this.attached = () => forwarder.off('event', pass);
    }
  }

  async stop(): Promise<void> {
    this.attached?.();
    this.attached = undefined;
  }

  endpoints() {
    const url = this.services.get('http').url;
    return url ? [{ name: 'local pages', url: `${url}/` }] : [];
  }
}

export const webComponent: ComponentFactory = {
  name: 'web',
  create(ctx: GatewayContext, services: Services) {
    const relay = new EventEmitter();
    const ble = services.maybe('ble');
    const pipeline = services.maybe('pipeline');
    const broker = brokerOf(services);
    const national = lazyNational(
      services,
      ctx.config.national.baseUrl ?? 'sandbox',
      relay,
      ctx.config.national.pairing.redirectUri,
    );
    const deps: WebDeps = {
      dataDir: ctx.dataDir,
      registry: ctx.registry,
      journal: ctx.journal,
      ops: services.get('ops'),
      clock: ctx.clock,
      log: ctx.log,
      startedAt: ctx.clock.now(),
      cgm: { days: ctx.config.cgm.summaryDays, timezone: ctx.config.timezone },
      ...(ctx.config.http.trustedProxy ? { trustedProxy: ctx.config.http.trustedProxy } : {}),
      ...(ble ? { ble: bluetoothForPages(ble, services.maybe('blePairing')) } : {}),
      ...(national ? { national } : {}),
      ...(broker ? { broker } : {}),
      ...(pipeline ? { pipelineCounters: () => pipeline.counters } : {}),
    };
    const http = services.get('http');
    const web = createWeb({ ...deps, routes: () => http.routes });
    http.register(async (app) => web.plugin(app));
    http.register(async (api) => web.api(api, http.requireAdmin), { prefix: '/api/v1' });
    return new WebComponent(services, relay);
  },
};
