/** Child of the registry crash test: adds patients one by one, printing `ack <id>` after each write. */
import { addPatient } from '../../gateway/registry/operations.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';

const [path, prefix] = process.argv.slice(2);
if (!path || !prefix) throw new Error('usage: crash-child <registry.json> <prefix>');
const registry = await LowRegistry.open(path);
const clock = { now: () => Date.now() };
for (let i = 0; ; i++) {
  const id = `${prefix}-${i}`;
  await addPatient(registry, { id, displayName: `Patient ${i} ${'x'.repeat(150)}` }, clock);
  process.stdout.write(`ack ${id}\n`);
}
