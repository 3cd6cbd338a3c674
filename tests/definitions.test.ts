/**
 * The driver registry: unique ids, no two model definitions claiming the same advertisement, every
 * quirk understood by some code, a generic driver for every measurement profile, and the matcher's
 * "specific before generic" rule.
 */
import { describe, expect, it } from 'vitest';
import { CODECS } from '../drivers/codecs/index.ts';
import { decodeFrame } from '../drivers/decode.ts';
import { decodeRecords } from '../drivers/definitions/decode.ts';
import {
  DEFINITIONS,
  findDefinition,
  MODEL_DEFINITIONS,
  matchAdvertisement,
  matches,
  shortUuid,
} from '../drivers/definitions/index.ts';
import { MEASUREMENT_QUIRKS } from '../drivers/definitions/quirks.ts';
import { COLLECT_STEPS, standardSteps } from '../drivers/definitions/steps.ts';
import { glucoseContextAssembler } from '../drivers/profiles/glucose.ts';
import { MEASUREMENT_PROFILES, PROFILES, weightScaleProfile } from '../drivers/profiles/index.ts';
import { parseHex } from '../drivers/reader.ts';

describe('driver registry', () => {
  it('has unique ids in kebab case', () => {
    const ids = DEFINITIONS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('every model definition matches its own examples and no other model definition does', () => {
    for (const d of MODEL_DEFINITIONS) {
      expect(d.examples.length, `${d.id} lists example advertisements`).toBeGreaterThan(0);
      for (const adv of d.examples) {
        expect(matches(d, adv), `${d.id} matches ${JSON.stringify(adv)}`).toBe(true);
        const others = MODEL_DEFINITIONS.filter((o) => o !== d && matches(o, adv)).map((o) => o.id);
        expect(others, `overlapping matchers for ${JSON.stringify(adv)}`).toEqual([]);
        expect(matchAdvertisement(adv)?.id).toBe(d.id);
      }
    }
  });

  it('no two model definitions have the same matcher', () => {
    const keys = MODEL_DEFINITIONS.map((d) =>
      JSON.stringify([
        [...d.match.ble.services].sort(),
        d.match.ble.localName?.source ?? null,
        d.match.ble.manufacturerId ?? null,
      ]),
    );
    expect(new Set(keys).size).toBe(keys.length);
    for (const d of MODEL_DEFINITIONS) {
      expect(d.generic).toBe(false);
      expect(
        d.match.ble.localName !== undefined || d.match.ble.manufacturerId !== undefined,
        `${d.id} narrows the match beyond its services`,
      ).toBe(true);
    }
  });

  it('every quirk a definition names is understood by a codec or a measurement quirk', () => {
    const known = new Set([
      ...CODECS.flatMap((c) => c.quirks ?? []),
      ...MEASUREMENT_QUIRKS.map((q) => q.name),
    ]);
    for (const d of DEFINITIONS) for (const q of d.quirks) expect(known.has(q), `${d.id}: ${q}`).toBe(true);
  });

  it('there is a generic driver for every measurement profile, and it says it is generic', () => {
    for (const p of MEASUREMENT_PROFILES) {
      const g = matchAdvertisement({
        serviceUuids: [`0000${p.service.toLowerCase()}-0000-1000-8000-00805f9b34fb`],
      });
      expect(g?.generic, p.id).toBe(true);
      expect(g?.model).toContain('generic');
      expect(g?.profiles[0]).toBe(p);
    }
  });

  it('profiles and definitions refer only to characteristics with a codec or known companions', () => {
    const codecUuids = new Set(CODECS.map((c) => c.uuid));
    for (const p of MEASUREMENT_PROFILES) {
      for (const c of [...p.notify, ...p.indicate]) {
        if (c.required) expect(codecUuids.has(c.uuid), `${p.id} ${c.uuid}`).toBe(true);
      }
    }
    for (const p of PROFILES) expect(p.service).toMatch(/^[0-9A-F]{4}$/);
  });

  it('the required definitions exist', () => {
    expect(findDefinition('beurer-bm85').quirks).toEqual(
      expect.arrayContaining(['ignore-reserved-flags', 'user-id-without-flag', 'pulse-status-big-endian']),
    );
    expect(findDefinition('roche-accu-chek-guide').pairing).toBe('passkey');
    expect(findDefinition('beurer-bf600').profiles.map((p) => p.id)).toContain('user-data');
  });
});

describe('connection procedure', () => {
  it('every definition bonds first, discovers before it reads or subscribes, and collects last', () => {
    for (const d of DEFINITIONS) {
      const kinds = d.steps.map((s) => s.kind);
      expect(kinds[0], d.id).toBe('bond');
      const discover = kinds.indexOf('discover');
      expect(discover, `${d.id} discovers`).toBeGreaterThan(0);
      for (const k of ['identity', 'clock', 'battery', 'subscribe', 'run'] as const) {
        const at = kinds.indexOf(k);
        if (k === 'subscribe' || at >= 0)
          expect(at, `${d.id}: ${k} after discovery`).toBeGreaterThan(discover);
      }
      const collect = kinds.findIndex((k) => COLLECT_STEPS.has(k));
      expect(collect, `${d.id} collects`).toBeGreaterThan(kinds.indexOf('subscribe'));
    }
  });

  it('a discovery limited to some services still covers every profile block of the definition', () => {
    for (const d of DEFINITIONS) {
      for (const s of d.steps) {
        if (s.kind !== 'discover' || !s.only) continue;
        for (const p of d.profiles) expect(s.only, `${d.id} discovers ${p.service}`).toContain(p.service);
      }
    }
  });

  it('the standard procedure follows the measurement profile: RACP pull, push, UDS consent after the push', () => {
    expect(findDefinition('roche-accu-chek-guide').steps.map((s) => s.kind)).toEqual([
      'bond',
      'discover',
      'identity',
      'clock',
      'battery',
      'subscribe',
      'collect-stored',
    ]);
    expect(
      findDefinition('beurer-bf600')
        .steps.map((s) => s.kind)
        .slice(-2),
    ).toEqual(['collect-pushed', 'uds-consent']);
    expect(standardSteps([findDefinition('beurer-bm85').profiles[0]!]).at(-1)?.kind).toBe('collect-pushed');
  });

  it('the A&D UA-651BLE discovers only the services it reads, sets its clock by Date Time, pairs with legacy pairing', () => {
    const d = findDefinition('and-ua-651ble');
    expect(d.steps.find((s) => s.kind === 'discover')).toEqual({ kind: 'discover', only: ['1810', '180A'] });
    const kinds = d.steps.map((s) => s.kind);
    expect(kinds).not.toContain('clock');
    expect(kinds.indexOf('run')).toBeLessThan(kinds.indexOf('subscribe'));
    expect(d.pairing).toBe('legacy');
    expect(matchAdvertisement({ localName: 'A&D_UA-651BLE', serviceUuids: ['1810'] })?.id).toBe(d.id);
  });
});

describe('device rules in the profiles', () => {
  it('weight 0xFFFF is dropped with MEDGW_ERR_BLE_WEIGHT_UNSUCCESSFUL, a real weight is kept', () => {
    const scale = findDefinition('generic-weight-scale');
    // WSS v1.0 Weight Measurement: flags 0 (SI), weight 0xFFFF "Measurement Unsuccessful" / 0x3A98 (75 kg).
    const [unsuccessful] = decodeRecords(scale, '2A9D', parseHex('00 ff ff'));
    const [weight] = decodeRecords(scale, '2A9D', parseHex('00 98 3a'));
    expect(weightScaleProfile.filterRecord?.(unsuccessful!)?.code).toBe('MEDGW_ERR_BLE_WEIGHT_UNSUCCESSFUL');
    expect(weightScaleProfile.filterRecord?.(weight!)).toBeUndefined();
  });

  it('a glucose record announcing its context waits for it; a context of another record is refused', () => {
    const a = glucoseContextAssembler();
    const gls = findDefinition('generic-glucose');
    // GLS v1.0.1 Glucose Measurement #1 with "context follows" (flags 0x10 + type/location 0x12 + time):
    // sequence 1, base time 2026-11-20 08:00:00, 0x2A34 context #1 with meal = 1 (preprandial).
    const m = decodeRecords(gls, '2A18', parseHex('12 01 00 ea 07 0b 14 08 00 00 62 b0 11'))[0]!;
    expect(m.context?.['contextFollows']).toBe(true);
    expect(a.record(m)).toEqual([]);
    const merged = a.companion('2A34', parseHex('02 01 00 01'), new Set());
    expect(merged.refused).toBeUndefined();
    expect(merged.ready[0]?.context?.['meal']).toBe('preprandial');
    expect(a.record(m)).toEqual([]);
    const wrong = a.companion('2A34', parseHex('02 07 00 01'), new Set());
    expect(wrong.refused?.code).toBe('MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH');
    expect(wrong.ready).toEqual([m]);
    expect(a.record(m)).toEqual([]);
    a.abandon();
    expect(a.end()).toEqual([]);
  });
});

describe('matcher', () => {
  it('prefers the model over the generic driver, and falls back to generic', () => {
    expect(matchAdvertisement({ localName: 'BM85', serviceUuids: ['1810', '180A'] })?.id).toBe('beurer-bm85');
    expect(matchAdvertisement({ localName: 'BM54', serviceUuids: ['1810'] })?.id).toBe(
      'generic-blood-pressure',
    );
    expect(matchAdvertisement({ localName: 'meter+123', serviceUuids: ['0x1808'] })?.id).toBe(
      'roche-accu-chek-guide',
    );
    expect(matchAdvertisement({ localName: 'meter+123', serviceUuids: [] })).toBeUndefined();
    expect(matchAdvertisement({ serviceUuids: ['180F'] })).toBeUndefined();
  });
  it('normalizes UUID spellings', () => {
    expect(shortUuid('00001808-0000-1000-8000-00805F9B34FB')).toBe('1808');
    expect(shortUuid('0x2a18')).toBe('2A18');
  });
});

describe('decodeFrame with a driver', () => {
  // derdilla/blood-pressure-monitor-fl@17aba3d0 ble_measurement_data_test.dart "decodes beurer sample data"
  const bm85 = parseHex('56 6a 00 47 00 00 00 ea 07 08 0b 12 1f 00 00 3f 00 00 00');

  it('refuses the BM85 capture without its driver, decodes it with its quirks', () => {
    expect(() => decodeFrame('2A35', bm85)).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_RESERVED_VALUE' }),
    );
    const r = decodeFrame('2A35', bm85, 'beurer-bm85');
    expect(r.observations.map((o) => o.kind)).toEqual(['blood-pressure', 'heart-rate']);
    const [panel, hr] = r.observations;
    expect(panel?.components?.map((c) => [c.kind, c.value])).toEqual([
      ['systolic', 106],
      ['diastolic', 71],
    ]);
    expect(panel?.quarantine).toBeUndefined();
    expect(hr?.value).toBe(63);
    expect(r.measurements?.[0]?.userIndex).toBe(0);
  });

  it('an unknown driver is MEDGW_ERR_UNKNOWN_DRIVER', () => {
    expect(() => decodeFrame('2A35', bm85, 'no-such-cuff')).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_UNKNOWN_DRIVER' }),
    );
  });
});
