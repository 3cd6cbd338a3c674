/**
 * The FranceConnect-like login and the consent page per data kind, as plain HTML forms. The patient
 * signs in with a test identity, then ticks the kinds of data the solution may write and read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { esc, page } from './html.ts';
import { identityByLogin, identityBySub, TEST_PASSWORD } from './identities.ts';
import { type ConsentKind, KIND_LABELS, kindFromScope, kindScope } from './profiles.ts';
import type { SandboxStore } from './store.ts';

export interface InteractionDeps {
  readonly provider: () => Provider;
  readonly store: SandboxStore;
  readonly onPaired: (sub: string, clientId: string, grantId: string, kinds: ConsentKind[]) => void;
}

type Params = { uid: string };
type Form = Record<string, string | string[] | undefined>;

function field(body: Form, name: string): string {
  const v = body[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

function fields(body: Form, name: string): string[] {
  const v = body[name];
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function loginForm(uid: string, clientName: string, error?: string): string {
  return page(
    'Connexion à Mon espace santé',
    `${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<p>La solution <strong>${esc(clientName)}</strong> demande à être associée à votre espace santé.</p>
<p class="note">Identité de test (mot de passe commun documenté).</p>
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Identifiant</label><input type="text" id="login" name="login" autocomplete="username" required>
<label for="password">Mot de passe</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Se connecter</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Annuler</button></form>`,
  );
}

function consentForm(
  uid: string,
  clientName: string,
  who: string,
  kinds: ConsentKind[],
  error?: string,
): string {
  const boxes = kinds
    .map(
      (k) =>
        `<label><input type="checkbox" name="kind" value="${esc(k)}" checked> ${esc(KIND_LABELS[k])}</label>`,
    )
    .join('\n');
  return page(
    'Autoriser le partage de mesures',
    `${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<p>${esc(who)}, la solution <strong>${esc(clientName)}</strong> souhaite déposer et lire dans votre espace santé les mesures suivantes. Décochez celles que vous refusez.</p>
<form method="post" action="/interaction/${esc(uid)}/consent">
<fieldset><legend>Types de mesures</legend>
${boxes}
</fieldset>
<button type="submit" name="decision" value="accept">Autoriser</button>
<button type="submit" name="decision" value="deny">Refuser</button>
</form>`,
  );
}

export function registerInteractions(app: FastifyInstance, deps: InteractionDeps): void {
  const details = (req: FastifyRequest, reply: FastifyReply) =>
    deps.provider().interactionDetails(req.raw, reply.raw);
  const clientName = (clientId: unknown): string => {
    const c = typeof clientId === 'string' ? deps.store.clients.get(clientId) : undefined;
    return c?.clientName ?? String(clientId);
  };
  const requestedKinds = (scope: unknown): ConsentKind[] =>
    String(scope ?? '')
      .split(' ')
      .map(kindFromScope)
      .filter((k): k is ConsentKind => k !== undefined);

  const finish = async (req: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>) => {
    const to = await deps
      .provider()
      .interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    return reply.code(303).header('location', to).send();
  };

  app.get<{ Params: Params }>('/interaction/:uid', async (req, reply) => {
    const d = await details(req, reply);
    reply.type('text/html; charset=utf-8');
    if (d.prompt.name === 'login') return loginForm(d.uid, clientName(d.params.client_id));
    const who = d.session?.accountId ? identityBySub(d.session.accountId) : undefined;
    return consentForm(
      d.uid,
      clientName(d.params.client_id),
      who ? `${who.firstNames[0]} ${who.birthName}` : 'Madame, Monsieur',
      requestedKinds(d.params.scope),
    );
  });

  app.post<{ Params: Params; Body: Form }>('/interaction/:uid/login', async (req, reply) => {
    const d = await details(req, reply);
    const body = req.body ?? {};
    const id = identityByLogin(field(body, 'login'));
    if (!id || field(body, 'password') !== TEST_PASSWORD) {
      reply.code(401).type('text/html; charset=utf-8');
      return loginForm(d.uid, clientName(d.params.client_id), 'Identifiant ou mot de passe incorrect.');
    }
    return finish(req, reply, { login: { accountId: id.sub, acr: 'eidas1', amr: ['pwd'] } });
  });

  app.post<{ Params: Params; Body: Form }>('/interaction/:uid/consent', async (req, reply) => {
    const d = await details(req, reply);
    const body = req.body ?? {};
    const clientId = String(d.params.client_id);
    const accountId = d.session?.accountId;
    if (d.prompt.name !== 'consent' || !accountId) {
      reply.code(400).type('text/html; charset=utf-8');
      return page('Erreur', '<p class="error" role="alert">Connectez-vous avant de donner votre accord.</p>');
    }
    if (field(body, 'decision') === 'deny') {
      return finish(req, reply, {
        error: 'access_denied',
        error_description: 'the patient refused to share data',
      });
    }
    const asked = requestedKinds(d.params.scope);
    const ticked = fields(body, 'kind').filter((k): k is ConsentKind => (asked as string[]).includes(k));
    if (ticked.length === 0) {
      reply.code(400).type('text/html; charset=utf-8');
      const who = identityBySub(accountId);
      return consentForm(
        d.uid,
        clientName(clientId),
        who ? `${who.firstNames[0]} ${who.birthName}` : 'Madame, Monsieur',
        asked,
        'Cochez au moins un type de mesure, ou refusez.',
      );
    }
    const provider = deps.provider();
    const grant = d.grantId
      ? ((await provider.Grant.find(d.grantId)) ?? new provider.Grant({ accountId, clientId }))
      : new provider.Grant({ accountId, clientId });
    const scopes = String(d.params.scope ?? '').split(' ');
    const base = ['openid', 'offline_access', 'profile'].filter((s) => scopes.includes(s));
    grant.addOIDCScope([...base, ...ticked.map(kindScope)].join(' '));
    const refused = asked.filter((k) => !ticked.includes(k)).map(kindScope);
    if (refused.length > 0) grant.rejectOIDCScope(refused.join(' '));
    const missingClaims = (d.prompt.details as { missingOIDCClaims?: string[] }).missingOIDCClaims;
    if (missingClaims?.length) grant.addOIDCClaims(missingClaims);
    const grantId = await grant.save();
    deps.onPaired(accountId, clientId, grantId, ticked);
    return finish(req, reply, { consent: { grantId } });
  });

  app.post<{ Params: Params }>('/interaction/:uid/abort', async (req, reply) => {
    await details(req, reply);
    return finish(req, reply, {
      error: 'access_denied',
      error_description: 'the patient cancelled the sign-in',
    });
  });
}
