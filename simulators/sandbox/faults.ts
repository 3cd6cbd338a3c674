/**
 * Fault injection on the measurements API (docs/sandbox.md, Faults): 5xx answers, 429 with Retry-After,
 * added latency, dropped connections, short token lifetimes. A fault with `times` is used up after
 * that many requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

export const faultsSchema = z
  .object({
    status: z
      .object({ code: z.number().int().min(500).max(599), times: z.number().int().positive().optional() })
      .strict(),
    rateLimit: z
      .object({ retryAfterSeconds: z.number().int().min(0), times: z.number().int().positive().optional() })
      .strict(),
    latencyMs: z.number().int().min(0).max(60_000),
    drop: z.object({ times: z.number().int().positive().optional() }).strict(),
    accessTokenTtlSeconds: z.number().int().positive(),
    idTokenTtlSeconds: z.number().int().positive(),
  })
  .partial()
  .strict();

export type Faults = z.infer<typeof faultsSchema>;

/** The faults in force, and the answer they give a request to /fhir. */
export class FaultInjector {
  #faults: Faults;

  constructor(initial: Faults) {
    this.#faults = initial;
  }

  get current(): Faults {
    return this.#faults;
  }

  /** Adds or replaces faults (already validated). */
  merge(f: Faults): Faults {
    this.#faults = { ...this.#faults, ...f };
    return this.#faults;
  }

  clear(): Faults {
    this.#faults = {};
    return this.#faults;
  }

  /**
   * Applies the faults in force to one request to /fhir: waits the latency, then drops the connection
   * or answers the injected status; returns true when the request was answered (or dropped) here.
   */
  async answer(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const latency = this.#faults.latencyMs;
    if (latency) await new Promise((r) => setTimeout(r, latency));
    if (this.#take('drop')) {
      req.socket.destroy();
      return true;
    }
    const status = this.#take('status');
    if (status) {
      req.resume();
      res.writeHead(status.code, { 'content-type': 'application/fhir+json; charset=utf-8' });
      res.end(operationOutcome('transient', `Service unavailable (sandbox fault ${status.code}).`));
      return true;
    }
    const limit = this.#take('rateLimit');
    if (limit) {
      req.resume();
      res.writeHead(429, {
        'content-type': 'application/fhir+json; charset=utf-8',
        'retry-after': String(limit.retryAfterSeconds),
      });
      res.end(operationOutcome('throttled', 'Too many requests (sandbox fault 429).'));
      return true;
    }
    return false;
  }

  /** The fault of this key if any, one of its `times` used up. */
  #take<K extends 'status' | 'rateLimit' | 'drop'>(key: K): Faults[K] | undefined {
    const f = this.#faults[key];
    if (!f) return undefined;
    if (f.times !== undefined) {
      const left = f.times - 1;
      this.#faults =
        left > 0 ? { ...this.#faults, [key]: { ...f, times: left } } : { ...this.#faults, [key]: undefined };
    }
    return f;
  }
}

function operationOutcome(code: string, diagnostics: string): string {
  return JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics }],
  });
}
