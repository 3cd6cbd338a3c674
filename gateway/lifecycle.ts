/**
 * Component life cycle: components start in dependency order and stop in reverse (stop accepting,
 * drain, flush, close). A failing start stops what already started, then reports
 * MEDGW_ERR_START_FAILED. SIGINT/SIGTERM trigger the same orderly stop.
 *
 * The component contracts live here too (ComponentFactory, Services, ServiceMap, Endpoint): the
 * components import them from this file, and gateway/app.ts, which lists the components, imports
 * the same file, so no import runs back from a component to the composition root.
 */
import { MedgwError } from '../kernel/errors.ts';
import type { GatewayContext } from './context.ts';
import type { Component } from './contracts.ts';
import type { HttpServer } from './http/server.ts';
import type { GroupCommit } from './journal/group-commit.ts';
import type { Logger } from './log.ts';

/** Where a component listens, printed at start-up. */
export interface Endpoint {
  readonly name: string;
  readonly url: string;
}

/** A component may tell where it listens once started. */
export interface EndpointSource {
  endpoints(): readonly Endpoint[];
}

/** Whether a component tells where it listens. */
export function hasEndpoints(c: Component): c is Component & EndpointSource {
  return typeof (c as Partial<EndpointSource>).endpoints === 'function';
}

/**
 * Shared services components hand to each other at construction. Extend it from your module with
 * `declare module '<path>/gateway/lifecycle.ts' { interface ServiceMap { sink: ReadingSink } }`.
 */
export interface ServiceMap {
  /** The local HTTP server: call `register(plugin)` to add routes, `requireAdmin` to protect them. */
  http: HttpServer;
  /** Group commit over the journal: many small appends share one transaction. */
  groupCommit: GroupCommit;
  lifecycle: Lifecycle;
}

export class Services {
  private readonly map = new Map<keyof ServiceMap, unknown>();

  provide<K extends keyof ServiceMap>(name: K, value: ServiceMap[K]): void {
    if (this.map.has(name))
      throw new MedgwError('MEDGW_ERR_START_FAILED', `service ${String(name)} is provided twice`);
    this.map.set(name, value);
  }

  get<K extends keyof ServiceMap>(name: K): ServiceMap[K] {
    if (!this.map.has(name)) {
      throw new MedgwError(
        'MEDGW_ERR_START_FAILED',
        `service ${String(name)} is not provided; check the order of COMPONENTS in gateway/app.ts`,
      );
    }
    return this.map.get(name) as ServiceMap[K];
  }

  maybe<K extends keyof ServiceMap>(name: K): ServiceMap[K] | undefined {
    return this.map.get(name) as ServiceMap[K] | undefined;
  }
}

/** One entry of the component list: built in list order, started after registry, journal and http. */
export interface ComponentFactory {
  readonly name: string;
  /** Other components (by name) that must start first. */
  readonly after?: readonly string[];
  /** Builds the component, or returns undefined when the configuration leaves it out. */
  create(ctx: GatewayContext, services: Services): Component | undefined | Promise<Component | undefined>;
}

export interface Managed {
  readonly component: Component;
  /** Names of components that must be started before this one. */
  readonly after: readonly string[];
}

export class Lifecycle {
  private readonly entries: Managed[] = [];
  private started: Component[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly stopTimeoutMs = 15_000,
  ) {}

  add(component: Component, after: readonly string[] = []): this {
    if (this.entries.some((e) => e.component.name === component.name)) {
      throw new MedgwError('MEDGW_ERR_START_FAILED', `two components are named ${component.name}`);
    }
    this.entries.push({ component, after });
    return this;
  }

  /** The start order: dependencies first, otherwise the order of `add`. */
  order(): Component[] {
    const byName = new Map(this.entries.map((e) => [e.component.name, e]));
    const out: Component[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (e: Managed, chain: string[]) => {
      const name = e.component.name;
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') {
        throw new MedgwError(
          'MEDGW_ERR_START_FAILED',
          `components depend on each other: ${[...chain, name].join(' → ')}`,
        );
      }
      state.set(name, 'visiting');
      for (const dep of e.after) {
        const d = byName.get(dep);
        if (!d)
          throw new MedgwError('MEDGW_ERR_START_FAILED', `${name} needs ${dep}, which is not registered`);
        visit(d, [...chain, name]);
      }
      state.set(name, 'done');
      out.push(e.component);
    };
    for (const e of this.entries) visit(e, []);
    return out;
  }

  async start(): Promise<void> {
    for (const component of this.order()) {
      const t0 = performance.now();
      try {
        await component.start();
      } catch (e) {
        this.log.error(
          { component: component.name, err: e },
          'component failed to start; stopping the others',
        );
        await this.stop();
        const cause = e instanceof Error ? e.message : String(e);
        const code = e instanceof MedgwError ? `${e.code}: ` : '';
        throw new MedgwError('MEDGW_ERR_START_FAILED', `${component.name} failed to start: ${code}${cause}`, {
          component: component.name,
          cause: e,
        });
      }
      this.started.push(component);
      this.log.debug({ component: component.name, ms: Math.round(performance.now() - t0) }, 'started');
    }
  }

  /** Stops started components in reverse order; one failing or hanging stop does not block the others. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    while (this.started.length > 0) {
      const component = this.started.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          component.stop(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`did not stop within ${this.stopTimeoutMs} ms`)),
              this.stopTimeoutMs,
            );
          }),
        ]);
        this.log.debug({ component: component.name }, 'stopped');
      } catch (e) {
        this.log.error({ component: component.name, err: e }, 'component failed to stop cleanly');
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Names of the components running now, in start order. */
  running(): string[] {
    return this.started.map((c) => c.name);
  }
}

/**
 * Stops the lifecycle on SIGINT or SIGTERM, then calls `onStopped`. A second signal while stopping
 * exits at once with status 130. Returns a function that removes the handlers.
 */
export function stopOnSignals(
  lifecycle: Lifecycle,
  log: Logger,
  onStopped: (signal: NodeJS.Signals) => void,
): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    signalled = true;
    log.info({ signal }, 'stopping');
    lifecycle.stop().then(
      () => onStopped(signal),
      () => onStopped(signal),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Exit status after a fatal error (EX_SOFTWARE, sysexits.h): not a refused input (2), not a signal. */
export const FATAL_EXIT_CODE = 70;

/**
 * The process-level guard of `medgw start`: an unhandled promise rejection or an uncaught exception
 * is logged once as MEDGW_ERR_FATAL (cause and stack), then `stop` runs the orderly stop (drain,
 * flush, close, release the lock) and `onStopped` reports it; never a silent exit. A second fatal
 * error while stopping is logged too. If the stop leaves something holding the process, it exits
 * with FATAL_EXIT_CODE after `exitAfterMs`. Returns a function that removes the handlers.
 */
export function stopOnFatal(
  log: Logger,
  stop: () => Promise<void>,
  onStopped: () => void,
  exitAfterMs = 30_000,
): () => void {
  let fatal = false;
  const handler = (err: unknown, origin: string) => {
    log.fatal(
      { code: 'MEDGW_ERR_FATAL', origin, err: err instanceof Error ? err : { message: String(err) } },
      'an error escaped every handler: stopping the gateway',
    );
    if (fatal) return;
    fatal = true;
    process.exitCode = FATAL_EXIT_CODE;
    stop()
      .catch((e: unknown) =>
        log.error({ code: 'MEDGW_ERR_FATAL', err: e }, 'the stop after a fatal error failed'),
      )
      .finally(() => {
        onStopped();
        setTimeout(() => process.exit(FATAL_EXIT_CODE), exitAfterMs).unref();
      });
  };
  const onRejection = (reason: unknown) => handler(reason, 'unhandledRejection');
  const onException = (err: Error, origin: string) => handler(err, origin);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
