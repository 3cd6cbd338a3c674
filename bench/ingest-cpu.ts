/**
 * CPU cost of one MQTT message on the gateway's main thread, without sockets or journal: the broker
 * hook's own path (gateway/mqtt/ingest.ts ingestMessage: size check, payload decode, then the real
 * pipeline — registry look-up, normalization, attribution, reading ids — and the receipt), with a
 * group commit that answers at once. Blood-pressure readings (a panel and a heart rate: two ids) in
 * each encoding, beside JSON.parse of the same JSON payload plus one SHA-256 of it, measured in the
 * same run; ratio = ingest / reference. Row `ingest-cpu`: an even mix of the three encodings, with
 * each encoding's figures under `encodings`.
 */
import { createHash } from 'node:crypto';
import { PAYLOAD_ENCODINGS } from '../drivers/mqtt/index.ts';
import type { NewReading } from '../gateway/contracts.ts';
import { MemoryJournal } from '../gateway/journal/memory.ts';
import { ingestMessage } from '../gateway/mqtt/ingest.ts';
import { Pipeline } from '../gateway/pipeline/pipeline.ts';
import { LowRegistry } from '../gateway/registry/index.ts';
import { encodeReading, sampleReading } from '../simulators/mqtt/payloads.ts';
import { provision } from './ingest.ts';
import { envInt, ratio, round, silentLog } from './ingest-common.ts';
import { type BenchRow, throughput, throughputAsync } from './results.ts';

/** Distinct payloads cycled through, so no value is constant-folded or cached by accident. */
const PAYLOADS = 256;

/** The gateway side without sockets or storage: every append is answered at once as stored. */
async function ingestSide(): Promise<{ deviceId: string; pipeline: Pipeline }> {
  const registry = await LowRegistry.memory();
  const fleet = await provision(registry, 1, 'bench-cpu');
  const clock = { now: () => Date.now() };
  const pipeline = new Pipeline({
    journal: new MemoryJournal({ clock }),
    registry,
    clock,
    log: silentLog,
    commits: {
      append: async (readings: readonly NewReading[]) => ({
        accepted: readings.map((r) => r.id),
        duplicates: [],
      }),
      counters: () => ({ batches: 0, items: 0 }),
    },
  });
  await pipeline.start();
  return { deviceId: fleet.ids[0] as string, pipeline };
}

export async function ingestCpuBench(ms = envInt('MEDGW_BENCH_INGEST_CPU_MS', 1500)): Promise<BenchRow[]> {
  const { deviceId, pipeline } = await ingestSide();
  const ctx = { sink: pipeline, log: silentLog };
  // readings an hour to a few days old: plausible, none in the future
  const base = Date.now() - (PAYLOADS + 60) * 60_000;
  const readings = Array.from({ length: PAYLOADS }, (_, i) =>
    sampleReading('blood-pressure', i, base + i * 60_000),
  );
  const json = readings.map((r) => encodeReading('json', r));
  const reference = () => {
    let i = 0;
    return () => {
      const bytes = json[i++ % PAYLOADS]!;
      JSON.parse(bytes.toString('utf8'));
      return createHash('sha256').update(bytes).digest('hex');
    };
  };
  const byEncoding: Record<string, { value: number; ratio: number; usPerMessage: number }> = {};
  let usSum = 0;
  let refUsSum = 0;
  for (const encoding of PAYLOAD_ENCODINGS) {
    const payloads = readings.map((r) => encodeReading(encoding, r));
    let i = 0;
    const one = async () => {
      const { receipt } = await ingestMessage(ctx, deviceId, encoding, payloads[i++ % PAYLOADS]!);
      if (receipt.status !== 'accepted' || receipt.code !== null) {
        throw new Error(`ingest-cpu bench: a reading was not accepted (${receipt.code})`);
      }
    };
    const ref = reference();
    // Alternate short rounds of both so a change of machine load hits both sides of the ratio alike.
    const rounds = 5;
    let value = 0;
    let refValue = 0;
    for (let k = 0; k < rounds; k++) {
      value += (await throughputAsync(one, ms / rounds)) / rounds;
      refValue += throughput(ref, ms / rounds) / rounds;
    }
    byEncoding[encoding] = {
      value: round(value),
      ratio: ratio(value, refValue),
      usPerMessage: round(1e6 / value),
    };
    usSum += 1e6 / value;
    refUsSum += 1e6 / refValue;
  }
  // An even mix of the three encodings: messages/s from the mean cost of one message.
  const n = PAYLOAD_ENCODINGS.length;
  const value = (1e6 * n) / usSum;
  const refValue = (1e6 * n) / refUsSum;
  const rows: BenchRow[] = [
    {
      name: 'ingest-cpu',
      value: round(value),
      unit: 'messages/s',
      reference: { name: 'JSON.parse of the same JSON payload + one SHA-256 of it', value: round(refValue) },
      ratio: ratio(value, refValue),
      usPerMessage: round(usSum / n),
      encodings: byEncoding,
    },
  ];
  for (const [encoding, e] of Object.entries(byEncoding)) {
    console.log(
      `  ingest-cpu ${encoding.padEnd(9)} ${String(e.value).padStart(8)} messages/s  ${e.usPerMessage} µs/message  ratio ${e.ratio}`,
    );
  }
  await pipeline.stop();
  return rows;
}
