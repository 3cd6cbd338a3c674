import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { createBleCentral, resolveBleMode } from './index.ts';
import { type AdapterProbe, decideBleMode, kernelAdapters, type ProbeResult, systemProbe } from './probe.ts';

function probe(adapters: string[], bluez: ProbeResult, hci: ProbeResult) {
  const calls: string[] = [];
  const p: AdapterProbe = {
    adapters: () => adapters,
    bluez: async () => {
      calls.push('bluez');
      return bluez;
    },
    hciSocket: (devId) => {
      calls.push(`hci${devId}`);
      return hci;
    },
  };
  return { p, calls };
}
const yes = (detail: string): ProbeResult => ({ ok: true, detail });
const no = (reason: string): ProbeResult => ({ ok: false, reason });

describe('ble.mode auto: the decision', () => {
  it('runs on the virtual radio without asking anything when the kernel lists no adapter', async () => {
    const { p, calls } = probe([], yes('hci0'), yes('up'));
    expect(await decideBleMode(p)).toEqual({
      mode: 'sim',
      reason: 'no Bluetooth adapter on this machine',
      adapters: [],
    });
    expect(calls).toEqual([]);
  });

  it('prefers BlueZ over D-Bus when it answers with an adapter', async () => {
    const { p, calls } = probe(['hci0'], yes('hci0'), yes('up'));
    const d = await decideBleMode(p);
    expect(d.mode).toBe('dbus');
    expect(d.reason).toContain('BlueZ answers with adapter hci0');
    expect(calls).toEqual(['bluez']);
  });

  it('falls back to the raw HCI socket of the first adapter when BlueZ does not answer', async () => {
    const { p, calls } = probe(['hci1', 'hci2'], no('does not answer (ENOENT)'), yes('adapter up'));
    const d = await decideBleMode(p);
    expect(d).toMatchObject({ mode: 'hci', adapters: ['hci1', 'hci2'] });
    expect(d.reason).toContain('raw HCI socket opens on hci1');
    expect(calls).toEqual(['bluez', 'hci1']);
  });

  it('uses the virtual radio, saying why, when an adapter is present but neither way is usable', async () => {
    const { p } = probe(['hci0'], no('does not answer (ENOENT)'), no('refused (EPERM)'));
    const d = await decideBleMode(p);
    expect(d.mode).toBe('sim');
    expect(d.reason).toBe(
      'hci0 present but not usable: BlueZ does not answer (ENOENT); HCI socket refused (EPERM)',
    );
  });
});

describe('resolveBleMode: one log line saying which and why', () => {
  function logged() {
    const lines: { mode?: string; msg: string; component?: string }[] = [];
    const log = createLogger({
      level: 'info',
      destination: { write: (s: string) => lines.push(JSON.parse(s)) } as unknown as NodeJS.WritableStream,
    });
    return { log, lines };
  }

  it('auto with an injected probe: the decided mode and its reason, in one line', async () => {
    const { log, lines } = logged();
    const config = loadConfig({ overrides: {} });
    expect(config.ble.mode).toBe('auto');
    const { p } = probe(['hci0'], no('does not answer'), no('refused (EPERM)'));
    expect(await resolveBleMode({ config, log }, p)).toBe('sim');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ component: 'ble', mode: 'sim' });
    expect(lines[0]?.msg).toContain('virtual radio');
    expect(lines[0]?.msg).toContain('(ble.mode: auto): hci0 present but not usable');

    const other = logged();
    const dbus = probe(['hci0'], yes('hci0'), no('x')).p;
    expect(await resolveBleMode({ config, log: other.log }, dbus)).toBe('dbus');
    expect(other.lines).toHaveLength(1);
    expect(other.lines[0]?.msg).toContain('real adapter through dbus (ble.mode: auto)');
  });

  it('an explicit mode is kept whatever the probe says, and the line tells of a present adapter', async () => {
    const { log, lines } = logged();
    const config = loadConfig({ overrides: { 'ble.mode': 'sim' } });
    const { p, calls } = probe(['hci0'], yes('hci0'), yes('up'));
    expect(await resolveBleMode({ config, log }, p)).toBe('sim');
    expect(calls).toEqual([]);
    expect(lines[0]?.msg).toContain('this machine has hci0');
  });

  it('createBleCentral refuses an unresolved auto', async () => {
    const config = loadConfig({ overrides: {} });
    await expect(
      createBleCentral(
        { config, log: createLogger({ level: 'silent' }) } as Parameters<typeof createBleCentral>[0],
        { accept: async () => [] } as unknown as Parameters<typeof createBleCentral>[1],
      ),
    ).rejects.toThrow(expect.objectContaining({ code: 'MEDGW_ERR_START_FAILED' }));
  });

  it('the system probe answers on this machine without throwing', async () => {
    const adapters = systemProbe.adapters();
    expect(adapters).toEqual(kernelAdapters());
    const d = await decideBleMode(systemProbe, 500);
    expect(['sim', 'hci', 'dbus']).toContain(d.mode);
    expect(d.reason.length).toBeGreaterThan(0);
  });
});
