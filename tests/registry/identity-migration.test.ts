/**
 * The one-time identity migration (gateway/registry/migrate.ts) on a registry file as the previous
 * version wrote it, and its effect on the national side: a device already known there keeps one Device
 * (conditional create finds it), distinct MQTT devices that shared a lossy name are split, and the
 * reading ids of a Bluetooth device do not move.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeReading } from '../../cloud-bridge/bundle.ts';
import { decimal } from '../../drivers/ieee11073.ts';
import { readingId } from '../../drivers/reading-id.ts';
import type { Measurement } from '../../drivers/types.ts';
import { IDENTITY_MIGRATION } from '../../gateway/registry/migrate.ts';
import { LowRegistry } from '../../gateway/registry/registry.ts';
import { ok } from '../cli/helpers.ts';
import { type NationalSide, sampleObservation, startNationalSide } from '../cloud-bridge/helpers.ts';

const EUI64_SYSTEM = 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680';
const HASH = 'scrypt$16384$8$1$c2FsdA$aGFzaA';

/** A registry file as the previous version left it: System ID bytes as received, lossy MQTT names. */
function oldRegistryFile(): string {
  const device = (id: string, transport: 'ble' | 'mqtt', createdAt: number, identity?: object) => ({
    id,
    transport,
    patientId: 'p1',
    ...(identity ? { identity } : {}),
    ...(transport === 'mqtt' ? { secretHash: HASH } : { bond: 'bonded' }),
    createdAt,
  });
  return JSON.stringify({
    version: 1,
    devices: {
      'C0:26:DA:00:0E:01': device('C0:26:DA:00:0E:01', 'ble', 1, {
        address: 'C0:26:DA:00:0E:01',
        manufacturer: 'Medgw Sim',
        model: 'GLU-4000',
        systemId: '010E00FEFFDA26C0',
      }),
      'scale.7': device('scale.7', 'mqtt', 2),
      scale_7: device('scale_7', 'mqtt', 3),
      'C0:26:DA:00:0E:09': device('C0:26:DA:00:0E:09', 'ble', 4, { systemId: '0000000000000000' }),
    },
    patients: { p1: { id: 'p1', displayName: 'Marie', createdAt: 0 } },
    sections: {},
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'medgw-migrate-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('identity migration of the registry file', () => {
  it('re-orders stored System IDs, keeps the names the national side knows, once', async () => {
    const path = join(dir, 'once.json');
    writeFileSync(path, oldRegistryFile());
    const registry = await LowRegistry.open(path);
    expect(registry.getDevice('C0:26:DA:00:0E:01')?.identity).toMatchObject({
      systemId: 'C0-26-DA-FF-FE-00-0E-01',
      knownAs: { system: 'eui-64', value: '01-0E-00-FE-FF-DA-26-C0' },
    });
    // scale.7 (older) keeps gw-scale-7; scale_7 had the same name and now gets a Device of its own.
    expect(registry.getDevice('scale.7')?.identity?.knownAs).toEqual({
      system: 'gateway',
      value: 'gw-scale-7',
    });
    expect(registry.getDevice('scale_7')?.identity?.knownAs).toBeUndefined();
    // An all-zero System ID is no identity: left as it was.
    expect(registry.getDevice('C0:26:DA:00:0E:09')?.identity).toEqual({ systemId: '0000000000000000' });
    // Written before use, with its record for an operator.
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.devices['C0:26:DA:00:0E:01'].identity.systemId).toBe('C0-26-DA-FF-FE-00-0E-01');
    expect(file.sections[IDENTITY_MIGRATION]).toMatchObject({
      version: 1,
      systemIds: ['C0:26:DA:00:0E:01'],
      keptNames: ['scale.7'],
      splitFromShared: [{ id: 'scale_7', sharedWith: 'scale.7' }],
    });

    // A device added afterwards is not taken for an old one at the next start.
    await registry.putDevice({ id: 'scale:7', transport: 'mqtt', secretHash: HASH, createdAt: 5 });
    const again = await LowRegistry.open(path);
    expect(again.getDevice('scale:7')?.identity).toBeUndefined();
    expect(again.getDevice('C0:26:DA:00:0E:01')?.identity?.systemId).toBe('C0-26-DA-FF-FE-00-0E-01');
    expect(again.getDevice('scale.7')?.identity?.knownAs?.value).toBe('gw-scale-7');
  });

  it('a Bluetooth device keeps its reading ids across the migration', async () => {
    const path = join(dir, 'ids.json');
    writeFileSync(path, oldRegistryFile());
    const m: Measurement = {
      kind: 'glucose',
      source: '2A18',
      sequence: 41,
      components: [{ name: 'glucose', value: decimal(95, -5), unit: 'kg/L' }],
      final: true,
    };
    const before = readingId({
      systemId: '010E00FEFFDA26C0',
      deviceId: 'C0:26:DA:00:0E:01',
      kind: 'glucose',
      measurement: m,
    });
    const registry = await LowRegistry.open(path);
    const systemId = registry.getDevice('C0:26:DA:00:0E:01')?.identity?.systemId;
    expect(systemId).toBe('C0-26-DA-FF-FE-00-0E-01');
    expect(readingId({ systemId, deviceId: 'C0:26:DA:00:0E:01', kind: 'glucose', measurement: m })).toBe(
      before,
    );
  });
});

describe('the operator sees it', () => {
  it('medgw devices show, on a data directory written by the previous version: the EUI-64 and the earlier identifier', async () => {
    const data = join(dir, 'datadir');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(join(data, 'registry.json'), oldRegistryFile(), { mode: 0o600 });
    const shown = await ok(['devices', 'show', 'C0:26:DA:00:0E:01', '--data-dir', data]);
    expect(shown).toMatch(/system id:\s+C0-26-DA-FF-FE-00-0E-01/);
    expect(shown).toMatch(/known nationally as:\s+01-0E-00-FE-FF-DA-26-C0/);
  });
});

describe('against the national side: no second Device after the migration', () => {
  let side: NationalSide;
  const SOLUTION_OID = '2.25.71922510045900526679301521263764504793';
  let n = 0;
  beforeAll(async () => {
    side = await startNationalSide();
    await side.link('marie', 'marie.martin');
  });
  afterAll(async () => {
    await side?.close();
  });
  const send = async (device: BridgeReading['device']) => {
    const outcome = await side.client().send('marie', {
      id: `mig-${process.pid}-${++n}`,
      observation: sampleObservation('body-weight'),
      device,
    });
    expect(outcome).toMatchObject({ status: 'delivered' });
  };
  const devicesKeyed = (system: string, value: string) =>
    side.sandbox.devices().filter((d) => d.key === `${system}|${value}`);

  it('the glucometer and scale.7 keep their Device; scale_7 gets its own', async () => {
    // What the previous version created: the glucometer under its System ID bytes as received, the
    // scales under their shared lossy name (conditional create keyed on exactly these identifiers).
    await send({ id: 'C0:26:DA:00:0E:01', identity: { systemId: '01-0E-00-FE-FF-DA-26-C0' } });
    await send({ id: 'scale.7', identity: { knownAs: { system: 'gateway', value: 'gw-scale-7' } } });
    const total = side.sandbox.devices().length;

    const path = join(dir, 'national.json');
    writeFileSync(path, oldRegistryFile());
    const registry = await LowRegistry.open(path);
    const fromRegistry = (id: string) => {
      const identity = registry.getDevice(id)?.identity;
      return { id, ...(identity ? { identity } : {}) };
    };
    await send(fromRegistry('C0:26:DA:00:0E:01'));
    await send(fromRegistry('scale.7'));
    await send(fromRegistry('scale_7'));

    // One new Device only: scale_7's. The others were found by their earlier identifier.
    expect(side.sandbox.devices().length).toBe(total + 1);
    expect(devicesKeyed(EUI64_SYSTEM, '01-0E-00-FE-FF-DA-26-C0')).toHaveLength(1);
    expect(devicesKeyed(`urn:oid:${SOLUTION_OID}.2`, 'gw-scale-7')).toHaveLength(1);
    expect(devicesKeyed(`urn:oid:${SOLUTION_OID}.3`, 'gwscale-5f7')).toHaveLength(1);
    // The Bundle now names the glucometer by its canonical EUI-64 as well as by the earlier value.
    const creds = await side.pairing.credentials('marie');
    const sent = JSON.parse(
      side.client().bundleFor(
        {
          id: 'x',
          observation: sampleObservation('body-weight'),
          device: fromRegistry('C0:26:DA:00:0E:01'),
        },
        creds,
      ),
    );
    const device = sent.entry[1];
    expect(device.request.ifNoneExist).toBe(`identifier=${EUI64_SYSTEM}|01-0E-00-FE-FF-DA-26-C0`);
    expect(device.resource.identifier[0]).toMatchObject({
      system: EUI64_SYSTEM,
      value: 'C0-26-DA-FF-FE-00-0E-01',
    });
    expect(device.resource.identifier).toContainEqual({
      system: EUI64_SYSTEM,
      value: '01-0E-00-FE-FF-DA-26-C0',
    });
  });
});
