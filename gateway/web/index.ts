/** The local web pages of the gateway (see plugin.ts) and the adapters that feed them. */

import type { HttpServer } from '../admin/server.ts';
import type { CloudBridge } from '../forwarder/wiring.ts';
import type { WebDeps, WebNational } from './deps.ts';
import { createWeb, type Web } from './plugin.ts';

export type {
  DeviceHealth,
  NearbyDevice,
  PairingProgress,
  PairingState,
  WebBluetooth,
  WebDeps,
  WebNational,
} from './deps.ts';
export { createWeb, type Web } from './plugin.ts';

/** The national side as the pages see it, from the cloud-bridge of createCloudBridge(). */
export function webNational(bridge: CloudBridge, label: string): WebNational {
  return {
    label,
    startBrowserLink: (patientId, options) => bridge.pairing.startBrowserLink(patientId, options),
    completeBrowserLink: (url) => bridge.pairing.completeBrowserLink(url),
    startDeviceLink: (patientId) => bridge.pairing.startDeviceLink(patientId),
    unlink: (patientId) => bridge.pairing.unlink(patientId),
    links: bridge.store,
    events: bridge.forwarder,
    kick: () => bridge.forwarder.kick(),
  };
}

/** Registers the pages and their JSON admin API (/api/v1) on the gateway's HTTP server (before it starts). */
export function registerWeb(server: HttpServer, deps: WebDeps): Web {
  const web = createWeb({ routes: () => server.routes, ...deps });
  server.register(async (app) => web.plugin(app));
  server.register(async (api) => web.api(api, server.requireAdmin), { prefix: '/api/v1' });
  return web;
}
