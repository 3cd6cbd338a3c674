/**
 * What `medgw start` writes when its stdout is not a terminal (a service manager, a pipe): JSON log
 * lines only, never the admin password (it goes to a 0600 file of the data directory, the log says
 * where, and the first sign-in removes it), and the demo MQTT device named by its pseudonym only.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEMO_MQTT_DEVICE_ID } from '../../gateway/embedded/demo.ts';
import { shortId } from '../../gateway/log.ts';
import { killAllGateways, startMedgw } from '../support/gateway.ts';
import { Client } from '../web/harness.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'medgw-start-logs-'));
afterAll(async () => {
  await killAllGateways();
  rmSync(dataDir, { recursive: true, force: true });
});

it('keeps the admin password out of the output and the demo device id pseudonymised', async () => {
  const gw = startMedgw([
    '--data-dir',
    dataDir,
    '--mqtt-port',
    '0',
    '--http-port',
    '0',
    '--sandbox-port',
    '0',
  ]);
  try {
    await gw.waitFor(
      'a reading of the demo thermometer',
      (out) => out.includes('simulated MQTT thermometer: reading published') && /local pages +http/.test(out),
    );
    const out = gw.output();
    const file = join(dataDir, 'admin-password.txt');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').split('\n')[0] ?? '';
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(out).not.toContain(password);
    const logs = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.find((l) => l.path === file)?.msg).toMatch(/admin password .* written to this 0600 file/);
    // the demo MQTT device appears in the log lines by its pseudonym, never by its id
    const thermometer = logs.filter((l) => String(l.msg).startsWith('simulated MQTT thermometer'));
    expect(thermometer.length).toBeGreaterThanOrEqual(2);
    for (const l of thermometer) expect(l.device).toBe(shortId(DEMO_MQTT_DEVICE_ID));
    for (const l of logs) expect(JSON.stringify(l)).not.toContain(DEMO_MQTT_DEVICE_ID);
    // the password from the file signs in, and the file is gone afterwards
    const pages = /local pages +(http\S+)/.exec(out)?.[1] ?? '';
    await new Client(pages).login(password);
    expect(existsSync(file)).toBe(false);
  } finally {
    await gw.stop();
  }
}, 60_000);
