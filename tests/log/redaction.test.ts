import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, shortId } from '../../gateway/log.ts';
import { MedgwError } from '../../kernel/errors.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'trace', destination: stream }) };
}

// what must never appear: values, names, identities, secrets, tokens
const SECRETS = {
  value: '137.5',
  name: 'Jeanne Martin',
  ins: '2790399123456',
  idPe: 'idpe-4f7a2c91',
  patient: 'patient-alice',
  mac: 'C4:7C:8D:6A:12:34',
  secret: 's3cr3t-Zq9vX1pL0mN7bR2t',
  token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig',
  refresh: 'rt-9f8e7d6c5b4a',
  password: 'hunter2-passphrase',
  systemId: '0x1122334455667788',
  knownAs: '88-77-66-55-44-33-22-11',
  udi: '(01)10884521062856(21)SN-5566',
};

describe('log redaction', () => {
  it('realistic log calls carry no value, identity, secret or token', () => {
    const { lines, log } = capture();
    const ble = log.child({ component: 'ble', device: shortId(SECRETS.mac) });
    ble.info({ reading: { kind: 'body-weight', value: 137.5, unit: 'kg' } }, 'reading decoded');
    ble.debug(
      { observation: { kind: 'glucose', value: 137.5, components: [{ value: 137.5 }] } },
      'normalized',
    );
    ble.info(
      {
        identity: {
          address: SECRETS.mac,
          systemId: SECRETS.systemId,
          serial: 'SN-778899',
          knownAs: { system: 'eui-64', value: SECRETS.knownAs },
          udi: { label: SECRETS.udi },
        },
      },
      'device info read',
    );
    ble.warn({ raw: '0b2a00', hex: '1f2e3d' }, 'frame refused');
    const mqtt = log.child({ component: 'mqtt' });
    mqtt.info({ clientId: shortId('bp-cuff-7'), password: SECRETS.secret }, 'client authenticated');
    mqtt.debug(
      { packet: { topic: 'medgw/v1/devices/x/measurements/json', payload: Buffer.from('{"value":137.5}') } },
      'publish',
    );
    const cloud = log.child({ component: 'cloud' });
    cloud.info(
      {
        req: {
          method: 'POST',
          url: '/fhir',
          headers: { authorization: `Bearer ${SECRETS.token}`, cookie: 'sid=abc' },
        },
        tokens: { accessToken: SECRETS.token, refreshToken: SECRETS.refresh, idToken: SECRETS.token },
        oauth: { access_token: SECRETS.token, refresh_token: SECRETS.refresh, client_secret: SECRETS.secret },
      },
      'token refreshed',
    );
    cloud.info({ subject: { idPe: SECRETS.idPe, ins: SECRETS.ins }, patientId: SECRETS.patient }, 'sent');
    const admin = log.child({ component: 'admin' });
    admin.info(
      { patient: { id: SECRETS.patient, displayName: SECRETS.name, birthDate: '1979-03-12' } },
      'patient added',
    );
    admin.info(
      { device: { secret: SECRETS.secret, secretHash: 'scrypt$16384$8$1$abc$def' } },
      'device provisioned',
    );
    admin.info({ user: { password: SECRETS.password } }, 'login');
    const err = new MedgwError('MEDGW_ERR_IMPLAUSIBLE_VALUE', 'out of range', {
      value: 137.5,
      patientId: SECRETS.patient,
    });
    log.error({ err }, 'reading quarantined');

    expect(lines.length).toBe(12);
    const all = lines.join('\n');
    for (const [what, s] of Object.entries(SECRETS)) expect(all, what).not.toContain(s);
    expect(all).not.toContain('137.5');
    expect(all).not.toContain('SN-778899');
    expect(all).not.toContain('sid=abc');
    expect(all).not.toContain('1979-03-12');
    expect(all).not.toContain('scrypt$');
    // what operators need is still there
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ component: 'ble', device: '…12:34', msg: 'reading decoded' });
    expect(first.reading).toEqual({ kind: 'body-weight', value: '[redacted]', unit: 'kg' });
    const errLine = JSON.parse(lines.at(-1)!);
    expect(errLine.err).toEqual({
      type: 'MedgwError',
      code: 'MEDGW_ERR_IMPLAUSIBLE_VALUE',
      message: 'out of range',
    });
    expect(JSON.parse(lines[6]!).req).toMatchObject({ method: 'POST', url: '/fhir' });
  });

  it('shortId is stable and does not reveal the id', () => {
    expect(shortId('AA:BB:CC:DD:EE:FF')).toBe('…EE:FF');
    expect(shortId('bp-cuff-7')).toBe(shortId('bp-cuff-7'));
    expect(shortId('bp-cuff-7')).not.toBe(shortId('bp-cuff-8'));
    expect(shortId('bp-cuff-7')).not.toContain('cuff');
  });
});
