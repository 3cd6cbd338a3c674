/**
 * Child process of the crash test: appends readings through the group commit as fast as it can and
 * prints `ack <id> <cursor>` only after each commit returned. The parent kills it with SIGKILL.
 */
import { GroupCommit } from '../../gateway/journal/group-commit.ts';
import { SqliteJournal } from '../../gateway/journal/sqlite.ts';
import { reading } from './conformance.ts';

const [path, prefix] = process.argv.slice(2);
if (!path || !prefix) throw new Error('usage: crash-child <db> <prefix>');
const journal = new SqliteJournal({ path });
const group = new GroupCommit(journal, 64);
const start = journal.cursor('gluco-crash') ?? 0;
let seq = start;
process.stdout.write('ready\n');

async function producer(): Promise<void> {
  for (;;) {
    const n = ++seq;
    const id = `${prefix}-${n}`;
    const r = await group.append([reading(id, { deviceId: 'gluco-crash' })], {
      deviceId: 'gluco-crash',
      value: n,
    });
    if (r.accepted.includes(id)) process.stdout.write(`ack ${id} ${n}\n`);
  }
}
// several producers so commits are grouped
await Promise.all([producer(), producer(), producer(), producer()]);
