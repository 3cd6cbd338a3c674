/**
 * The composition root of `medgw start`: takes the data-directory lock, builds the context, starts
 * registry, journal and the HTTP server (admin API), then the components listed in COMPONENTS
 * (broker, BLE central, pipeline, forwarder, embedded sandbox), and stops everything in reverse.
 */
import type { MedgwError } from '../kernel/errors.ts';
import { openStores } from './admin/connect.ts';
import { LocalAdminOps } from './admin/ops.ts';
import { HttpServer } from './admin/server.ts';
import { bleComponent } from './ble/component.ts';
import { cgmSummaryComponent } from './cgm/summaries.ts';
import type { Config } from './config/schema.ts';
import type { GatewayContext } from './context.ts';
import { type Clock, type Component, systemClock } from './contracts.ts';
import { acquireLock, ensureAdminToken } from './datadir.ts';
import { demoComponent } from './embedded/component.ts';
import { sandboxComponent } from './embedded/sandbox.ts';
import { forwarderComponent } from './forwarder/component.ts';
import { GroupCommit } from './journal/group-commit.ts';
import { type ComponentFactory, type Endpoint, hasEndpoints, Lifecycle, Services } from './lifecycle.ts';
import { createLogger, type Logger } from './log.ts';
import { mqttComponent, pipelineComponent } from './mqtt/components.ts';
import { deviceProvisioner } from './mqtt/dynsec.ts';
import { Operations } from './ops/operations.ts';
import { registerBleApi } from './web/ble-api.ts';
import { webComponent } from './web/component.ts';

/**
 * The components other parts provide, in construction order (a provider before its users).
 * Each entry is one small object; keep the list free of logic.
 */
export const COMPONENTS: ComponentFactory[] = [
  pipelineComponent,
  mqttComponent,
  bleComponent,
  sandboxComponent,
  forwarderComponent,
  cgmSummaryComponent,
  webComponent,
  demoComponent,
];

export interface Gateway {
  readonly ctx: GatewayContext;
  readonly services: Services;
  readonly lifecycle: Lifecycle;
  readonly http: HttpServer;
  /** Every endpoint, once started: the admin API first, then the components'. */
  endpoints(): Endpoint[];
  /** Stops in reverse order, closes the journal and releases the lock. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startGateway(options: {
  config: Config;
  log?: Logger;
  clock?: Clock;
  components?: readonly ComponentFactory[];
}): Promise<Gateway> {
  const { config } = options;
  const log = options.log ?? createLogger({ level: config.log.level });
  const clock = options.clock ?? systemClock;
  const lock = acquireLock(config.dataDir, 'gateway');
  const lifecycle = new Lifecycle(log);
  const components: Component[] = [];
  let opened: { journal: { close(): void }; registry: { close(): Promise<void> } } | undefined;
  try {
    const token = ensureAdminToken(config.dataDir);
    // the operator alarm when readings are refused for lack of room: at most one line a minute
    let lastAlarm = Number.NEGATIVE_INFINITY;
    const onFull = (refusal: MedgwError) => {
      const now = clock.now();
      if (now - lastAlarm < 60_000) return;
      lastAlarm = now;
      log.error(
        { component: 'journal', code: refusal.code, limit: refusal.details?.limit },
        'journal full: new readings are refused (nothing evicted); let it drain, raise journal limits or free disk',
      );
    };
    const { registry, journal } = await openStores(
      config,
      clock,
      onFull,
      config.journal.thread,
      log.child({ component: 'registry' }),
    );
    opened = { journal, registry };
    const ctx: GatewayContext = { config, log, clock, registry, journal, dataDir: config.dataDir };
    // every change a person makes goes through the operations service (pages, admin API)
    const ops = new Operations(
      new LocalAdminOps(registry, journal, clock, undefined, config.timezone, deviceProvisioner(config)),
      { registry, journal },
    );
    const http = new HttpServer(
      {
        host: config.http.host,
        port: config.http.port,
        token,
        log: log.child({ component: 'http' }),
        dataDir: config.dataDir,
      },
      ops,
    );
    const services = new Services();
    services.provide('http', http);
    services.provide('ops', ops);
    services.provide('lifecycle', lifecycle);
    services.provide('groupCommit', new GroupCommit(journal));

    // stopped last: a shared registry's listening connection and pool close once nothing reads it
    lifecycle.add({ name: 'registry', start: async () => undefined, stop: () => registry.close() });
    lifecycle.add({
      name: 'journal',
      start: async () => undefined,
      stop: async () => {
        // appends queued in the group commit are flushed before the file closes
        await services.get('groupCommit').flush();
        journal.close();
      },
    });
    lifecycle.add(http, ['registry', 'journal']);
    for (const factory of options.components ?? COMPONENTS) {
      const component = await factory.create(ctx, services);
      if (!component) continue;
      components.push(component);
      lifecycle.add(component, ['registry', 'journal', 'http', ...(factory.after ?? [])]);
    }
    // the BLE central's admin routes (/api/v1/ble), when a BLE component provided one
    registerBleApi(services);
    await lifecycle.start();
    log.info({ dataDir: config.dataDir, running: lifecycle.running() }, 'medgw started');

    let stopped: Promise<void> | undefined;
    return {
      ctx,
      services,
      lifecycle,
      http,
      endpoints() {
        const out: Endpoint[] = [];
        if (http.url) out.push({ name: 'admin API', url: `${http.url}/api/v1` });
        for (const c of components) if (hasEndpoints(c)) out.push(...c.endpoints());
        return out;
      },
      stop() {
        stopped ??= lifecycle.stop().finally(() => {
          lock.release();
          log.info('medgw stopped');
        });
        return stopped;
      },
    };
  } catch (e) {
    await lifecycle.stop();
    opened?.journal.close();
    await opened?.registry.close();
    lock.release();
    throw e;
  }
}
