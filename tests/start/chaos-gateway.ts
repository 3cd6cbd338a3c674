/**
 * Child process of the chaos test: the real start path of `medgw start` (data-directory lock,
 * registry check, journal open with its page check, the journal on its own thread, the HTTP server,
 * the pipeline and the embedded broker on free loopback ports). Prints `port <mqtt port>` once
 * started, then runs until it is killed; a refused start prints its code and exits 1.
 */
import { startGateway } from '../../gateway/app.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { mqttComponent, pipelineComponent } from '../../gateway/mqtt/components.ts';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: chaos-gateway.ts <data dir>\n');
  process.exit(2);
}
try {
  const config = loadConfig({ overrides: { dataDir, 'http.port': 0, 'mqtt.port': 0 } });
  const gw = await startGateway({
    config,
    log: silentLogger(),
    components: [pipelineComponent, mqttComponent],
  });
  const url = gw.endpoints().find((e) => e.name === 'MQTT broker')?.url;
  process.stdout.write(`port ${new URL(url ?? 'mqtt://x:0').port}\n`);
} catch (e) {
  process.stdout.write(`refused ${(e as { code?: string }).code ?? 'uncoded'} ${(e as Error).message}\n`);
  process.exit(1);
}
