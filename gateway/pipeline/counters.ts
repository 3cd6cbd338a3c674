/** What the pipeline counts for operators: outcomes of every reading, by code where one applies. */
export interface PipelineCounters {
  accepted: number;
  duplicate: number;
  /** Intermediate values (cuff pressure while inflating, unstable weight): counted, never stored. */
  intermediate: number;
  quarantined: Record<string, number>;
  /** CGM sensor values kept local for their summaries (journal state `local`): not readings to review. */
  local: number;
  rejected: Record<string, number>;
}

export function newCounters(): PipelineCounters {
  return { accepted: 0, duplicate: 0, intermediate: 0, quarantined: {}, local: 0, rejected: {} };
}

export function bump(map: Record<string, number>, code: string, by = 1): void {
  map[code] = (map[code] ?? 0) + by;
}
