/**
 * A private D-Bus message bus for tests and demos: `dbus-daemon` (Debian package `dbus`) started
 * with a configuration generated in a temporary directory, listening on a Unix socket there, in its
 * own process group so that stopping it leaves nothing behind. The policy lets this user own
 * `org.bluez` (the fake BlueZ) and lets every connection call every other one, as the system bus
 * policy of BlueZ (/usr/share/dbus-1/system.d/bluetooth.conf) lets root and the `bluetooth` group do.
 *
 * Nothing here touches the machine's system bus: point a client at `address` (dbus-next
 * `systemBus()` honours DBUS_SYSTEM_BUS_ADDRESS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MedgwError } from '../../kernel/errors.ts';

export interface PrivateBus {
  /** The bus address (`unix:path=…,guid=…`), as dbus-daemon printed it. */
  readonly address: string;
  readonly dir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const DAEMON = '/usr/bin/dbus-daemon';

function config(dir: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=${join(dir, 'bus')}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <allow own="org.bluez"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;
}

/** Starts a private bus; fails with MEDGW_ERR_SIM_DBUS naming the package to install. */
export async function startPrivateBus(timeoutMs = 10_000): Promise<PrivateBus> {
  const daemon = process.env.MEDGW_DBUS_DAEMON ?? DAEMON;
  if (!existsSync(daemon)) {
    throw new MedgwError(
      'MEDGW_ERR_SIM_DBUS',
      `${daemon} is missing: install the Debian package dbus (apt-get install dbus)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'medgw-dbus-'));
  const file = join(dir, 'bus.conf');
  writeFileSync(file, config(dir));
  // A watchdog shell in the same process group ends the daemon and removes its directory when this
  // process is gone (a test worker killed on a timeout never reaches its teardown); stop() ends the
  // whole group.
  const watchdog = `"$0" --config-file="$1" --nofork --print-address=1 & d=$!
trap 'kill $d 2>/dev/null; rm -rf "$2"' EXIT INT TERM
while kill -0 ${process.pid} 2>/dev/null && kill -0 $d 2>/dev/null; do sleep 1; done`;
  const child: ChildProcess = spawn('/bin/sh', ['-c', watchdog, daemon, file, dir], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      kill('SIGKILL');
      reject(new MedgwError('MEDGW_ERR_SIM_DBUS', `dbus-daemon printed no address within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new MedgwError('MEDGW_ERR_SIM_DBUS', `dbus-daemon could not start: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new MedgwError('MEDGW_ERR_SIM_DBUS', `dbus-daemon exited (${code}): ${stderr.trim()}`));
    });
  }).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  child.stdout?.resume();
  return {
    address,
    dir,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        kill('SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
