/**
 * The component factories `medgw start` lists in gateway/app.ts: the pipeline (which provides the
 * `sink` service) and MQTT ingest (embedded aedes broker or external-broker client, by mqtt.mode).
 */
import { readFileSync } from 'node:fs';
import { MedgwError } from '../../kernel/errors.ts';
import type { ReadingSink } from '../contracts.ts';
import type { ComponentFactory } from '../lifecycle.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { EmbeddedBroker } from './broker.ts';
import { dynsecOptions } from './dynsec.ts';
import { ExternalBrokerClient } from './external.ts';

declare module '../lifecycle.ts' {
  interface ServiceMap {
    /** Where transports hand decoded readings (the pipeline): resolves after the journal commit. */
    sink: ReadingSink;
    /** The pipeline itself, for its counters (accepted, duplicate, quarantined/held/rejected by code). */
    pipeline: Pipeline;
    /** MQTT ingest, for its counters (connections, refusals by reason, receipts, unacknowledged). */
    mqtt: EmbeddedBroker | ExternalBrokerClient;
  }
}

export const pipelineComponent: ComponentFactory = {
  name: 'pipeline',
  create(ctx, services) {
    const pipeline = new Pipeline({
      journal: ctx.journal,
      registry: ctx.registry,
      clock: ctx.clock,
      log: ctx.log,
      commits: services.get('groupCommit'),
      timeZone: ctx.config.timezone,
    });
    services.provide('sink', pipeline);
    services.provide('pipeline', pipeline);
    return pipeline;
  },
};

function readPem(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new MedgwError(
      'MEDGW_ERR_CONFIG',
      `${key}: cannot read ${path} (${e instanceof Error ? e.message : String(e)}); give a readable PEM file`,
    );
  }
}

export const mqttComponent: ComponentFactory = {
  name: 'mqtt',
  after: ['pipeline'],
  create(ctx, services) {
    const m = ctx.config.mqtt;
    if (m.mode === 'off') return undefined;
    const sink = services.get('sink');
    if (m.mode === 'external') {
      if (!m.external.url) {
        throw new MedgwError('MEDGW_ERR_CONFIG', 'mqtt.external.url is required when mqtt.mode is external');
      }
      const dynsec = dynsecOptions(ctx.config);
      const external = new ExternalBrokerClient(
        { sink, log: ctx.log },
        {
          url: m.external.url,
          group: m.external.group,
          ...(m.external.username !== undefined ? { username: m.external.username } : {}),
          ...(m.external.password !== undefined ? { password: m.external.password } : {}),
          ...(m.external.clientId !== undefined ? { clientId: m.external.clientId } : {}),
          connections: m.external.connections,
          ...(dynsec
            ? {
                dynsec,
                mqttDevices: () =>
                  ctx.registry
                    .listDevices()
                    .filter((d) => d.transport === 'mqtt')
                    .map((d) => d.id),
              }
            : {}),
        },
      );
      services.provide('mqtt', external);
      return external;
    }
    if ((m.tls.cert === undefined) !== (m.tls.key === undefined)) {
      throw new MedgwError('MEDGW_ERR_CONFIG', 'mqtt.tls.cert and mqtt.tls.key must be given together');
    }
    const tls =
      m.tls.cert !== undefined && m.tls.key !== undefined
        ? {
            port: m.tls.port,
            cert: readPem('mqtt.tls.cert', m.tls.cert),
            key: readPem('mqtt.tls.key', m.tls.key),
          }
        : undefined;
    const broker = new EmbeddedBroker(
      { registry: ctx.registry, sink, log: ctx.log },
      {
        port: m.port,
        host: m.host,
        ...(tls ? { tls } : {}),
        rateLimit: m.rateLimit,
        authLimits: m.auth,
        now: () => ctx.clock.now(),
      },
    );
    services.provide('mqtt', broker);
    return broker;
  },
};
