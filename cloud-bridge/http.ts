/**
 * Minimal HTTP/1.1 client over node:http(s) with a keep-alive agent and a concurrency limit: every
 * call to the national side goes through one `HttpPool`, so connections are reused and at most
 * `maxConcurrency` requests are in flight.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

export class HttpPool {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #max: number;
  readonly #timeoutMs: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: { maxConcurrency?: number; timeoutMs?: number } = {}) {
    this.#max = Math.max(1, options.maxConcurrency ?? 4);
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#http = new http.Agent({ keepAlive: true, maxSockets: this.#max });
    this.#https = new https.Agent({ keepAlive: true, maxSockets: this.#max });
  }

  get inFlight(): number {
    return this.#active;
  }

  async request(
    url: URL,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ): Promise<HttpAnswer> {
    await this.#acquire();
    try {
      return await this.#send(url, init);
    } finally {
      this.#release();
    }
  }

  #send(
    url: URL,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    const lib = secure ? https : http;
    return new Promise((resolve, reject) => {
      const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
      const req = lib.request(
        url,
        {
          method: init.method,
          agent: secure ? this.#https : this.#http,
          headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
          timeout: this.#timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async #acquire(): Promise<void> {
    if (this.#active < this.#max) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
