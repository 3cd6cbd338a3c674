/**
 * The OpenID Connect / OAuth 2.0 provider of the sandbox, built on oidc-provider: authorization code
 * with PKCE (required), device authorization grant (RFC 8628), refresh tokens (offline_access),
 * revocation (RFC 7009), introspection (RFC 7662). Tokens carry the idPe, the pairing OID and the
 * solution OID under configurable claim names. State lives in a per-instance memory adapter.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import Provider, {
  type Adapter,
  type AdapterPayload,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { esc, page } from './html.ts';
import { identityBySub } from './identities.ts';
import { CONSENT_KINDS, kindScope } from './profiles.ts';
import type { ClientRecord, SandboxStore } from './store.ts';

export interface ClaimNames {
  readonly idPe: string;
  readonly pairingOid: string;
  readonly solutionOid: string;
}

export const DEFAULT_CLAIM_NAMES: ClaimNames = {
  idPe: 'idpe',
  pairingOid: 'pairing_oid',
  solutionOid: 'solution_oid',
};

export interface TokenTtl {
  accessToken: number;
  idToken: number;
  refreshToken: number;
  deviceCode: number;
}

type Row = { payload: AdapterPayload; expiresAt: number | undefined };

/** One memory database per sandbox instance (oidc-provider's own memory adapter is process-wide). */
export class MemoryDb {
  private readonly models = new Map<string, Map<string, Row>>();

  model(name: string): Map<string, Row> {
    let m = this.models.get(name);
    if (!m) {
      m = new Map();
      this.models.set(name, m);
    }
    return m;
  }

  revokeByGrantId(grantId: string): void {
    for (const m of this.models.values()) {
      for (const [id, row] of m) if (row.payload.grantId === grantId) m.delete(id);
    }
  }
}

class MemoryAdapter implements Adapter {
  constructor(
    private readonly name: string,
    private readonly db: MemoryDb,
  ) {}

  private get rows(): Map<string, Row> {
    return this.db.model(this.name);
  }

  private live(row: Row | undefined): AdapterPayload | undefined {
    if (!row) return undefined;
    if (row.expiresAt !== undefined && row.expiresAt <= Date.now()) return undefined;
    return row.payload;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.rows.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.live(this.rows.get(id));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    for (const row of this.rows.values()) if (row.payload.userCode === userCode) return this.live(row);
    return undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const row of this.rows.values()) if (row.payload.uid === uid) return this.live(row);
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.rows.delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.db.revokeByGrantId(grantId);
  }
}

export function clientMetadata(c: ClientRecord): ClientMetadata {
  return {
    client_id: c.clientId,
    client_secret: c.clientSecret,
    client_name: c.clientName,
    application_type: c.applicationType,
    redirect_uris: [...c.redirectUris],
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    token_endpoint_auth_method: c.authMethod,
  };
}

export interface ProviderSetup {
  readonly provider: Provider;
  readonly db: MemoryDb;
  /** Public key that verifies the ID tokens (RS256). */
  readonly publicKey: KeyObject;
}

export interface ProviderOptions {
  readonly issuer: string;
  readonly store: SandboxStore;
  readonly claimNames: ClaimNames;
  readonly pairingOid: string;
  /** Read at each issuance, so faults can shorten lifetimes at run time. */
  readonly ttl: () => TokenTtl;
}

export function createProvider(opts: ProviderOptions): ProviderSetup {
  const { store, claimNames: cn } = opts;
  const db = new MemoryDb();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `sbx-${randomBytes(4).toString('hex')}`,
    use: 'sig',
    alg: 'RS256',
  };

  const configuration: Configuration = {
    adapter: (name: string) => new MemoryAdapter(name, db),
    clients: [...store.clients.values()].map(clientMetadata),
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'profile', ...CONSENT_KINDS.map(kindScope)],
    claims: {
      openid: ['sub', cn.idPe, cn.pairingOid, cn.solutionOid],
      profile: ['family_name', 'given_name', 'birthdate', 'gender', 'birthplace'],
    },
    // the idPe and OIDs belong in the ID token itself, not only in userinfo
    conformIdTokenClaims: false,
    acrValues: ['eidas1'],
    // Every refresh rotates the refresh token, for this confidential client too (oidc-provider's
    // default rotates only past 70% of its life): a rotated one spent again makes oidc-provider revoke
    // the whole grant, the reuse detection of RFC 9700 §4.14.2 that real providers apply. A gateway
    // whose instances race a refresh then loses the patient's link: what tests must be able to see.
    rotateRefreshToken: () => true,
    ...accountClaims(opts),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: {
      AccessToken: () => opts.ttl().accessToken,
      IdToken: () => opts.ttl().idToken,
      RefreshToken: () => opts.ttl().refreshToken,
      DeviceCode: () => opts.ttl().deviceCode,
      Interaction: 3600,
      Session: 86400,
      Grant: 30 * 86400,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      deviceFlow: deviceFlowPages(),
    },
    renderError,
  };

  const provider = new Provider(opts.issuer, configuration);
  return { provider, db, publicKey };
}

/**
 * The test identities as accounts: their claims (idPe, pairing OID, the client's solution OID and the
 * profile), in the ID token and userinfo, and the idPe and OIDs on the access token too.
 */
function accountClaims(opts: ProviderOptions): Pick<Configuration, 'findAccount' | 'extraTokenClaims'> {
  const { store, claimNames: cn } = opts;
  const solutionOidOf = (clientId: string | undefined): string | undefined =>
    clientId ? store.clients.get(clientId)?.solutionOid : undefined;
  return {
    async findAccount(ctx, sub) {
      const id = identityBySub(sub);
      if (!id) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            [cn.idPe]: id.idPe,
            [cn.pairingOid]: opts.pairingOid,
            [cn.solutionOid]: solutionOidOf(ctx.oidc.client?.clientId),
            family_name: id.birthName,
            given_name: id.firstNames.join(' '),
            birthdate: id.birthDate,
            gender: id.sex === 'F' ? 'female' : 'male',
            birthplace: id.birthplaceCode,
          };
        },
      };
    },
    async extraTokenClaims(_ctx, token) {
      const id = 'accountId' in token && token.accountId ? identityBySub(token.accountId) : undefined;
      if (!id) return undefined;
      return {
        [cn.idPe]: id.idPe,
        [cn.pairingOid]: opts.pairingOid,
        [cn.solutionOid]: solutionOidOf(token.clientId),
      };
    },
  };
}

type DeviceFlow = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;

/** The device flow (RFC 8628) with its pages in French: enter the code, confirm it, success. */
function deviceFlowPages(): DeviceFlow {
  return {
    enabled: true,
    charset: 'base-20',
    mask: '****-****',
    async userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out: unknown, err: unknown) {
      const msg = err ? `<p class="error" role="alert">${userCodeRefusal(err)}</p>` : '';
      ctx.body = page(
        'Associer un appareil',
        `${msg}<p>Saisissez le code affiché par votre passerelle.</p>${withSubmit(form, 'user_code', 'Continuer')}`,
      );
    },
    async userCodeConfirmSource(
      ctx: KoaContextWithOIDC,
      form: string,
      client: { clientName?: string; clientId: string },
      _info: unknown,
      userCode: string,
    ) {
      ctx.body = page(
        'Confirmer le code',
        `<p>La solution <strong>${esc(client.clientName ?? client.clientId)}</strong> demande l'accès à votre espace santé.</p>
<p>Code : <strong>${esc(userCode)}</strong>. Continuez seulement s'il est identique à celui affiché par votre passerelle.</p>
${form.replace('</form>', '<button type="submit">Continuer</button></form>')}
<form method="post" action="${esc(ctx.oidc.urlFor('code_verification'))}">${hiddenOf(form, 'xsrf')}${hiddenOf(form, 'user_code')}<input type="hidden" name="abort" value="yes"><button type="submit">Annuler</button></form>`,
      );
    },
    async successSource(ctx: KoaContextWithOIDC) {
      ctx.body = page(
        'Appariement réussi',
        '<p id="device-success">Votre passerelle est associée. Vous pouvez fermer cette page.</p>',
      );
    },
  };
}

/** oidc-provider's error page, in the sandbox's layout. */
const renderError: Configuration['renderError'] = async (ctx, out) => {
  ctx.type = 'html';
  ctx.body = page(
    'Erreur',
    `<p class="error" role="alert">${esc(out.error)}${out.error_description ? ` — ${esc(out.error_description)}` : ''}</p>`,
  );
};

/** Where a new code comes from: the gateway gives one at once (its patients page, or `medgw patient link`). */
const NEW_CODE =
  'Un nouveau code s’obtient aussitôt sur la passerelle : bouton « Nouveau code » de sa page Patients, ou touche Entrée dans le terminal où <code>medgw patient link</code> attend. L’ancien code est alors abandonné.';

/**
 * The refusal of a user code, by oidc-provider's re-render errors (lib/helpers/re_render_errors.js:
 * NotFoundError, ExpiredError, AlreadyUsedError, NoCodeError, AbortedError, told apart by message).
 */
export function userCodeRefusal(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (message === 'the code has expired') return `Ce code a expiré. ${NEW_CODE}`;
  if (message === 'code has already been used') return `Ce code a déjà servi. ${NEW_CODE}`;
  if (message === 'the interaction was aborted') return `Appariement annulé. ${NEW_CODE}`;
  if (message === 'no code submitted') return 'Saisissez le code affiché par votre passerelle.';
  return `Ce code est inconnu : vérifiez-le (huit lettres, tiret facultatif). ${NEW_CODE}`;
}

/** oidc-provider's form (lib/helpers/user_code_form.js) with a label, its placeholder in French, a button. */
function withSubmit(form: string, inputName: string, label: string): string {
  return form
    .replace(
      /<input\s+([^>]*name="user_code"[^>]*)><\/input>/s,
      `<label for="user_code">Code</label><input id="${inputName}" $1>`,
    )
    .replace('placeholder="Enter code"', 'placeholder="Code affiché par votre passerelle"')
    .replace('</form>', `<button type="submit">${esc(label)}</button></form>`);
}

function hiddenOf(form: string, name: string): string {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"/>`).exec(form);
  return m ? `<input type="hidden" name="${name}" value="${m[1]}">` : '';
}
