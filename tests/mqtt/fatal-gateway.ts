/**
 * Child process of the fatal-error test: `medgw start`'s own run loop (runUntilStopped) over a
 * gateway on a data directory with the pipeline, the embedded broker and one component that, on
 * SIGUSR2, lets an error escape every handler: `rejection` (a promise nobody awaits rejects) or
 * `exception` (a throw in a timer). Prints `ready <mqtt port>` once started; exits with the status
 * the run loop returns.
 */
import pino from 'pino';
import { startGateway } from '../../gateway/app.ts';
import { runUntilStopped } from '../../gateway/cli/commands/start.ts';
import { configFromArgs } from '../../gateway/config/load.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';

const [dir, fault] = process.argv.slice(2);
if (!dir || (fault !== 'rejection' && fault !== 'exception')) {
  process.stderr.write('usage: fatal-gateway.ts <data dir> rejection|exception\n');
  process.exit(2);
}
const { config } = configFromArgs(
  ['--data-dir', dir, '--mqtt-port', '0', '--http-port', '0', '--ble', 'off'],
  {},
);
// JSON log lines on stdout, written synchronously (the test reads them)
const log = pino({ level: 'info' }, pino.destination({ dest: 1, sync: true }));
const gateway = await startGateway({
  config,
  log,
  components: [
    pipelineComponent,
    mqttComponent,
    {
      name: 'faulty',
      create: () => ({
        name: 'faulty',
        start: async () => {
          process.once('SIGUSR2', () => {
            if (fault === 'rejection') void Promise.reject(new Error('injected: a promise nobody awaits'));
            else
              setTimeout(() => {
                throw new Error('injected: a throw in a timer');
              }, 0);
          });
        },
        stop: async () => undefined,
      }),
    },
  ],
});
const mqtt = gateway.endpoints().find((e) => e.name === 'MQTT broker');
process.stdout.write(`ready ${mqtt?.url.split(':').pop()}\n`);
process.exitCode = await runUntilStopped(gateway, log, process);
