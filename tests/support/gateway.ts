/**
 * Real `medgw` processes for tests, each in its own process group (`detached`), killed by group:
 * - `runMedgw`: one command (`medgw devices add …`), resolved with its status and output;
 * - `spawnGateway`: a `medgw start` (or a test gateway script run through bin/run.mjs) that resolves
 *   once it printed its start-up banner, with the endpoints it listed, `kill(signal)` for crash tests
 *   and `stop()` for an orderly SIGTERM.
 * - `startMedgw`: `medgw start` on a hermetic environment (no `MEDGW_*` setting of the machine running the
 *   tests) that the test follows by its output (first starts, failed starts, what it writes).
 * `killAllGateways()` in teardown leaves no process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Environment for a child: the test's own, without a config file unless the test names one. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, MEDGW_CONFIG: '', ...env };
}

/**
 * Runs the real `medgw` bin once; `input` goes to its stdin (then closed, unless `keepStdinOpen`: a
 * command that reads lines while it waits); `onLine` sees each stdout line as it comes.
 */
export function runMedgw(
  args: readonly string[],
  options: {
    env?: Record<string, string | undefined>;
    input?: string;
    keepStdinOpen?: boolean;
    onLine?: (line: string, child: ChildProcess) => void;
  } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/medgw.mjs', ...args], {
      env: childEnv(options.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    if (options.onLine) {
      const onLine = options.onLine;
      createInterface({ input: child.stdout }).on('line', (line) => onLine(line, child));
    }
    child.stdout.on('data', (b) => {
      stdout += String(b);
    });
    child.stderr.on('data', (b) => {
      stderr += String(b);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      running.delete(child);
      child.stdin.destroy();
      resolve({ code: code ?? 1, stdout, stderr });
    });
    if (options.input) child.stdin.write(options.input);
    if (!options.keepStdinOpen) child.stdin.end();
  });
}

export interface SpawnedGateway {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Endpoints from the banner, by name: 'admin API', 'MQTT external broker (group medgw)'… */
  readonly endpoints: ReadonlyMap<string, string>;
  /** Everything it wrote so far (stdout and stderr), for a failing test's message. */
  output(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Sends `signal` to its process group (SIGKILL: a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
  /** Orderly stop: SIGTERM, then the exit. */
  stop(): Promise<number | NodeJS.Signals>;
}

/**
 * Starts `medgw start …` (default) or `node bin/run.mjs <script> …` and resolves once the banner
 * ("Press Ctrl+C to stop." for medgw start, or a line `ready` for a script) was printed; rejects with
 * its output when it exits first or does not start within `timeoutMs`.
 */
export function spawnGateway(options: {
  args: readonly string[];
  env?: Record<string, string | undefined>;
  /** A script run through bin/run.mjs instead of the medgw bin. */
  script?: string;
  timeoutMs?: number;
}): Promise<SpawnedGateway> {
  const argv = options.script
    ? ['bin/run.mjs', options.script, ...options.args]
    : ['bin/medgw.mjs', 'start', ...options.args];
  const child = spawn(process.execPath, argv, {
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let said = '';
  const endpoints = new Map<string, string>();
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 1);
    });
  });
  child.stderr?.on('data', (b: Buffer) => {
    said += b.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`the gateway did not start within ${options.timeoutMs ?? 60_000} ms:\n${said}`));
    }, options.timeoutMs ?? 60_000);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${how}) before it started:\n${said}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      said += `${line}\n`;
      // banner lines: "  <name padded to 14>  <url>"
      const m = /^ {2}(\S.*?)\s{2,}(\S+)$/.exec(line);
      if (m?.[1] && m[2] && !line.trimStart().startsWith('{')) endpoints.set(m[1].trim(), m[2]);
      if (line === 'Press Ctrl+C to stop.' || line === 'ready') {
        clearTimeout(timer);
        const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
          killGroup(child, signal);
          return exited;
        };
        resolve({
          child,
          pid: child.pid ?? 0,
          endpoints,
          output: () => said,
          exited,
          kill,
          stop: () => kill('SIGTERM'),
        });
      }
    });
  });
}

export interface MedgwProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved as they came. */
  output(): string;
  /** Its exit code, or null when a signal ended it. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` to its process group (SIGINT: Ctrl+C in the terminal). */
  signal(signal: NodeJS.Signals): void;
  /** Sends SIGTERM to its process group and waits for the exit. */
  stop(): Promise<number | null>;
  /** Resolves once `probe(output)` holds; rejects with the output when it exits first or after `ms`. */
  waitFor(what: string, probe: (output: string) => boolean, ms?: number): Promise<void>;
}

/**
 * `node [nodeArgs] bin/medgw.mjs start <args>` in its own process group, on the test's environment
 * without any `MEDGW_*` variable (plus `env`), from the project root.
 */
export function startMedgw(
  args: readonly string[],
  options: { env?: Record<string, string>; nodeArgs?: readonly string[] } = {},
): MedgwProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MEDGW_')));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'bin/medgw.mjs', 'start', ...args], {
    cwd: ROOT,
    env: { ...base, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let out = '';
  const add = (b: Buffer) => {
    out += b.toString('utf8');
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const signal = (sig: NodeJS.Signals) => killGroup(child, sig);
  return {
    child,
    output: () => out,
    exited,
    signal,
    stop: () => {
      signal('SIGTERM');
      return exited;
    },
    async waitFor(what, probe, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (!probe(out)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`medgw start exited before ${what}; output:\n${out}`);
        }
        if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Kills every process these helpers started and that still runs (teardown). */
export async function killAllGateways(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of running) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    waits.push(new Promise((r) => child.once('exit', r)));
    killGroup(child, 'SIGKILL');
  }
  await Promise.all(waits);
  running.clear();
}
