/** The private bus of the D-Bus tests: a missing dbus-daemon fails with the package to install. */
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateBus } from '../../simulators/bluez/daemon.ts';

afterEach(() => {
  delete process.env.MEDGW_DBUS_DAEMON;
});

describe('private dbus-daemon', () => {
  it('fails with MEDGW_ERR_SIM_DBUS naming the Debian package when dbus-daemon is missing', async () => {
    process.env.MEDGW_DBUS_DAEMON = '/nonexistent/dbus-daemon';
    const e = await startPrivateBus().then(
      () => undefined,
      (x: unknown) => x as { code?: string; message?: string },
    );
    expect(e?.code).toBe('MEDGW_ERR_SIM_DBUS');
    expect(e?.message).toContain('install the Debian package dbus');
  });

  it('starts on a socket of its own and stops without leaving the daemon running', async () => {
    const bus = await startPrivateBus();
    expect(bus.address).toMatch(/^unix:path=.*\/bus,guid=[0-9a-f]+$/);
    await bus.stop();
    expect(() => process.kill(bus.pid, 0)).toThrow();
  });
});
