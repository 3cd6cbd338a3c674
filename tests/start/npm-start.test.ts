/**
 * `npm start` on embedded defaults, end to end: the real `node bin/medgw.mjs start` process with no
 * configuration (only free ports and a temp data directory), its printed pairing instructions
 * followed by a scripted patient over HTTP in the embedded sandbox, then the readings of the
 * simulated BLE glucometer and cuff and of the simulated MQTT thermometer arriving in the sandbox
 * exactly once each, and a clean stop on SIGTERM.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { approveDeviceCode } from '../../simulators/sandbox/browser.ts';
import { killAllGateways, type MedgwProcess, startMedgw as startProcess } from '../support/gateway.ts';

interface Received {
  readonly id: string;
  readonly kind: string;
  readonly identifier: string;
  readonly idPe: string;
  readonly duplicateOf?: string;
}

interface Running extends MedgwProcess {
  readonly dataDir: string;
}

const running: Running[] = [];

function startMedgw(extra: string[] = [], dataDir = mkdtempSync(join(tmpdir(), 'medgw-start-'))): Running {
  const r: Running = {
    ...startProcess([
      '--data-dir',
      dataDir,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--sandbox-port',
      '0',
      ...extra,
    ]),
    dataDir,
  };
  running.push(r);
  return r;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  r?: Running,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen within ${ms} ms${r ? `; output:\n${r.output()}` : ''}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

function stop(r: Running): Promise<number | null> {
  return r.stop();
}

afterEach(async () => {
  await killAllGateways();
  for (const r of running.splice(0)) rmSync(r.dataDir, { recursive: true, force: true });
});

describe('medgw start on embedded defaults', () => {
  it('prints how to pair the demo patient; once approved, every simulated reading reaches the sandbox once', async () => {
    const r = startMedgw();
    const printed = await until(
      'the pairing instructions',
      () => {
        const out = r.output();
        const code = /and enter the code {2}(\S+)/.exec(out)?.[1];
        const sandbox = /^ {2}sandbox +(http:\/\/\S+)$/m.exec(out)?.[1];
        const verification = /^To pair the demo patient "demo".*\n {2}(http:\/\/\S+)$/m.exec(out)?.[1];
        const login = /sign in as the sandbox test identity {2}(\S+) {2}\(password: (\S+)\)/.exec(out);
        return code && sandbox && verification && login
          ? { code, sandbox, verification, login: login[1] ?? '', password: login[2] ?? '' }
          : undefined;
      },
      30_000,
      r,
    );
    const out = r.output();
    expect(out).toMatch(/^medgw is running/m);
    expect(out).toMatch(/^ {2}MQTT broker {5}mqtt:\/\/127\.0\.0\.1:\d+$/m);
    expect(printed.verification).toBe(`${printed.sandbox}/oidc/device`);
    expect(out).toContain(`${printed.sandbox}/_sandbox/observations`);
    // ble.mode auto (the default): one line says which radio and why
    expect(out.match(/\(ble\.mode: auto\)/g)).toHaveLength(1);
    expect(out).toMatch(
      /BLE runs on the virtual radio .*\(ble\.mode: auto\): (no Bluetooth adapter on this machine|hci\d+.* present but not usable)/,
    );
    // nothing secret in the output: no MQTT device secret, no token material
    expect(out).not.toMatch(/access_token|refresh_token|id_token|secretHash/);

    // before the patient consents, nothing leaves the gateway
    const before = (await (await fetch(`${printed.sandbox}/_sandbox/observations`)).json()) as Received[];
    expect(before).toEqual([]);

    // the person: opens the verification page, enters the code, signs in, consents to every kind
    await approveDeviceCode(printed.sandbox, printed.code, {
      login: printed.login,
      password: printed.password,
    });
    await until(
      'the "is paired" line',
      () => (/is paired; consented kinds: .*glucose/.test(r.output()) ? true : undefined),
      20_000,
      r,
    );

    const received = await until(
      'readings of the glucometer, the scale, the cuff and the MQTT thermometer in the sandbox',
      async () => {
        const list = (await (await fetch(`${printed.sandbox}/_sandbox/observations`)).json()) as Received[];
        const kinds = new Set(list.map((o) => o.kind));
        return kinds.has('glucose') &&
          kinds.has('weight') &&
          kinds.has('blood-pressure') &&
          kinds.has('temperature')
          ? list
          : undefined;
      },
      30_000,
      r,
    );
    // let anything that might still be in flight land, then check "exactly once" on the final list
    await new Promise((res) => setTimeout(res, 1500));
    const final = (await (await fetch(`${printed.sandbox}/_sandbox/observations`)).json()) as Received[];
    expect(final.length).toBeGreaterThanOrEqual(received.length);
    const byIdentifier = new Map<string, number>();
    for (const o of final) byIdentifier.set(o.identifier, (byIdentifier.get(o.identifier) ?? 0) + 1);
    expect([...byIdentifier.values()].every((n) => n === 1)).toBe(true);
    expect(final.filter((o) => o.duplicateOf !== undefined)).toEqual([]);
    // the simulated devices of gateway/ble/sim.ts: three stored glucometer records, one stored cuff
    // reading (blood pressure + its pulse); the scale's final weight of the demo user, held from start
    // (no BMI: the national side computes it); the thermometer's first reading, sent at start
    const count = (kind: string) => final.filter((o) => o.kind === kind).length;
    expect(count('glucose')).toBe(3);
    expect(count('weight')).toBe(1);
    expect(count('blood-pressure')).toBe(1);
    expect(count('heart-rate')).toBe(1);
    expect(count('temperature')).toBe(1);
    // all for the identity the person signed in with
    const identities = (await (await fetch(`${printed.sandbox}/_sandbox/identities`)).json()) as {
      login: string;
      idPe: string;
    }[];
    const idPe = identities.find((i) => i.login === printed.login)?.idPe;
    expect(idPe).toBeDefined();
    expect(new Set(final.map((o) => o.idPe))).toEqual(new Set([idPe]));

    // Ctrl+C (here SIGTERM): everything stops in order, exit code 0
    expect(await stop(r)).toBe(0);
    expect(r.output()).toMatch(/^medgw stopped \(SIGTERM\)$/m);
    // each log line names its component once (pino writes a child's binding and a call's key both)
    const logLines = r
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((line) => ({ line, o: JSON.parse(line) as { component?: string; msg?: string } }));
    expect(
      logLines.find(({ o }) => o.msg === 'demo patient paired with the embedded sandbox')?.o.component,
    ).toBe('demo');
    expect(logLines.filter(({ line }) => (line.match(/"component":/g) ?? []).length > 1)).toEqual([]);

    // a later start on the same data directory provisions nothing twice and prints a new code
    const again = startMedgw([], r.dataDir);
    await until(
      'the new pairing code',
      () => (/and enter the code {2}\S+/.test(again.output()) ? true : undefined),
      30_000,
      again,
    );
    expect(again.output()).toContain('demo patient and devices already provisioned');
    const admin = /^ {2}admin API +(http:\/\/\S+)$/m.exec(again.output())?.[1];
    expect(admin).toBeDefined();
    const token = readFileSync(join(r.dataDir, 'admin-token'), 'utf8').trim();
    const get = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${admin}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
    const { patients } = await get<{ patients: { id: string }[] }>('/patients');
    expect(patients.map((p) => p.id)).toEqual(['demo']);
    const { devices } = await get<{
      devices: { id: string; patientId?: string; driver?: string; hasSecret: boolean }[];
    }>('/devices');
    // the demo's BLE devices are seeded without a driver: each keeps the one its first sync used
    expect(devices.map((d) => [d.id, d.driver ?? null]).sort()).toEqual([
      ['C0:26:DA:00:00:01', 'roche-accu-chek-guide'],
      ['C0:26:DA:00:00:02', 'generic-weight-scale'],
      ['C0:26:DA:00:00:03', 'generic-blood-pressure'],
      ['demo-thermometer', null],
    ]);
    expect(devices.map((d) => [d.id, d.patientId]).sort()).toEqual([
      ['C0:26:DA:00:00:01', 'demo'],
      ['C0:26:DA:00:00:02', 'demo'],
      ['C0:26:DA:00:00:03', 'demo'],
      ['demo-thermometer', 'demo'],
    ]);
    // Ctrl+C in the terminal
    again.signal('SIGINT');
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/^medgw stopped \(SIGINT\)$/m);
    // no measured value in any log line of either run
    for (const text of [r.output(), again.output()]) expect(text).not.toMatch(/"(value|values)":\s*[-0-9{[]/);
  }, 60_000);
});
