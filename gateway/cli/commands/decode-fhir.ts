/**
 * `medgw decode … --fhir`: the transaction Bundle each reading of a frame would become, for a test patient
 * and a test pairing, so integrators and device makers see what their device turns into in Mon espace
 * santé. The steps are the gateway's own: normalize (drivers), reading id, buildBundle (cloud-bridge).
 *
 * One element per reading the national side would be sent (a blood-pressure frame with a pulse gives
 * two): a Bundle, or `{"quarantine": {code, reason}}` for a reading the gateway would hold. Readings that
 * always stay local (BMI, height) and frames that carry none (a control point, an intermediate cuff
 * pressure) give no element.
 */
import { PROFILE_GENERATIONS, type ProfileGeneration } from '../../../cloud-bridge/biology-bundle.ts';
import { buildBundle } from '../../../cloud-bridge/bundle.ts';
import { toFhirJson } from '../../../cloud-bridge/fhir-json.ts';
import { eui64FromWireHex } from '../../../drivers/codecs/system-id.ts';
import { fromCalendarMs } from '../../../drivers/datetime.ts';
import { normalize } from '../../../drivers/normalize/index.ts';
import { zoneOffsetMinutes } from '../../../drivers/normalize/time.ts';
import { parseHex } from '../../../drivers/reader.ts';
import { readingId } from '../../../drivers/reading-id.ts';
import type { CoincidentTime, DeviceIdentity, Measurement } from '../../../drivers/types.ts';
import { VOCABULARY } from '../../../drivers/vocabulary.ts';
import { isMedgwError, MedgwError } from '../../../kernel/errors.ts';
import { loadConfig } from '../../config/load.ts';

/** The test patient and pairing every `--fhir` Bundle is addressed to (the sandbox's defaults). */
export const DECODE_TEST = {
  solutionOid: '2.25.71922510045900526679301521263764504793',
  patient: { idPe: 'TEST-IDPE-0001', oid: '2.25.223577281493925814735310533247560057336' },
  deviceId: 'decode-device',
} as const;

export interface FhirOptions {
  /** DIS System ID 0x2A23 as the device sends it (hex, least significant octet first). */
  readonly systemIdHex?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  /** IANA zone of the device clock. */
  readonly timeZone: string;
  /** The instant the gateway read the device clock and received the frame; the clock is taken as right then. */
  readonly nowMs: number;
  /** Which contract shapes a glucose Bundle (config national.profileGeneration); default mes-1.5.2. */
  readonly generation?: ProfileGeneration;
}

/**
 * The profile generation of `--generation`, else the one the gateway reads from its environment
 * (MEDGW_NATIONAL_PROFILE_GENERATION, checked by the configuration schema), else the default.
 */
export function decodeGeneration(option: string | undefined, env: NodeJS.ProcessEnv): ProfileGeneration {
  if (option !== undefined) {
    const known = PROFILE_GENERATIONS.find((g) => g === option);
    if (!known) {
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `--generation ${option} is not one of ${PROFILE_GENERATIONS.join(', ')}`,
      );
    }
    return known;
  }
  const fromEnv = env.MEDGW_NATIONAL_PROFILE_GENERATION;
  return loadConfig({ env: fromEnv ? { MEDGW_NATIONAL_PROFILE_GENERATION: fromEnv } : {} }).national
    .profileGeneration;
}

/** The PhdDevice identity the options describe; a System ID that is not one is refused with its code. */
export function decodeIdentity(o: FhirOptions): DeviceIdentity {
  let systemId: string | undefined;
  if (o.systemIdHex !== undefined) {
    const hex = Buffer.from(parseHex(o.systemIdHex)).toString('hex');
    systemId = eui64FromWireHex(hex);
    if (!systemId) {
      throw new MedgwError(
        'MEDGW_ERR_USAGE',
        `--system-id ${o.systemIdHex} is not a DIS System ID (8 bytes, least significant octet first, not all zeros or ones)`,
      );
    }
  }
  return {
    ...(systemId ? { systemId } : {}),
    ...(o.manufacturer ? { manufacturer: o.manufacturer } : {}),
    ...(o.model ? { model: o.model } : {}),
  };
}

const quarantined = (code: string, reason: string) => JSON.stringify({ quarantine: { code, reason } });

/** The device clock read at `nowMs` showing the civil time of `timeZone`: a coincident timestamp with no drift. */
function rightClockAt(nowMs: number, timeZone: string): CoincidentTime {
  return { device: fromCalendarMs(nowMs + zoneOffsetMinutes(timeZone, nowMs) * 60_000), gatewayMs: nowMs };
}

/**
 * What each forwarded reading of these measurements becomes, as JSON text (the FHIR writer keeps the
 * device's decimals, 98.0 stays 98.0): a Bundle, or `{"quarantine": …}`.
 */
export function readingsAsFhir(measurements: readonly Measurement[], o: FhirOptions): string[] {
  const identity = decodeIdentity(o);
  const coincident = rightClockAt(o.nowMs, o.timeZone);
  const out: string[] = [];
  for (const m of measurements) {
    const observations = normalize(m, {
      coincident,
      timeZone: o.timeZone,
      nowMs: o.nowMs,
      receivedMs: o.nowMs,
    });
    for (const observation of observations) {
      if (!VOCABULARY[observation.kind].forwarded) continue;
      if (observation.quarantine) {
        out.push(quarantined(observation.quarantine.code, observation.quarantine.reason));
        continue;
      }
      const id = readingId({
        ...(identity.systemId ? { systemId: identity.systemId } : {}),
        deviceId: DECODE_TEST.deviceId,
        kind: observation.kind,
        measurement: m,
      });
      try {
        const bundle = buildBundle(
          {
            id,
            observation,
            device: { id: DECODE_TEST.deviceId, identity },
            patient: DECODE_TEST.patient,
          },
          { solutionOid: DECODE_TEST.solutionOid, generation: o.generation },
        );
        out.push(toFhirJson(bundle));
      } catch (e) {
        if (!isMedgwError(e)) throw e;
        out.push(quarantined(e.code, e.message));
      }
    }
  }
  return out;
}

/** One frame's array: `[]`, or its elements one per line (`oneLine`: all on one line, for --jsonl). */
export function fhirArray(elements: readonly string[], oneLine = false): string {
  if (elements.length === 0) return '[]';
  return oneLine ? `[${elements.join(',')}]` : `[\n${elements.join(',\n')}\n]`;
}
