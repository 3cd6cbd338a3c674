/**
 * Linking a patient from the pages with a device code (RFC 8628 device authorization grant), for a
 * patient who is not at the gateway's screen: the page shows the code, the URL and how long the code
 * stays valid, and polls in the background. One code per patient at most: asking for a new one
 * abandons the one shown at once (RFC 8628 has no way to withdraw a code at the provider: it is no
 * longer polled, and expires there). Its page, with the "new code" button, is deviceCodePage.
 */
import type { DeviceLink } from '../../cloud-bridge/pairing.ts';
import type { PatientLink } from '../../cloud-bridge/token-store.ts';
import { type ErrorCode, isMedgwError } from '../../kernel/errors.ts';
import type { Clock } from '../contracts.ts';
import { actionForm, h, type PageContext, page } from './html.ts';
import type { MessageKey } from './i18n/index.ts';

export type DeviceCodeState = 'waiting' | 'linked' | 'expired' | 'denied' | 'failed';

export interface DeviceCodeView {
  readonly patientId: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete?: string;
  readonly expiresAt: number;
  readonly state: DeviceCodeState;
  /** The MEDGW_ERR_* code of a failure. */
  readonly code?: ErrorCode;
}

export class DeviceCodes {
  private readonly byPatient = new Map<string, { view: DeviceCodeView; abort: AbortController }>();

  constructor(
    private readonly o: {
      readonly start: (patientId: string) => Promise<DeviceLink>;
      /** The patient approved: the link is stored (audit, forwarder kick, live pages). */
      readonly onLinked: (link: PatientLink) => void;
      /** The state of a code changed (live pages). */
      readonly onChange: () => void;
    },
  ) {}

  /** A new code for the patient; the one shown before, if any, is abandoned. */
  async start(patientId: string): Promise<DeviceCodeView> {
    this.byPatient.get(patientId)?.abort.abort();
    const flow = await this.o.start(patientId);
    const abort = new AbortController();
    const entry = {
      abort,
      view: {
        patientId,
        userCode: flow.userCode,
        verificationUri: flow.verificationUri,
        ...(flow.verificationUriComplete ? { verificationUriComplete: flow.verificationUriComplete } : {}),
        expiresAt: flow.expiresAt,
        state: 'waiting',
      } as DeviceCodeView,
    };
    this.byPatient.set(patientId, entry);
    flow.complete({ signal: abort.signal }).then(
      (link) => {
        entry.view = { ...entry.view, state: 'linked' };
        this.o.onLinked(link);
        this.o.onChange();
      },
      (e: unknown) => {
        if (abort.signal.aborted) return;
        const code = isMedgwError(e) ? e.code : 'MEDGW_ERR_PAIRING_FAILED';
        const state: DeviceCodeState =
          code === 'MEDGW_ERR_PAIRING_EXPIRED'
            ? 'expired'
            : code === 'MEDGW_ERR_PAIRING_DENIED'
              ? 'denied'
              : 'failed';
        entry.view = { ...entry.view, state, code };
        this.o.onChange();
      },
    );
    return entry.view;
  }

  get(patientId: string): DeviceCodeView | undefined {
    return this.byPatient.get(patientId)?.view;
  }

  /** Stops polling every code (the pages stop). */
  stop(): void {
    for (const { abort } of this.byPatient.values()) abort.abort();
    this.byPatient.clear();
  }
}

function remaining(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The code page: code, URL, remaining validity, state, and the button for a new code at once. */
export function deviceCodePage(
  ctx: PageContext,
  clock: Clock,
  patient: { readonly id: string; readonly displayName: string },
  view: DeviceCodeView | undefined,
): string {
  const { t } = ctx;
  const renew = actionForm(
    ctx,
    `/patients/${encodeURIComponent(patient.id)}/device-code`,
    t(view ? 'deviceCode.new' : 'deviceCode.ask'),
    patient.displayName,
    'primary',
  );
  const body = view
    ? h`<div data-live id="device-code" data-device-code-state="${view.state}">
<p>${t('deviceCode.open')}</p><p><a href="${view.verificationUriComplete ?? view.verificationUri}">${view.verificationUri}</a></p>
<p>${t('deviceCode.enter')}</p><p class="fr-h2" data-user-code="${view.userCode}">${view.userCode}</p>
<p data-remaining-ms="${Math.max(0, view.expiresAt - clock.now())}">${
        view.state === 'waiting'
          ? t('deviceCode.valid', { time: remaining(view.expiresAt - clock.now()) })
          : t(`deviceCode.state.${view.state}` as MessageKey)
      }</p></div>
<p>${t('deviceCode.newHint')}</p>${renew}`
    : h`<p>${t('deviceCode.none')}</p>${renew}`;
  return page(ctx, 'patients', t('deviceCode.title', { name: patient.displayName }), body);
}
