/**
 * CPU cost of one MQTT message on the gateway's main thread, without broker or journal: payload decode
 * (drivers/mqtt decodePayload) → normalize → one reading id per observation: the calls the
 * pipeline's `prepare` makes per measurement (gateway/pipeline/pipeline.ts). Blood-pressure readings
 * (a panel and a heart rate: two ids) in each encoding, beside JSON.parse of the same JSON payload plus
 * one SHA-256 of it, measured in the same run; ratio = ingest / reference. Row `ingest-cpu`: an even
 * mix of the three encodings, with each encoding's figures under `encodings`.
 */
import { createHash } from 'node:crypto';
import { decodePayload, PAYLOAD_ENCODINGS } from '../drivers/mqtt/index.ts';
import { type NormalizeOptions, normalize } from '../drivers/normalize/index.ts';
import { readingId } from '../drivers/reading-id.ts';
import type { Measurement, Observation } from '../drivers/types.ts';
import { encodeReading, sampleReading } from '../simulators/mqtt/payloads.ts';
import { envInt, ratio, round } from './ingest-common.ts';
import { type BenchRow, throughput } from './results.ts';

const DEVICE_ID = 'bench-mqtt-device';
/** Distinct payloads cycled through, so no value is constant-folded or cached by accident. */
const PAYLOADS = 256;

/** One message as the gateway handles it between the broker hook and the journal append. */
function ingestOne(encoding: (typeof PAYLOAD_ENCODINGS)[number], bytes: Uint8Array, nowMs: number): number {
  const sent: Measurement = decodePayload(encoding, bytes).measurement;
  const m: Measurement =
    sent.sequence === undefined && sent.deviceTime === undefined ? { ...sent, sequence: nowMs } : sent;
  const options: NormalizeOptions = { nowMs };
  const observations = normalize(m, options);
  let ids = 0;
  for (const normalized of observations) {
    const time =
      normalized.time.utc === undefined && m.deviceTime === undefined
        ? { ...normalized.time, utc: new Date(nowMs).toISOString() }
        : normalized.time;
    const { quarantine, ...rest } = normalized;
    const observation: Observation = { ...rest, time, ...(quarantine ? { quarantine } : {}) };
    const id = readingId({ deviceId: DEVICE_ID, kind: observation.kind, measurement: m });
    ids += id.length;
  }
  return ids;
}

export function ingestCpuBench(ms = envInt('MEDGW_BENCH_INGEST_CPU_MS', 1500)): BenchRow[] {
  const base = Date.UTC(2026, 10, 22, 7, 0, 0);
  const nowMs = base + PAYLOADS * 60_000 + 3_600_000;
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
    const one = () => ingestOne(encoding, payloads[i++ % PAYLOADS]!, nowMs);
    const ref = reference();
    // Alternate short rounds of both so a change of machine load hits both sides of the ratio alike.
    const rounds = 5;
    let value = 0;
    let refValue = 0;
    for (let k = 0; k < rounds; k++) {
      value += throughput(one, ms / rounds) / rounds;
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
  return rows;
}
