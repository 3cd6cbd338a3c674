/**
 * Prometheus metrics (prom-client, one registry per gateway, never the global one): readings by
 * state, queue depth, oldest unsent age, deliveries and rejections by code, BLE connections and
 * failures by reason, MQTT clients and refusals, last successful sync per device. Labels carry codes
 * and device ids, never a value or a patient.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { ERROR_CATALOGUE, type ErrorCode, nationalOutcomeOf } from '../../kernel/errors.ts';
import type { WebDeps } from './deps.ts';
import { lastSync, queue } from './model.ts';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Stops listening to component events. */
  close(): void;
}

export function createMetrics(deps: WebDeps): GatewayMetrics {
  const registry = new Registry();
  const catalogue = deps.catalogue ?? ERROR_CATALOGUE;
  // Registration order is the order of the exposition: journal, national side, BLE, MQTT, pipeline, sync.
  journalGauges(registry, deps);
  const onForwarder = nationalCounters(registry, catalogue);
  const onBle = bleCounters(registry);
  mqttGauges(registry, deps);
  pipelineGauge(registry, deps);
  lastSyncGauge(registry, deps);
  deps.national?.events?.on('event', onForwarder);
  deps.ble?.on('progress', onBle);
  return {
    registry,
    close() {
      deps.national?.events?.off('event', onForwarder);
      deps.ble?.off('progress', onBle);
    },
  };
}

/** The journal outbox: readings by state, queue depth, oldest unsent age. */
function journalGauges(registry: Registry, deps: WebDeps): void {
  new Gauge({
    name: 'medgw_readings',
    help: 'Readings in the journal outbox by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const q = queue(deps);
      for (const [state, n] of Object.entries(q.byState)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'medgw_queue_depth',
    help: 'Readings waiting to be sent (pending and in flight)',
    registers: [registry],
    collect() {
      const q = queue(deps);
      this.set(q.byState.pending + q.byState['in-flight']);
    },
  });
  new Gauge({
    name: 'medgw_oldest_unsent_age_seconds',
    help: 'Age of the oldest reading not yet delivered (0 when none)',
    registers: [registry],
    collect() {
      this.set((queue(deps).oldestUnsentAgeMs ?? 0) / 1000);
    },
  });
}

type ForwarderEvent = { type: string; code?: ErrorCode };

/**
 * The national side's answers, counted from the forwarder's events: deliveries, dead letters by code,
 * consent holds by kind, and outcomes as the error catalogue gives them. Returns the event listener.
 */
function nationalCounters(
  registry: Registry,
  catalogue: NonNullable<WebDeps['catalogue']>,
): (e: ForwarderEvent) => void {
  const deliveries = new Counter({
    name: 'medgw_deliveries_total',
    help: 'Readings delivered to the national side since start',
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'medgw_rejections_total',
    help: 'Readings refused by the national side (dead letter) by code since start',
    labelNames: ['code'],
    registers: [registry],
  });
  const holds = new Counter({
    name: 'medgw_consent_holds_total',
    help: 'Consent or link problems that held a patient’s readings, by kind, since start',
    labelNames: ['type'],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'medgw_national_outcomes_total',
    help: 'National-side answers that dead-lettered a reading or held a patient, by the outcome the error catalogue gives their code, since start',
    labelNames: ['outcome', 'code'],
    registers: [registry],
  });
  return (e) => {
    if (e.code !== undefined && e.type !== 'delivered') {
      outcomes.inc({ outcome: nationalOutcomeOf(e.code, catalogue) ?? 'none', code: e.code });
    }
    if (e.type === 'delivered') deliveries.inc();
    else if (e.type === 'dead-letter') rejections.inc({ code: e.code ?? 'unknown' });
    else if (e.type === 'consent-withdrawn' || e.type === 'reauth-required' || e.type === 'idpe-mismatch')
      holds.inc({ type: e.type });
  };
}

/** BLE pairings and syncs that completed or failed (by reason), from the BLE manager's progress. */
function bleCounters(registry: Registry): (p: { state: string; code?: ErrorCode }) => void {
  const bleConnections = new Counter({
    name: 'medgw_ble_connections_total',
    help: 'BLE pairings or syncs that completed since start',
    registers: [registry],
  });
  const bleFailures = new Counter({
    name: 'medgw_ble_failures_total',
    help: 'BLE pairings or syncs that failed since start, by reason code',
    labelNames: ['reason'],
    registers: [registry],
  });
  return (p) => {
    if (p.state === 'synced') bleConnections.inc();
    else if (p.state === 'failed') bleFailures.inc({ reason: p.code ?? 'unknown' });
  };
}

/** The MQTT broker's device connections and refusals. */
function mqttGauges(registry: Registry, deps: WebDeps): void {
  new Gauge({
    name: 'medgw_mqtt_clients',
    help: 'MQTT device connections',
    registers: [registry],
    collect() {
      if (deps.broker) this.set(deps.broker.counters.connections);
    },
  });
  new Gauge({
    name: 'medgw_mqtt_refusals',
    help: 'MQTT connections, publishes and subscriptions refused since start, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, n] of Object.entries(deps.broker?.counters.refused ?? {})) this.set({ reason }, n);
    },
  });
}

/** The pipeline's accepted, duplicate and rejected (by code) readings. */
function pipelineGauge(registry: Registry, deps: WebDeps): void {
  new Gauge({
    name: 'medgw_pipeline_readings',
    help: 'Readings the pipeline accepted, collapsed as duplicates or rejected (by code) since start',
    labelNames: ['outcome', 'code'],
    registers: [registry],
    collect() {
      const c = deps.pipelineCounters?.();
      if (!c) return;
      this.set({ outcome: 'accepted', code: '' }, c.accepted);
      this.set({ outcome: 'duplicate', code: '' }, c.duplicate);
      for (const [code, n] of Object.entries(c.rejected)) this.set({ outcome: 'rejected', code }, n);
    },
  });
}

/** The last successful sync of each device of the registry. */
function lastSyncGauge(registry: Registry, deps: WebDeps): void {
  new Gauge({
    name: 'medgw_device_last_sync_timestamp_seconds',
    help: 'Last successful sync (last reading received) per device, seconds since the epoch',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of deps.registry.listDevices()) {
        const at = lastSync(deps, d.id);
        if (at !== undefined) this.set({ device: d.id }, at / 1000);
      }
    },
  });
}
