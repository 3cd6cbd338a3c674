/**
 * The patient page: sign in with a test identity, see the solutions you paired, withdraw consent
 * per kind or for everything, unpair a solution, and follow every exchange. Plain HTML forms.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { esc, head, page, row } from './html.ts';
import { identityByLogin, identityBySub, TEST_PASSWORD } from './identities.ts';
import { CONSENT_KINDS, type ConsentKind, KIND_LABELS } from './profiles.ts';
import type { SandboxStore } from './store.ts';

const RECEIVED_COLUMNS = ['Reçue le', 'Solution', 'Appareil', 'Mesure', 'Prise le', 'Valeur', 'Identifiant'];
const EXCHANGE_COLUMNS = ['Quand', 'Événement', 'Solution', 'Appareil', 'Mesure', 'Statut', 'Détail'];

export interface PatientDeps {
  readonly store: SandboxStore;
  readonly revoke: (sub: string, clientId: string, kinds: ConsentKind[]) => void;
  readonly unpair: (sub: string, clientId: string) => Promise<void>;
}

interface Session {
  readonly sub: string;
  readonly csrf: string;
}

type Form = Record<string, string | string[] | undefined>;
const one = (body: Form | undefined, name: string): string => {
  const v = body?.[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

const COOKIE = 'sbx_patient';

/** What the patient page's routes share: the store, the sessions, and the consent actions. */
interface PatientPage {
  readonly deps: PatientDeps;
  readonly store: SandboxStore;
  readonly sessions: Map<string, Session>;
}

export function registerPatientPage(app: FastifyInstance, deps: PatientDeps): void {
  const ctx: PatientPage = { deps, store: deps.store, sessions: new Map<string, Session>() };
  homeRoute(app, ctx);
  signInRoutes(app, ctx);
  consentRoutes(app, ctx);
}

function sessionOf(ctx: PatientPage, req: FastifyRequest): Session | undefined {
  const cookie = req.headers.cookie ?? '';
  const m = new RegExp(`(?:^|;\\s*)${COOKIE}=([A-Za-z0-9_-]+)`).exec(cookie);
  return m?.[1] ? ctx.sessions.get(m[1]) : undefined;
}

const html = (reply: FastifyReply, status: number, title: string, body: string) =>
  reply.code(status).type('text/html; charset=utf-8').send(page(title, body));

const loginPage = (error?: string) => `${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/patient/login">
<label for="login">Identifiant</label><input type="text" id="login" name="login" autocomplete="username" required>
<label for="password">Mot de passe</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Se connecter</button>
</form>`;

/** The session of a form post whose CSRF token matches, or undefined after answering 403. */
function guarded(
  ctx: PatientPage,
  req: FastifyRequest<{ Body: Form }>,
  reply: FastifyReply,
): Session | undefined {
  const s = sessionOf(ctx, req);
  if (!s || one(req.body, 'csrf') !== s.csrf) {
    void html(reply, 403, 'Refusé', '<p class="error" role="alert">Session expirée : reconnectez-vous.</p>');
    return undefined;
  }
  return s;
}

/** `GET /patient`: the sign-in form, or the patient's solutions, readings received and exchanges. */
function homeRoute(app: FastifyInstance, ctx: PatientPage): void {
  const { store } = ctx;
  app.get('/patient', async (req, reply) => {
    const s = sessionOf(ctx, req);
    if (!s) return html(reply, 200, 'Mon espace santé — connexion', loginPage());
    const who = identityBySub(s.sub);
    const csrf = `<input type="hidden" name="csrf" value="${esc(s.csrf)}">`;
    const solutions = solutionsHtml(store, s.sub, csrf);
    const exchanges = exchangeRows(store, who?.idPe);
    const received = receivedRows(store, s.sub);
    return html(
      reply,
      200,
      `Mon espace santé — ${who ? `${who.firstNames[0]} ${who.birthName}` : s.sub}`,
      `<form method="post" action="/patient/logout">${csrf}<button type="submit">Se déconnecter</button></form>
<h2>Solutions associées</h2>
${solutions}
<h2>Mesures reçues</h2>
<table>${head(RECEIVED_COLUMNS)}
<tbody>${received}</tbody></table>
<h2>Échanges</h2>
<table>${head(EXCHANGE_COLUMNS)}
<tbody>${exchanges}</tbody></table>`,
    );
  });
}

/** One section per paired solution: its consents, each with its withdraw form, and unpair. */
function solutionsHtml(store: SandboxStore, sub: string, csrf: string): string {
  const pairings = store.pairingsOf(sub);
  return pairings.length
    ? pairings
        .map((p) => {
          const c = store.clients.get(p.clientId);
          const kinds = CONSENT_KINDS.filter((k) => p.kinds.has(k));
          const rows = kinds
            .map(
              (k) => `<li>${esc(KIND_LABELS[k])}
<form method="post" action="/patient/revoke" style="display:inline">${csrf}<input type="hidden" name="client_id" value="${esc(p.clientId)}"><input type="hidden" name="kind" value="${esc(k)}"><button type="submit">Retirer l'accord</button></form></li>`,
            )
            .join('\n');
          return `<section class="solution"><h2>${esc(c?.clientName ?? p.clientId)}</h2>
<p>OID de la solution : ${esc(c?.solutionOid ?? '')} — associée le ${esc(p.pairedAt)}</p>
${kinds.length ? `<ul>${rows}</ul>` : '<p>Aucun accord en cours : la solution ne peut plus déposer ni lire de mesures.</p>'}
<form method="post" action="/patient/revoke">${csrf}<input type="hidden" name="client_id" value="${esc(p.clientId)}"><input type="hidden" name="kind" value="all"><button type="submit">Retirer tous les accords</button></form>
<form method="post" action="/patient/unpair">${csrf}<input type="hidden" name="client_id" value="${esc(p.clientId)}"><button type="submit">Dissocier la solution</button></form>
</section>`;
        })
        .join('\n')
    : '<p>Aucune solution associée.</p>';
}

/** The audit entries of the patient's idPe, newest first. */
function exchangeRows(store: SandboxStore, idPe: string | undefined): string {
  return store.audit
    .filter((a) => a.idPe === idPe)
    .slice()
    .reverse()
    .map((a) => {
      const c = a.clientId ? store.clients.get(a.clientId) : undefined;
      const dev = a.deviceId ? store.devices.get(a.deviceId) : undefined;
      return row(EXCHANGE_COLUMNS, [
        esc(a.at),
        esc(a.event),
        `${esc(c?.clientName ?? a.clientId ?? '')}<br>${esc(a.solutionOid ?? '')}`,
        esc(dev?.key ?? ''),
        esc(a.kind ?? ''),
        esc(a.status ?? ''),
        esc(a.observationId ?? a.message ?? ''),
      ]);
    })
    .join('\n');
}

/** The Observations stored for the patient, newest first. */
function receivedRows(store: SandboxStore, sub: string): string {
  return store.observations
    .filter((o) => o.sub === sub)
    .slice()
    .reverse()
    .map((o) => {
      const c = store.clients.get(o.clientId);
      const dev = o.deviceId ? store.devices.get(o.deviceId) : undefined;
      return row(RECEIVED_COLUMNS, [
        esc(o.receivedAt),
        `${esc(c?.clientName ?? o.clientId)}<br>${esc(o.solutionOid)}`,
        esc(dev?.key ?? ''),
        esc(o.kind),
        esc(String(o.resource.effectiveDateTime ?? '')),
        esc(valueText(o.resource)),
        esc(o.id),
      ]);
    })
    .join('\n');
}

/** Sign in with a test identity and its password; sign out. */
function signInRoutes(app: FastifyInstance, ctx: PatientPage): void {
  const { sessions } = ctx;
  app.post<{ Body: Form }>('/patient/login', async (req, reply) => {
    const id = identityByLogin(one(req.body, 'login'));
    if (!id || one(req.body, 'password') !== TEST_PASSWORD) {
      return html(
        reply,
        401,
        'Mon espace santé — connexion',
        loginPage('Identifiant ou mot de passe incorrect.'),
      );
    }
    const sid = randomBytes(24).toString('base64url');
    sessions.set(sid, { sub: id.sub, csrf: randomBytes(24).toString('base64url') });
    return reply
      .code(303)
      .header('set-cookie', `${COOKIE}=${sid}; Path=/patient; HttpOnly; SameSite=Lax`)
      .header('location', '/patient')
      .send();
  });

  app.post<{ Body: Form }>('/patient/logout', async (req, reply) => {
    const s = guarded(ctx, req, reply);
    if (!s) return reply;
    for (const [k, v] of sessions) if (v === s) sessions.delete(k);
    return reply
      .code(303)
      .header('set-cookie', `${COOKIE}=; Path=/patient; Max-Age=0`)
      .header('location', '/patient')
      .send();
  });
}

/** Withdraw consent for one kind or all, and unpair a solution. */
function consentRoutes(app: FastifyInstance, ctx: PatientPage): void {
  const { deps } = ctx;
  app.post<{ Body: Form }>('/patient/revoke', async (req, reply) => {
    const s = guarded(ctx, req, reply);
    if (!s) return reply;
    const kind = one(req.body, 'kind');
    const kinds = kind === 'all' ? [...CONSENT_KINDS] : CONSENT_KINDS.filter((k) => k === kind);
    if (kinds.length === 0)
      return html(reply, 400, 'Refusé', '<p class="error" role="alert">Type de mesure inconnu.</p>');
    deps.revoke(s.sub, one(req.body, 'client_id'), kinds);
    return reply.code(303).header('location', '/patient').send();
  });

  app.post<{ Body: Form }>('/patient/unpair', async (req, reply) => {
    const s = guarded(ctx, req, reply);
    if (!s) return reply;
    await deps.unpair(s.sub, one(req.body, 'client_id'));
    return reply.code(303).header('location', '/patient').send();
  });
}

type Json = Record<string, unknown>;
function quantity(q: unknown): string {
  const v = q as Json | undefined;
  return v && typeof v.value === 'number' ? `${v.value} ${String(v.code ?? v.unit ?? '')}` : '';
}

/** The value of a stored Observation as the patient reads it (components for blood pressure). */
function valueText(resource: Json): string {
  if (resource.valueQuantity) return quantity(resource.valueQuantity);
  const comps = Array.isArray(resource.component) ? (resource.component as Json[]) : [];
  return comps
    .map((c) => quantity(c.valueQuantity))
    .filter(Boolean)
    .join(' / ');
}
