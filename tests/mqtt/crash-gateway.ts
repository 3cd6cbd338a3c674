/**
 * Child process of the MQTT crash test: a gateway on a data directory (lowdb registry + SQLite
 * journal on its own thread, as a running gateway has it), the pipeline and the embedded broker on
 * a free loopback port. Prints `port <n>` once listening, then runs until it is killed.
 */
import { join } from 'node:path';
import pino from 'pino';
import { ThreadedJournal } from '../../gateway/journal/threaded.ts';
import { EmbeddedBroker } from '../../gateway/mqtt/broker.ts';
import { Pipeline } from '../../gateway/pipeline/pipeline.ts';
import { LowRegistry } from '../../gateway/registry/index.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: crash-gateway.ts <data dir>\n');
  process.exit(2);
}
const clock = { now: () => Date.now() };
const log = pino({ level: 'silent' });
const registry = await LowRegistry.open(join(dir, 'registry.json'));
const journal = await ThreadedJournal.open({ path: join(dir, 'journal.db'), clock });
const pipeline = new Pipeline({ journal, registry, clock, log });
await pipeline.start();
const broker = new EmbeddedBroker({ registry, sink: pipeline, log }, { port: 0, host: '127.0.0.1' });
await broker.start();
process.stdout.write(`port ${broker.address().port}\n`);
