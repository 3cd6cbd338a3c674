import { describe, expect, it } from 'vitest';
import { isMedgwError } from '../../../kernel/errors.ts';
import { isNotPairedAnswer } from './pairing.ts';
import { PairingPrompts } from './prompts.ts';

describe('pairing prompts', () => {
  it('resolves with the answer, records how it ended, refuses an answer nobody asked for', async () => {
    const p = new PairingPrompts(5_000, () => 1_000);
    const seen: string[] = [];
    p.on('prompt', (q) => seen.push(`${q.deviceId} ${q.kind}`));
    const asked = p.ask('AA:BB:CC:DD:EE:01', 'confirm', 42);
    expect(p.get('AA:BB:CC:DD:EE:01')).toEqual({
      deviceId: 'AA:BB:CC:DD:EE:01',
      kind: 'confirm',
      passkey: 42,
      expiresAt: 6_000,
    });
    p.answer('AA:BB:CC:DD:EE:01', { confirm: false });
    expect(await asked).toEqual({ confirm: false });
    expect(p.last('AA:BB:CC:DD:EE:01')).toEqual({ kind: 'confirm', outcome: 'rejected' });
    expect(seen).toEqual(['AA:BB:CC:DD:EE:01 confirm']);
    let refused: unknown;
    try {
      p.answer('AA:BB:CC:DD:EE:01', { passkey: 1 });
    } catch (e) {
      refused = e;
    }
    expect(isMedgwError(refused) && refused.code).toBe('MEDGW_ERR_BLE_NO_PROMPT');
  });

  it('a code shown for the device to type cannot be answered; an unanswered question expires', async () => {
    const p = new PairingPrompts(20);
    p.show('AA:BB:CC:DD:EE:02', 123456);
    expect(() => p.answer('AA:BB:CC:DD:EE:02', { passkey: 123456 })).toThrow(/not waiting/);
    const asked = await p.ask('AA:BB:CC:DD:EE:03', 'passkey');
    expect(asked).toBeUndefined();
    expect(p.last('AA:BB:CC:DD:EE:03')).toEqual({ kind: 'passkey', outcome: 'expired' });
    const cancelled = p.ask('AA:BB:CC:DD:EE:04', 'passkey');
    p.cancel();
    expect(await cancelled).toBeUndefined();
    expect(p.last('AA:BB:CC:DD:EE:04')?.outcome).toBe('cancelled');
    expect(p.list()).toEqual([]);
  });

  it('recognises BlueZ answers for a missing or refused bond, and nothing else', () => {
    const dbusError = (type: string, text: string) => Object.assign(new Error(text), { type, text });
    expect(isNotPairedAnswer(dbusError('org.bluez.Error.NotPermitted', 'Not paired'))).toBe(true);
    expect(isNotPairedAnswer(dbusError('org.bluez.Error.NotPaired', 'Not Paired'))).toBe(true);
    expect(isNotPairedAnswer(new Error('read 0x2A51 failed: Not paired'))).toBe(true);
    expect(
      isNotPairedAnswer(dbusError('org.bluez.Error.Failed', 'Operation failed with ATT error: 0x0f')),
    ).toBe(true);
    expect(isNotPairedAnswer(dbusError('org.bluez.Error.NotPermitted', 'Write not permitted'))).toBe(false);
    expect(
      isNotPairedAnswer(dbusError('org.bluez.Error.Failed', 'Operation failed with ATT error: 0x80')),
    ).toBe(false);
    expect(isNotPairedAnswer(new Error('le-connection-abort-by-local'))).toBe(false);
  });
});
