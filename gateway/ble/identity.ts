/**
 * Identity and time on a BLE connection: Device Information (DIS) into the registry identity, the
 * Battery Level (BAS), and the device clock (CTS: coincident timestamp, clock set where writable,
 * read again). Each reads through the link; a value the device sends malformed is left out with its
 * code, never its value.
 */
import { decodeCurrentTime } from '../../drivers/codecs/current-time.ts';
import { decodeLocalTimeInformation } from '../../drivers/codecs/local-time-information.ts';
import { decodeSystemId } from '../../drivers/codecs/system-id.ts';
import { decodeUdi } from '../../drivers/codecs/udi.ts';
import type { CoincidentTime, DeviceUdi } from '../../drivers/types.ts';
import { ERROR_CATALOGUE, isMedgwError, MedgwError } from '../../kernel/errors.ts';
import type { Clock, DeviceIdentity, Registry } from '../contracts.ts';
import type { Logger } from '../log.ts';
import type { Link } from './link.ts';
import { currentTimeFor, type SessionTimes } from './time.ts';

export interface IdentityContext {
  readonly link: Link;
  readonly deviceId: string;
  /** The peripheral's address, when the stack reports one. */
  readonly address: string;
  readonly quirks: ReadonlySet<string>;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timeZone: string;
}

/**
 * Device Information (DIS v1.1, and UDI from DIS v1.2) → the registry identity. The System ID becomes
 * the canonical EUI-64 (drivers/codecs/system-id.ts); the system id keys the reading ids.
 */
export async function readIdentity(ctx: IdentityContext): Promise<void> {
  const { link } = ctx;
  const text = async (uuid: string) => {
    const b = await link.read('180A', uuid);
    const s = b?.toString('utf8').replace(/\0+$/, '').trim();
    return s ? s : undefined;
  };
  const found: DeviceIdentity = {
    address: ctx.address || ctx.deviceId,
    ...opt('manufacturer', await text('2A29')),
    ...opt('model', await text('2A24')),
    ...opt('serial', await text('2A25')),
    ...opt('firmware', await text('2A26')),
    ...opt('hardware', await text('2A27')),
    ...opt('software', await text('2A28')),
    ...opt(
      'systemId',
      decodeIdentity(ctx, '2A23', await link.read('180A', '2A23'), (b) => decodeSystemId(b, ctx.quirks))
        ?.eui64,
    ),
    ...optUdi(decodeIdentity(ctx, '2BFF', await link.read('180A', '2BFF'), decodeUdi)),
  };
  const device = ctx.registry.getDevice(ctx.deviceId);
  if (!device) {
    throw new MedgwError(
      'MEDGW_ERR_REGISTRY_UNKNOWN',
      `device ${ctx.deviceId} left the registry while connected`,
    );
  }
  const identity = { ...device.identity, ...found };
  if (JSON.stringify(identity) !== JSON.stringify(device.identity ?? {})) {
    await ctx.registry.putDevice({ ...device, identity });
  }
}

/** A Device Information value the device sent malformed is left out (logged with its code, never its value). */
function decodeIdentity<T>(
  ctx: IdentityContext,
  uuid: string,
  bytes: Buffer | undefined,
  decode: (b: Uint8Array) => T,
): T | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return decode(bytes);
  } catch (e) {
    if (!isMedgwError(e)) throw e;
    ctx.log.warn(
      { code: e.code },
      `the device sent a Device Information 0x${uuid} the gateway cannot use: left out`,
    );
    return undefined;
  }
}

/**
 * Battery Level 0x2A19 of the Battery Service 0x180F when the device has it (BAS 1.0 §3.1: uint8,
 * percent, 101-255 reserved). A missing service, a refused read or a reserved value leaves it unknown.
 */
export async function readBattery(ctx: IdentityContext): Promise<number | undefined> {
  let b: Buffer | undefined;
  try {
    b = await ctx.link.read('180F', '2A19');
  } catch (e) {
    if (isMedgwError(e) && e.code !== 'MEDGW_ERR_BLE_ATT') throw e;
    ctx.log.info({ code: 'MEDGW_ERR_BLE_ATT' }, 'the device refused the Battery Level read');
    return undefined;
  }
  if (!b || b.length < 1) return undefined;
  const percent = b.readUInt8(0);
  if (percent > 100) {
    ctx.log.warn('the device sent a reserved Battery Level value (above 100 %): ignored');
    return undefined;
  }
  return percent;
}

/**
 * Local Time Information 0x2A0F (CTS v1.1 §3.2, optional): a known DST offset says the device keeps
 * summer time itself, so its stored times are civil times of their date (drivers/normalize/time.ts).
 */
async function readDstOffset(ctx: IdentityContext): Promise<number | undefined> {
  try {
    const b = await ctx.link.read('1805', '2A0F');
    return b ? decodeLocalTimeInformation(b).dstOffsetMinutes : undefined;
  } catch (e) {
    if (isMedgwError(e) && e.code === 'MEDGW_ERR_BLE_ATT') return undefined;
    // A link failure (any BLE-area code) ends the session; a malformed value is only ignored.
    if (!isMedgwError(e) || ERROR_CATALOGUE[e.code].area === 'ble') throw e;
    ctx.log.warn({ code: e.code }, 'unreadable Local Time Information value: ignored');
    return undefined;
  }
}

/** Current Time (CTS v1.1): read beside the gateway clock, write the gateway time, read again. */
export async function readClock(ctx: IdentityContext): Promise<SessionTimes> {
  const { link } = ctx;
  const dstOffsetMinutes = await readDstOffset(ctx);
  const keepsSummerTime = dstOffsetMinutes !== undefined ? { dstOffsetMinutes } : {};
  const readNow = async (): Promise<CoincidentTime | undefined> => {
    const b = await link.read('1805', '2A2B');
    if (!b) return undefined;
    const gatewayMs = ctx.clock.now();
    try {
      return { device: decodeCurrentTime(b).dateTime, gatewayMs, ...keepsSummerTime };
    } catch (e) {
      ctx.log.warn({ code: isMedgwError(e) ? e.code : 'unexpected' }, 'unreadable Current Time value');
      return undefined;
    }
  };
  const before = await readNow();
  const times: SessionTimes = before ? { before } : {};
  if (!link.allows('1805', '2A2B', 'write')) {
    ctx.log.info('the device clock cannot be set (Current Time is not writable): readings are corrected');
    return times;
  }
  try {
    await link.write('1805', '2A2B', currentTimeFor(ctx.clock.now(), ctx.timeZone));
  } catch (e) {
    if (isMedgwError(e) && e.code !== 'MEDGW_ERR_BLE_ATT') throw e;
    ctx.log.warn({ code: 'MEDGW_ERR_BLE_ATT' }, 'the device refused the Current Time write');
    return times;
  }
  const after = await readNow();
  return after ? { ...times, after: { ...after, deviceClockSet: true } } : times;
}

function opt<K extends string>(key: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: string };
}

function optUdi(udi: DeviceUdi | undefined): { udi?: DeviceUdi } {
  return udi && Object.keys(udi).length > 0 ? { udi } : {};
}
