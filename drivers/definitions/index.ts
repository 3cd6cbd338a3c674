/**
 * The driver registry: every definition, lookup by id, and the advertisement matcher (a specific model
 * definition before the generic profile driver of its service).
 */
import { MedgwError } from '../../kernel/errors.ts';
import { andUa651ble } from './and-ua-651ble.ts';
import { ascensiaContourNextOne } from './ascensia-contour-next-one.ts';
import { beurerBf600 } from './beurer-bf600.ts';
import { beurerBf950 } from './beurer-bf950.ts';
import { beurerBm85 } from './beurer-bm85.ts';
import { GENERIC_DEFINITIONS } from './generic.ts';
import { medisanaBt580 } from './medisana-bt-580.ts';
import { medisanaBu5xx } from './medisana-bu-5xx.ts';
import { medisanaBu570 } from './medisana-bu-570.ts';
import { omronX4Smart } from './omron-x4-smart.ts';
import { onetouchVerio } from './onetouch-verio.ts';
import { rocheAccuChekGuide } from './roche-accu-chek-guide.ts';
import { sanitasSbf72 } from './sanitas-sbf72.ts';
import type { Advertisement, DriverDefinition } from './types.ts';

export type { DeviceLink } from './link.ts';
export type { Step, StepKind } from './steps.ts';
export * as steps from './steps.ts';
export type {
  Advertisement,
  BleMatch,
  DefinitionHooks,
  DriverDefinition,
  LinkOptions,
  Pairing,
} from './types.ts';

/** Model definitions. Add a device: write its file and list it here (docs/adding-a-device.md). */
export const MODEL_DEFINITIONS: readonly DriverDefinition[] = [
  rocheAccuChekGuide,
  beurerBf600,
  beurerBm85,
  andUa651ble,
  sanitasSbf72,
  ascensiaContourNextOne,
  medisanaBu5xx,
  omronX4Smart,
  onetouchVerio,
  medisanaBu570,
  medisanaBt580,
  beurerBf950,
];

export const DEFINITIONS: readonly DriverDefinition[] = [...MODEL_DEFINITIONS, ...GENERIC_DEFINITIONS];

const byId = new Map(DEFINITIONS.map((d) => [d.id, d]));

/** The definition with this id, or MEDGW_ERR_UNKNOWN_DRIVER. */
export function findDefinition(id: string): DriverDefinition {
  const d = byId.get(id);
  if (!d) {
    throw new MedgwError(
      'MEDGW_ERR_UNKNOWN_DRIVER',
      `no driver definition has the id "${id}"; known: ${DEFINITIONS.map((x) => x.id).join(', ')}`,
    );
  }
  return d;
}

/** `0x1808`, `1808`, `00001808-0000-1000-8000-00805f9b34fb` → `1808`; other 128-bit UUIDs upper-cased. */
export function shortUuid(uuid: string): string {
  const u = uuid.trim().toLowerCase().replace(/^0x/, '');
  const m = /^0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb$/.exec(u);
  return (m ? m[1]! : u).toUpperCase();
}

/** Whether a definition's matcher accepts the advertisement. */
export function matches(d: DriverDefinition, adv: Advertisement): boolean {
  const services = new Set(adv.serviceUuids.map(shortUuid));
  const m = d.match.ble;
  if (!m.services.every((s) => services.has(s))) return false;
  if (m.localName && !(adv.localName !== undefined && m.localName.test(adv.localName))) return false;
  if (m.manufacturerId !== undefined && adv.manufacturerId !== m.manufacturerId) return false;
  return true;
}

function specificity(d: DriverDefinition): number {
  const m = d.match.ble;
  return m.services.length + (m.localName ? 10 : 0) + (m.manufacturerId !== undefined ? 10 : 0);
}

/**
 * The best definition for an advertisement: the most specific matching model definition, else the
 * generic driver of the first advertised health service, else undefined (not a device medgw reads).
 */
export function matchAdvertisement(adv: Advertisement): DriverDefinition | undefined {
  const specific = MODEL_DEFINITIONS.filter((d) => matches(d, adv)).sort(
    (a, b) => specificity(b) - specificity(a),
  );
  if (specific[0]) return specific[0];
  return GENERIC_DEFINITIONS.find((d) => matches(d, adv));
}
