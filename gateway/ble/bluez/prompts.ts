/**
 * What the pairing agent asks the person, while BlueZ waits: type the code the meter shows (passkey
 * entry), check that the meter shows the same number (numeric comparison), or type on the device the
 * code the gateway shows (passkey display). `medgw pair` and the admin API read the pending prompt and
 * answer it; an unanswered prompt expires and the pairing is abandoned. The default 30 s is the
 * Security Manager's own limit (Core Spec Vol 3 Part H §3.4, SMP timeout): the device gives up then.
 */
import { EventEmitter } from 'node:events';
import { MedgwError } from '../../../kernel/errors.ts';

export type PromptKind = 'passkey' | 'confirm' | 'display' | 'pin';

export interface PairingPrompt {
  readonly deviceId: string;
  /** passkey: type the 6 digits the device shows; confirm: same number on both sides?; display: type this on the device. */
  readonly kind: PromptKind;
  /** The number to compare (confirm) or to type on the device (display). */
  readonly passkey?: number;
  /** When the prompt expires (gateway clock, ms). */
  readonly expiresAt: number;
}

/** The person's answer: the code typed (passkey, pin) or whether the numbers match (confirm). */
export type PromptAnswer =
  | { readonly passkey: number }
  | { readonly pin: string }
  | { readonly confirm: boolean };

/** What happened to the last prompt of a device: the pairing errors are explained with it. */
export type PromptOutcome = 'answered' | 'rejected' | 'expired' | 'cancelled' | 'shown';

interface Pending {
  readonly prompt: PairingPrompt;
  readonly resolve: (a: PromptAnswer | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export class PairingPrompts extends EventEmitter<{
  prompt: [PairingPrompt];
  settled: [{ deviceId: string; outcome: PromptOutcome }];
}> {
  private readonly pending = new Map<string, Pending>();
  private readonly outcomes = new Map<string, { kind: PromptKind; outcome: PromptOutcome }>();

  constructor(
    private readonly timeoutMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Prompts waiting for an answer. */
  list(): PairingPrompt[] {
    return [...this.pending.values()].map((p) => p.prompt);
  }

  get(deviceId: string): PairingPrompt | undefined {
    return this.pending.get(deviceId)?.prompt;
  }

  /** The last prompt of a device and how it ended (cleared when a pairing starts). */
  last(deviceId: string): { kind: PromptKind; outcome: PromptOutcome } | undefined {
    return this.outcomes.get(deviceId);
  }

  clear(deviceId: string): void {
    this.outcomes.delete(deviceId);
  }

  /** Asks; resolves with the answer, or undefined when it expired or was cancelled. */
  ask(deviceId: string, kind: PromptKind, passkey?: number): Promise<PromptAnswer | undefined> {
    this.cancel(deviceId);
    const prompt: PairingPrompt = {
      deviceId,
      kind,
      ...(passkey !== undefined ? { passkey } : {}),
      expiresAt: this.now() + this.timeoutMs,
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(deviceId, undefined, 'expired'), this.timeoutMs);
      timer.unref?.();
      this.pending.set(deviceId, { prompt, resolve, timer });
      this.outcomes.set(deviceId, { kind, outcome: 'shown' });
      this.emit('prompt', prompt);
    });
  }

  /** Shows a code to type on the device; nothing to answer (BlueZ DisplayPasskey). */
  show(deviceId: string, passkey: number): void {
    this.cancel(deviceId);
    const prompt: PairingPrompt = {
      deviceId,
      kind: 'display',
      passkey,
      expiresAt: this.now() + this.timeoutMs,
    };
    const timer = setTimeout(() => this.settle(deviceId, undefined, 'shown'), this.timeoutMs);
    timer.unref?.();
    this.pending.set(deviceId, { prompt, resolve: () => undefined, timer });
    this.outcomes.set(deviceId, { kind: 'display', outcome: 'shown' });
    this.emit('prompt', prompt);
  }

  /** The person's answer (web page, `medgw pair`); refused when nothing waits for it. */
  answer(deviceId: string, answer: PromptAnswer): void {
    const p = this.pending.get(deviceId);
    if (!p || p.prompt.kind === 'display') {
      throw new MedgwError('MEDGW_ERR_BLE_NO_PROMPT', `${deviceId} is not waiting for a pairing code`);
    }
    const rejected = 'confirm' in answer && !answer.confirm;
    this.settle(deviceId, answer, rejected ? 'rejected' : 'answered');
  }

  /** BlueZ cancelled the request (Agent1.Cancel) or the pairing ended. */
  cancel(deviceId?: string): void {
    for (const id of deviceId ? [deviceId] : [...this.pending.keys()]) {
      if (this.pending.has(id)) this.settle(id, undefined, 'cancelled');
    }
  }

  /** A displayed code is no longer needed (the pairing ended). */
  done(deviceId: string): void {
    const p = this.pending.get(deviceId);
    if (p?.prompt.kind === 'display') this.settle(deviceId, undefined, 'shown');
  }

  private settle(deviceId: string, answer: PromptAnswer | undefined, outcome: PromptOutcome): void {
    const p = this.pending.get(deviceId);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(deviceId);
    this.outcomes.set(deviceId, { kind: p.prompt.kind, outcome });
    p.resolve(answer);
    this.emit('settled', { deviceId, outcome });
  }
}
