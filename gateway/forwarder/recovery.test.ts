/**
 * The lease rules of crash recovery, on their own: which reading is searched for before a send, and
 * when too little of this instance's lease is left to start a POST.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../contracts.ts';
import { Ledger } from './ledger.ts';
import { Recovery } from './recovery.ts';
import type { ResolvedOptions } from './types.ts';

function recoveryAt(clock: { t: number }, leaseMs: number, sendWindowMs: number): Recovery {
  const o = { clock: { now: () => clock.t }, leaseMs, sendWindowMs } as unknown as ResolvedOptions;
  // neither the ledger nor the holds are reached by the lease rules
  return new Recovery(o, new Ledger(o, () => undefined), undefined as never);
}

const inFlight = (id: string, code?: string): OutboxRecord => ({
  id,
  deviceId: 'd1',
  patientId: 'p1',
  kind: 'body-weight',
  state: 'in-flight',
  observation: null,
  attempts: 1,
  createdAt: 0,
  updatedAt: 0,
  ...(code ? { reason: { code, message: '' } } : {}),
});

describe('crash recovery: leases', () => {
  it('searches before sending a reading that got no answer or whose claimant died, until it is settled', () => {
    const r = recoveryAt({ t: 0 }, 120_000, 20_000);
    expect(r.searchFirst(inFlight('a'))).toBe(false);
    expect(r.searchFirst(inFlight('a', 'MEDGW_ERR_MES_NO_ANSWER'))).toBe(true);
    expect(r.searchFirst(inFlight('a', 'MEDGW_ERR_MES_UNAVAILABLE'))).toBe(false);
    r.claimed('b', true, 120_000);
    expect(r.searchFirst(inFlight('b'))).toBe(true);
    r.forget('b');
    expect(r.searchFirst(inFlight('b'))).toBe(false);
  });

  it('starts no POST when less of the lease is left than a send may take (or half a short lease)', () => {
    const clock = { t: 0 };
    const r = recoveryAt(clock, 120_000, 20_000);
    r.claimed('a', false, 120_000);
    clock.t = 100_000;
    expect(r.leaseTooShort('a')).toBe(false);
    clock.t = 100_001;
    expect(r.leaseTooShort('a')).toBe(true);
    // no lease (a local journal): never too short
    expect(r.leaseTooShort('unclaimed')).toBe(false);
    // a lease shorter than twice the send window: half of it must be left
    const short = recoveryAt(clock, 10_000, 20_000);
    clock.t = 0;
    short.claimed('s', false, 10_000);
    clock.t = 5_000;
    expect(short.leaseTooShort('s')).toBe(false);
    clock.t = 5_001;
    expect(short.leaseTooShort('s')).toBe(true);
  });
});
