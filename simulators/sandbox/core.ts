/**
 * What the parts of the sandbox share: its store, clock, faults and audit, and the OpenID provider,
 * which exists only once the sandbox listens (its issuer is the listening URL).
 */
import type Provider from 'oidc-provider';
import { sandboxError } from './clients.ts';
import type { FaultInjector } from './faults.ts';
import { identityBySub } from './identities.ts';
import type { ProviderSetup } from './oidc.ts';
import type { AuditEntry, SandboxStore } from './store.ts';

export interface SandboxCore {
  readonly store: SandboxStore;
  readonly clock: { now(): number };
  readonly faults: FaultInjector;
  audit(e: Omit<AuditEntry, 'at'>): void;
  /** The test identity's idPe of a subject. */
  idPeOf(sub: string): string | undefined;
  /** The OpenID provider; throws before the sandbox listens. */
  provider(): Provider;
  /** The provider with its database and signing key, once the sandbox listens. */
  readonly setup: ProviderSetup | undefined;
  /** The issuer URL (`<url>/oidc`), empty before the sandbox listens. */
  readonly issuer: string;
  listening(setup: ProviderSetup, issuer: string): void;
}

export function createCore(
  store: SandboxStore,
  clock: { now(): number },
  faults: FaultInjector,
): SandboxCore {
  let setup: ProviderSetup | undefined;
  let issuer = '';
  return {
    store,
    clock,
    faults,
    audit: (e) => {
      store.audit.push({ at: new Date(clock.now()).toISOString(), ...e });
    },
    idPeOf: (sub) => identityBySub(sub)?.idPe,
    provider: () => {
      if (!setup) throw sandboxError('the sandbox is not listening yet');
      return setup.provider;
    },
    get setup() {
      return setup;
    },
    get issuer() {
      return issuer;
    },
    listening: (s, i) => {
      setup = s;
      issuer = i;
    },
  };
}
