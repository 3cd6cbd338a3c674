/**
 * Pairings and consent as the patient makes and withdraws them: a pairing at the end of the device
 * flow (one audit entry for the pairing and one per consented kind), a kind withdrawn, a solution
 * unpaired (its grants and tokens revoked).
 */

import { sandboxError } from './clients.ts';
import type { SandboxCore } from './core.ts';
import type { ConsentKind } from './profiles.ts';

export interface Pairings {
  onPaired(sub: string, clientId: string, grantId: string, kinds: readonly ConsentKind[]): void;
  revokeConsent(sub: string, clientId: string, kinds: readonly ConsentKind[]): void;
  unpair(sub: string, clientId: string): Promise<void>;
}

export function pairings(core: SandboxCore): Pairings {
  const { store, audit, idPeOf } = core;
  return {
    onPaired: (sub, clientId, grantId, kinds) => {
      const existing = store.pairing(sub, clientId);
      const at = new Date(core.clock.now()).toISOString();
      store.setPairing({
        sub,
        clientId,
        kinds: new Set(kinds),
        pairedAt: at,
        grantIds: new Set([...(existing?.grantIds ?? []), grantId]),
      });
      const solutionOid = store.clients.get(clientId)?.solutionOid;
      const idPe = idPeOf(sub);
      const who = { clientId, ...(solutionOid ? { solutionOid } : {}), ...(idPe ? { idPe } : {}) };
      audit({ event: 'pairing', ...who });
      for (const kind of kinds) audit({ event: 'consent', ...who, kind });
    },

    revokeConsent: (sub, clientId, kinds) => {
      const p = store.pairing(sub, clientId);
      if (!p) throw sandboxError(`no pairing of ${sub} with client ${clientId}`);
      const idPe = idPeOf(sub);
      for (const k of kinds) {
        if (!p.kinds.delete(k)) continue;
        audit({
          event: 'consent.revoked',
          clientId,
          solutionOid: store.clients.get(clientId)?.solutionOid ?? '',
          ...(idPe ? { idPe } : {}),
          kind: k,
        });
      }
    },

    unpair: async (sub, clientId) => {
      const p = store.removePairing(sub, clientId);
      if (!p) throw sandboxError(`no pairing of ${sub} with client ${clientId}`);
      for (const grantId of p.grantIds) {
        const grant = await core.provider().Grant.find(grantId);
        await grant?.destroy();
        core.setup?.db.revokeByGrantId(grantId);
      }
      const idPe = idPeOf(sub);
      audit({
        event: 'unpaired',
        clientId,
        solutionOid: store.clients.get(clientId)?.solutionOid ?? '',
        ...(idPe ? { idPe } : {}),
      });
    },
  };
}
