/**
 * The demo of `npm start` as a gateway component (last entry of COMPONENTS in gateway/app.ts, so it
 * starts after the broker, the BLE central and the forwarder, and stops first):
 * - at construction (before anything starts) the demo patient and its devices are provisioned
 *   (gateway/embedded/demo.ts), so the simulated devices' first readings already have an owner;
 * - at start, the simulated MQTT thermometer connects to the embedded broker and publishes now and
 *   then, the demo user weighs on the simulated scale now and then, and with the embedded sandbox the pairing
 *   instructions are printed (gateway/embedded/pairing.ts).
 * On by default only with the embedded sandbox (`demo.enabled`). The demo's parts (seed, simulated
 * MQTT device from simulators/, pairing printer) are loaded by `import()` only when the demo runs, so
 * a production start never loads them (tests/start/lazy-modules.test.ts).
 */
import { isMedgwError } from '../../kernel/errors.ts';
import type { GatewayContext } from '../context.ts';
import type { Component } from '../contracts.ts';
import type { ComponentFactory, Services } from '../lifecycle.ts';
import type { DemoSeed } from './demo.ts';
import type { DemoThermometer } from './mqtt-device.ts';

export class DemoComponent implements Component {
  readonly name = 'demo';
  #thermometer: DemoThermometer | undefined;
  #pairing: { ac: AbortController; done: Promise<void> } | undefined;
  #weighing: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly services: Services,
    private readonly seed: DemoSeed,
    private readonly out: NodeJS.WritableStream,
  ) {}

  async start(): Promise<void> {
    const log = this.ctx.log.child({ component: 'demo' });
    log.info(
      { created: this.seed.created.length, devices: this.seed.devices.length },
      this.seed.created.length > 0
        ? 'demo patient and devices provisioned'
        : 'demo patient and devices already provisioned',
    );
    const { DEMO_BLE_DEVICES } = await import('./demo.ts');
    this.#startWeighing(log, DEMO_BLE_DEVICES[1]?.address);
    await this.#startThermometer(log);
    await this.#startPairing(log);
  }

  /** The demo user steps on the simulated scale now and then (the first weight is held from start). */
  #startWeighing(log: GatewayContext['log'], scale: string | undefined): void {
    const sim = this.services.maybe('bleSim');
    if (!sim || scale === undefined || !this.seed.devices.includes(scale)) return;
    this.#weighing = setInterval(() => {
      sim
        .measure('scale')
        .catch((e: unknown) =>
          log.error(
            { code: isMedgwError(e) ? e.code : 'MEDGW_ERR_INTERNAL' },
            'the simulated scale could not weigh',
          ),
        );
    }, this.ctx.config.demo.scaleIntervalSeconds * 1000);
    this.#weighing.unref();
  }

  async #startThermometer(log: GatewayContext['log']): Promise<void> {
    const cred = this.seed.mqtt;
    const broker = this.services.maybe('mqtt');
    if (!cred || !broker || !('address' in broker)) return;
    const { port } = broker.address();
    const { DemoThermometer } = await import('./mqtt-device.ts');
    const thermometer = new DemoThermometer({
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: cred.deviceId,
      secret: cred.secret,
      intervalMs: this.ctx.config.demo.mqttIntervalSeconds * 1000,
      clock: this.ctx.clock,
      log,
    });
    try {
      await thermometer.start();
      this.#thermometer = thermometer;
    } catch (e) {
      // the demo device is not essential: the gateway runs without it
      log.error(
        { code: 'MEDGW_ERR_MQTT_AUTH', err: e instanceof Error ? e.message : String(e) },
        'the simulated MQTT thermometer could not connect to the embedded broker',
      );
      await thermometer.stop();
    }
  }

  async #startPairing(log: GatewayContext['log']): Promise<void> {
    const patientId = this.seed.patientId;
    const sandbox = this.services.maybe('sandbox')?.current();
    const bridge = this.services.maybe('cloudBridge')?.current();
    if (!sandbox || !bridge) {
      this.out.write(
        `\nDemo patient "${patientId}": pair it with Mon espace santé with  medgw patient link ${patientId}\n\n`,
      );
      return;
    }
    // the embedded sandbox starts empty: a link from an earlier run names grants it no longer knows
    if (bridge.store.get(patientId)) {
      await bridge.store.remove(patientId);
      log.info({}, 'earlier demo pairing dropped: the embedded sandbox starts empty on every start');
    }
    const { printPairing } = await import('./pairing.ts');
    const ac = new AbortController();
    const done = printPairing(
      {
        patientId,
        sandboxUrl: sandbox.url,
        startDeviceLink: (id) => bridge.pairing.startDeviceLink(id),
        onLinked: () => bridge.forwarder.kick(),
        out: this.out,
        log,
      },
      ac.signal,
    );
    this.#pairing = { ac, done };
  }

  async stop(): Promise<void> {
    clearInterval(this.#weighing);
    this.#weighing = undefined;
    const pairing = this.#pairing;
    this.#pairing = undefined;
    pairing?.ac.abort();
    await pairing?.done;
    const t = this.#thermometer;
    this.#thermometer = undefined;
    await t?.stop();
  }
}

export const demoComponent: ComponentFactory = {
  name: 'demo',
  async create(ctx, services) {
    const { config } = ctx;
    const enabled = config.demo.enabled ?? config.national.baseUrl === undefined;
    if (!enabled) return undefined;
    const { seedDemo } = await import('./demo.ts');
    const seed = await seedDemo(ctx.registry, ctx.clock, {
      patientId: config.demo.patientId,
      // the simulated devices exist when the central runs on the virtual radio (sim, or auto without adapter)
      ble: services.maybe('bleSim') !== undefined,
      mqtt: config.mqtt.mode === 'embedded',
    });
    return new DemoComponent(ctx, services, seed, process.stdout);
  },
};
