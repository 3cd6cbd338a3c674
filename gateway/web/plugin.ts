/**
 * The local pages as one fastify plugin: sign-in, sessions, CSRF on every form, the pages, their
 * actions (POST then redirect, so everything works without JavaScript), server-sent events, the
 * provider JSON views and audit export, /metrics, /healthz, /readyz and the DSFR assets.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, isMedgwError, MedgwError } from '../../kernel/errors.ts';
import { errorHandler, refuse as refuseWith } from '../http/errors.ts';
import { csrfPlugin, formField, formFields, sessionPlugin } from '../http/session.ts';
import { documentedSchema } from '../http/zod.ts';
import type { Logger } from '../log.ts';
import type { OpsEvent } from '../ops/operations.ts';
import { auditCsv, createActions, type WebActions } from './actions.ts';
import { webApiRoutes } from './api.ts';
import {
  AdminPassword,
  ApiTokens,
  announcePendingPassword,
  clientAddress,
  deliverAdminPassword,
  LoginThrottle,
  removeInitialPasswordFile,
  Sessions,
  SignInForms,
} from './auth.ts';
import type { WebDeps } from './deps.ts';
import { DeviceCodes, deviceCodePage } from './device-codes.ts';
import { FAVICON_SVG, faviconIco } from './favicon.ts';
import type { PageContext } from './html.ts';
import { isLang, type Lang, type MessageKey, pickLang, translator } from './i18n/index.ts';
import { listQuery, listSearch } from './listing.ts';
import { LiveHub } from './live.ts';
import { createMetrics } from './metrics.ts';
import { buildOpenApi, type OpenApiDocument, type RouteInfo, WEB_SCHEMAS } from './openapi.ts';
import {
  devicePage,
  devicesPage,
  errorPage,
  exchangesPage,
  loginPage,
  overviewPage,
  patientsPage,
  quarantinePage,
  statusPage,
} from './pages.ts';
import { readiness } from './readiness.ts';
import { watchSharedChanges } from './shared-changes.ts';

const SESSION_COOKIE = 'medgw_session';
/** DSFR sets inline styles from its scripts (collapse heights), hence 'unsafe-inline' for styles only. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
const LOGIN_COOKIE = 'medgw_login';
const LANG_COOKIE = 'medgw_lang';

/** Paths anyone may fetch: the sign-in page, probes, assets, and the pairing callback (its `state` is the secret). */
const PUBLIC_PATHS = new Set(['/login', '/healthz', '/readyz', '/callback', '/favicon.ico', '/favicon.svg']);
const PUBLIC_PREFIXES = ['/dsfr/', '/web/'];
/** Read-only routes a provider API token may call. */
const TOKEN_PATHS = new Set(['/overview.json', '/audit.json', '/audit.csv', '/metrics', '/openapi.json']);

const DSFR_DIST = join(dirname(fileURLToPath(import.meta.resolve('@gouvfr/dsfr/package.json'))), 'dist');
const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');

type AdminHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

const field = formField;
const fields = formFields;

/** The `:id` of the route. */
function idOf(req: FastifyRequest): string {
  return formField(req.params, 'id');
}

function pathOf(req: FastifyRequest): string {
  return req.url.split('?')[0] ?? '/';
}

function safeNext(next: string): string {
  return /^\/[A-Za-z0-9/_.-]*$/.test(next) && !next.startsWith('//') && next !== '/login' ? next : '/status';
}

export interface Web {
  readonly hub: LiveHub;
  readonly sessions: Sessions;
  readonly tokens: ApiTokens;
  /** Every action of the pages, implemented once (forms and JSON admin API). */
  readonly actions: WebActions;
  /** The fastify plugin to register on the gateway's HTTP server. */
  plugin(app: FastifyInstance): Promise<void>;
  /** The pages' actions as a JSON admin API: register with prefix `/api/v1`, behind the admin token hook. */
  api(app: FastifyInstance, requireAdmin: AdminHook): Promise<void>;
}

/** Password checks running or waiting on the thread pool at once; beyond it a sign-in is refused at once. */
const MAX_CHECKING = 8;

function langOf(req: FastifyRequest): Lang {
  return pickLang(formField(req.query, 'lang'), req.cookies[LANG_COOKIE]);
}

function ctxOf(req: FastifyRequest): PageContext {
  const lang = langOf(req);
  const s = req.session;
  // a live refresh (live.js) must not consume the one-time notice meant for the next page load
  const live = req.headers['x-medgw-live'] === '1';
  const flash = live ? undefined : s?.flash;
  if (s && !live) s.flash = undefined;
  return {
    lang,
    t: translator(lang),
    path: pathOf(req),
    search: listSearch(req.query),
    ...(s ? { csrf: s.csrf } : {}),
    ...(flash ? { flash } : {}),
  };
}

function html(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

/** What every route group of the pages uses, built once by the plugin. */
interface Pages {
  readonly app: FastifyInstance;
  readonly deps: WebDeps;
  readonly actions: WebActions;
  readonly log: Logger;
  /** Answers a refusal with the catalogue's status: a page for a browser, JSON for scripts. */
  refuse(req: FastifyRequest, reply: FastifyReply, e: MedgwError, status?: number): FastifyReply;
  /** POST → action → flash → 303 to the page (errors become a flash on the same page). */
  action(
    url: string,
    back: string | ((req: FastifyRequest) => string),
    run: (req: FastifyRequest) => Promise<MessageKey | { redirect: string } | undefined>,
  ): void;
}

interface SignIn {
  readonly password: AdminPassword;
  readonly sessions: Sessions;
  readonly signInForms: SignInForms;
  readonly throttle: LoginThrottle;
}

export function createWeb(deps: WebDeps): Web {
  const password = new AdminPassword(deps.dataDir);
  const created = password.ensure(deps.clock, deps.initialPassword);
  if (created !== undefined && deps.initialPassword === undefined) {
    if (deps.onAdminPassword) deps.onAdminPassword(created);
    else deliverAdminPassword(created, { dataDir: deps.dataDir, log: deps.log.child({ component: 'web' }) });
  } else if (created === undefined) {
    // a first start that failed after creating the password (a busy port): say again where it is
    announcePendingPassword({ dataDir: deps.dataDir, log: deps.log.child({ component: 'web' }) });
  }
  const sessions = new Sessions(deps.clock);
  const signInForms = new SignInForms(deps.clock);
  const throttle = new LoginThrottle(deps.clock);
  const tokens = new ApiTokens(deps.dataDir);
  const hub = new LiveHub(deps);
  const log = deps.log.child({ component: 'web' });
  const actions = createActions(deps, tokens, (topic) => hub.publish(topic));
  // the operations reach Bluetooth and the national side; their events refresh the live pages
  const detach = deps.ops.attach({
    ...(deps.ble ? { ble: deps.ble } : {}),
    ...(deps.national ? { national: deps.national } : {}),
  });
  const onOperation = (e: OpsEvent) => {
    for (const topic of e.topics) hub.publish(topic);
  };
  deps.ops.on('event', onOperation);
  // device codes asked from the patients page; a new one abandons the one shown (device-codes.ts)
  const deviceCodes = new DeviceCodes({
    start: (patientId) => {
      if (!deps.national?.startDeviceLink)
        throw new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'the national side is not configured');
      return deps.national.startDeviceLink(patientId);
    },
    onLinked: (link) => {
      deps.journal.audit({ event: 'patient.linked', patientId: link.patientId });
      deps.national?.kick?.();
    },
    onChange: () => hub.publish('links'),
  });

  async function plugin(app: FastifyInstance): Promise<void> {
    const metrics = createMetrics(deps);
    // the routes of this plugin, for the OpenAPI document when the server's full list is not given
    const own: RouteInfo[] = [];
    app.addHook('onRoute', (r) => {
      own.push({ method: r.method, url: r.url, schema: documentedSchema(r.schema) });
    });
    hub.start();
    // the other instances sharing the storage: their registry and journal notifications, as events
    const unwatchShared = watchSharedChanges(deps, (topics) => deps.ops.changedElsewhere(topics));
    app.addHook('onClose', async () => {
      unwatchShared();
      deps.ops.off('event', onOperation);
      detach();
      deviceCodes.stop();
      hub.stop();
      metrics.close();
    });
    await app.register(fastifyCookie);
    await app.register(fastifyFormbody);
    // req.session from the session cookie; every POST but sign-in and the pairing callback carries
    // the session's anti-forgery token (gateway/http/session.ts)
    await app.register(sessionPlugin({ sessions, cookie: SESSION_COOKIE }));
    await app.register(
      csrfPlugin({
        field: '_csrf',
        exempt: (req) => pathOf(req) === '/login' || pathOf(req) === '/callback',
        log,
      }),
    );
    await app.register(fastifyStatic, {
      root: DSFR_DIST,
      prefix: '/dsfr/',
      decorateReply: false,
      index: false,
    });
    await app.register(fastifyStatic, {
      root: STATIC_DIR,
      prefix: '/web/',
      decorateReply: false,
      index: false,
    });

    // refusals: the catalogue's status; a page for a browser, JSON for scripts (gateway/http/errors.ts)
    const catalogue = deps.catalogue ?? ERROR_CATALOGUE;
    const page = (req: FastifyRequest, e: MedgwError) => {
      const ctx = ctxOf(req);
      const text =
        e.code === 'MEDGW_ERR_WEB_CSRF'
          ? ctx.t('error.csrf')
          : e.code === 'MEDGW_ERR_WEB_UNAUTHENTICATED'
            ? ctx.t('error.unauthenticated')
            : e.message;
      return errorPage(ctx, ctx.t('app.error'), text, e.code);
    };
    const refuse: Pages['refuse'] = (req, reply, e, status) =>
      refuseWith(req, reply, e, { catalogue, page, ...(status !== undefined ? { status } : {}) });
    app.setErrorHandler(
      errorHandler({ log, catalogue, badRequest: 'MEDGW_ERR_WEB_FORM', page, what: 'page failed' }),
    );

    const action: Pages['action'] = (url, back, run) => {
      app.post(url, async (request, reply) => {
        const req = request;
        const target = typeof back === 'string' ? back : back(req);
        const t = translator(langOf(req));
        try {
          // the action tells the live pages what changed (actions.ts)
          const done = await run(req);
          if (done && typeof done === 'object') return reply.redirect(done.redirect, 303);
          if (req.session) req.session.flash = { kind: 'success', text: t(done ?? 'app.done') };
        } catch (e) {
          if (!isMedgwError(e) || e.code === 'MEDGW_ERR_INTERNAL') throw e;
          if (req.session) req.session.flash = { kind: 'error', text: `${e.message} (${e.code})` };
          log.info({ code: e.code, route: url }, 'page action refused');
        }
        return reply.redirect(target, 303);
      });
    };

    const pages: Pages = { app, deps, actions, log, refuse, action };
    pageHooks(pages, tokens);
    iconRoutes(pages);
    signInRoutes(pages, { password, sessions, signInForms, throttle });
    pageRoutes(pages, tokens);
    tokenFormRoutes(pages);
    deviceFormRoutes(pages);
    patientRoutes(pages, deviceCodes, hub);
    readingFormRoutes(pages);
    monitoringRoutes(pages, hub, metrics, own);
  }

  /** The JSON admin API of the pages' actions, behind the admin token (register with prefix /api/v1). */
  async function api(app: FastifyInstance, requireAdmin: AdminHook): Promise<void> {
    app.addHook('onRequest', requireAdmin);
    webApiRoutes(app, deps, actions);
  }

  return { hub, sessions, tokens, actions, plugin, api };
}

/** On every request and answer of the pages: security headers, the language cookie, authentication. */
function pageHooks(pages: Pages, tokens: ApiTokens): void {
  const { app, deps, refuse } = pages;
  // every answer of the pages: no framing (clickjacking), scripts and styles from the gateway only
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });

  // language choice: ?lang= sets the cookie for the next pages
  app.addHook('onRequest', async (req, reply) => {
    const q = formField(req.query, 'lang');
    if (isLang(q) && q !== req.cookies[LANG_COOKIE]) {
      reply.setCookie(LANG_COOKIE, q, {
        path: '/',
        sameSite: 'lax',
        httpOnly: true,
        secure: deps.secureCookies ?? false,
        maxAge: 365 * 24 * 3600,
      });
    }
  });

  // authentication: a session cookie, or a provider API token on the read-only JSON routes
  app.addHook('onRequest', async (request, reply) => {
    const req = request;
    const path = pathOf(req);
    if (PUBLIC_PATHS.has(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p))) return;
    if (req.session) return;
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && req.method === 'GET' && TOKEN_PATHS.has(path) && tokens.check(bearer)) {
      req.viaToken = true;
      return;
    }
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !TOKEN_PATHS.has(path)) {
      return reply.redirect(`/login?next=${encodeURIComponent(path)}`, 303);
    }
    return refuse(
      req,
      reply,
      new MedgwError(
        'MEDGW_ERR_WEB_UNAUTHENTICATED',
        bearer ? 'the API token is not valid for this route' : 'sign in first',
      ),
    );
  });
}

/** The icon browsers ask for. */
function iconRoutes(pages: Pages): void {
  const { app } = pages;
  const ico = faviconIco();
  const icon = (type: string, body: string | Buffer) => async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.header('content-type', type).header('cache-control', 'public, max-age=86400').send(body);
  app.get('/favicon.ico', icon('image/x-icon', ico));
  app.get('/favicon.svg', icon('image/svg+xml', FAVICON_SVG));
}

/** Sign in (a signed anti-forgery value, a throttle per client, a bound on password checks) and out. */
function signInRoutes(pages: Pages, auth: SignIn): void {
  const { app, deps, refuse, log } = pages;
  const { password, sessions, signInForms, throttle } = auth;
  /** Password checks running or waiting on the thread pool; beyond MAX_CHECKING a sign-in is refused at once. */
  let checking = 0;
  app.get('/', async (_req, reply) => reply.redirect('/status', 303));
  app.get('/login', async (req, reply) => {
    // no server state for an unauthenticated visitor: the form's anti-forgery value is signed
    const token = signInForms.issue();
    reply.setCookie(LOGIN_COOKIE, token, {
      path: '/login',
      sameSite: 'strict',
      httpOnly: true,
      secure: deps.secureCookies ?? false,
    });
    const next = safeNext(formField(req.query, 'next') || '/status');
    return html(reply, loginPage(ctxOf(req), token, next, false));
  });
  app.post('/login', async (request, reply) => {
    const req = request;
    const cookie = req.cookies[LOGIN_COOKIE];
    if (!signInForms.check(cookie, field(req.body, '_csrf'))) {
      return refuse(
        req,
        reply,
        new MedgwError('MEDGW_ERR_WEB_CSRF', 'the sign-in form has no valid anti-forgery token'),
      );
    }
    const next = safeNext(field(req.body, 'next'));
    const who = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], deps.trustedProxy);
    const wait = throttle.lockedFor(who);
    if (wait > 0 || checking >= MAX_CHECKING) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      log.warn({ code: 'MEDGW_ERR_WEB_LOGIN' }, 'sign-in refused: too many attempts');
      reply.header('retry-after', String(seconds));
      return refuse(
        req,
        reply,
        new MedgwError('MEDGW_ERR_WEB_LOGIN', `too many sign-in attempts; try again in ${seconds} s`),
        429,
      );
    }
    let ok: boolean;
    checking += 1;
    try {
      ok = await password.verify(field(req.body, 'password'));
    } finally {
      checking -= 1;
    }
    if (!ok) {
      throttle.fail(who);
      log.warn({ code: 'MEDGW_ERR_WEB_LOGIN' }, 'sign-in refused');
      return html(reply, loginPage(ctxOf(req), String(cookie), next, true), 401);
    }
    throttle.succeed(who);
    const s = sessions.create();
    reply.clearCookie(LOGIN_COOKIE, { path: '/login' });
    reply.setCookie(SESSION_COOKIE, s.id, {
      path: '/',
      sameSite: 'strict',
      httpOnly: true,
      secure: deps.secureCookies ?? false,
    });
    log.info({}, 'signed in');
    if (removeInitialPasswordFile(deps.dataDir))
      log.info({}, 'the file holding the first admin password is removed');
    return reply.redirect(next, 303);
  });
  app.post('/logout', async (request, reply) => {
    const req = request;
    sessions.destroy(req.session?.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });
}

/** The pages themselves (GET). */
function pageRoutes(pages: Pages, tokens: ApiTokens): void {
  const { app, deps } = pages;
  app.get('/status', async (request, reply) => {
    const req = request;
    const live = req.headers['x-medgw-live'] === '1';
    const newToken = live ? undefined : req.session?.newToken;
    if (req.session && !live) req.session.newToken = undefined;
    return html(reply, statusPage(ctxOf(req), deps, tokens.list(), newToken));
  });
  // the long lists take ?q= ?patient= ?kind= ?state= ?page= (listing.ts)
  app.get('/devices', async (req, reply) => html(reply, devicesPage(ctxOf(req), deps, listQuery(req.query))));
  app.get('/devices/:id', async (request, reply) => {
    const req = request;
    const ctx = ctxOf(req);
    // a CGM's page shows one day of its sensor values: ?day=YYYY-MM-DD (cgm-view.ts)
    const body = devicePage(ctx, deps, idOf(req), field(req.query, 'day'));
    if (body !== undefined) return html(reply, body);
    return html(
      reply,
      errorPage(ctx, ctx.t('app.error'), ctx.t('device.notFound'), 'MEDGW_ERR_REGISTRY_UNKNOWN'),
      404,
    );
  });
  app.get('/patients', async (req, reply) =>
    html(reply, patientsPage(ctxOf(req), deps, listQuery(req.query))),
  );
  app.get('/quarantine', async (req, reply) =>
    html(reply, quarantinePage(ctxOf(req), deps, listQuery(req.query))),
  );
  app.get('/exchanges', async (req, reply) =>
    html(reply, exchangesPage(ctxOf(req), deps, listQuery(req.query))),
  );
  app.get('/overview', async (req, reply) => html(reply, overviewPage(ctxOf(req), deps)));
}

/** Provider API tokens, from the status page. */
function tokenFormRoutes(pages: Pages): void {
  const { actions, action } = pages;
  action('/tokens', '/status', async (req) => {
    const { token } = actions.createToken(field(req.body, 'label'));
    if (req.session) req.session.newToken = token;
    return undefined;
  });
  action('/tokens/:id/revoke', '/status', async (req) => {
    actions.revokeToken(idOf(req));
    return 'app.done';
  });
}

/** The devices pages: pairing and its answers, rename, assign, pair again, forget. */
function deviceFormRoutes(pages: Pages): void {
  const { deps, actions, action } = pages;
  action('/devices/pair', '/devices', async (req) => {
    const address = field(req.body, 'address');
    const index = field(req.body, 'userIndex').trim();
    const code = field(req.body, 'consentCode').trim();
    if ((index === '') !== (code === '')) {
      throw new MedgwError(
        'MEDGW_ERR_WEB_FORM',
        'give both the user number and the consent code, or neither',
      );
    }
    if (index !== '' && !/^[0-9]{1,3}$/.test(index)) {
      throw new MedgwError('MEDGW_ERR_WEB_FORM', 'user number: 0 to 254');
    }
    if (code !== '' && !/^[0-9]{1,4}$/.test(code)) {
      throw new MedgwError('MEDGW_ERR_WEB_FORM', 'consent code: 0 to 9999, as the device shows it');
    }
    await actions.pair(
      address,
      index !== '' ? { index: Number(index), consentCode: Number(code) } : undefined,
    );
    return 'devices.pairing';
  });
  // the person answers the pairing agent: the code the device shows, or whether the numbers match
  action('/devices/pair/answer', '/devices', async (req) => {
    const address = field(req.body, 'address');
    const confirm = field(req.body, 'confirm');
    const code = field(req.body, 'passkey').replaceAll(' ', '');
    if (confirm === 'yes' || confirm === 'no') {
      await actions.answerPairing(address, { confirm: confirm === 'yes' });
      return 'devices.pairing';
    }
    if (!/^[0-9]{6}$/.test(code)) {
      throw new MedgwError('MEDGW_ERR_WEB_FORM', 'code: the 6 digits the device shows');
    }
    await actions.answerPairing(address, { passkey: Number(code) });
    return 'devices.pairing';
  });
  // back to the device's own page, or to the list when there is no such device
  const devicePath = (req: FastifyRequest) => {
    const id = idOf(req);
    return deps.registry.getDevice(id) ? `/devices/${encodeURIComponent(id)}` : '/devices';
  };
  action('/devices/:id/rename', devicePath, async (req) => {
    await actions.rename(idOf(req), field(req.body, 'name'));
    return 'devices.renamed';
  });
  action('/devices/:id/assign', devicePath, async (req) => {
    const id = idOf(req);
    const patientId = field(req.body, 'patientId') || null;
    const userIndex = field(req.body, 'userIndex').trim();
    if (userIndex !== '' && !/^[0-9]{1,3}$/.test(userIndex)) {
      throw new MedgwError('MEDGW_ERR_WEB_FORM', 'user number: 0 to 254');
    }
    await actions.assign(id, patientId, userIndex !== '' ? Number(userIndex) : undefined);
    return 'devices.assigned';
  });
  action('/devices/:id/repair', '/devices', async (req) => {
    await actions.repair(idOf(req));
    return 'devices.pairing';
  });
  action('/devices/:id/forget', '/devices', async (req) => {
    await actions.forget(idOf(req));
    return 'devices.forgotten';
  });
}

/** The patients page and the link with the national side (browser sign-in or device code). */
function patientRoutes(pages: Pages, deviceCodes: DeviceCodes, hub: LiveHub): void {
  const { app, deps, actions, action, log } = pages;
  const needNational = () => {
    if (!deps.national)
      throw new MedgwError('MEDGW_ERR_WEB_UNAVAILABLE', 'the national side is not configured');
    return deps.national;
  };
  const baseUrl = (req: FastifyRequest) => deps.publicUrl ?? `${req.protocol}://${req.host}`;
  action('/patients', '/patients', async (req) => {
    await actions.addPatient(field(req.body, 'id'), field(req.body, 'displayName'));
    return 'patients.added';
  });
  action('/patients/:id/link', '/patients', async (req) => {
    const { url } = await actions.startLink(
      idOf(req),
      deps.national?.redirectUri ?? `${baseUrl(req)}/callback`,
    );
    return { redirect: url };
  });
  action('/patients/:id/device-code', '/patients', async (req) => {
    const id = idOf(req);
    if (!deps.registry.getPatient(id)) throw new MedgwError('MEDGW_ERR_REGISTRY_UNKNOWN', `no patient ${id}`);
    await deviceCodes.start(id);
    deps.journal.audit({ event: 'patient.link.started', patientId: id });
    hub.publish('links');
    return { redirect: `/patients/${encodeURIComponent(id)}/device-code` };
  });
  app.get('/patients/:id/device-code', async (request, reply) => {
    const req = request;
    const patient = deps.registry.getPatient(idOf(req));
    if (!patient) return reply.redirect('/patients', 303);
    return html(reply, deviceCodePage(ctxOf(req), deps.clock, patient, deviceCodes.get(patient.id)));
  });
  app.get('/callback', async (request, reply) => {
    const req = request;
    const national = needNational();
    const session = req.session;
    const t = translator(langOf(req));
    let link: Awaited<ReturnType<typeof national.completeBrowserLink>>;
    try {
      link = await national.completeBrowserLink(new URL(req.url, baseUrl(req)));
    } catch (e) {
      // the patient refused, or the answer is stale: say so on the patients page when signed in
      if (!session || !isMedgwError(e) || e.code === 'MEDGW_ERR_INTERNAL') throw e;
      const text =
        e.code === 'MEDGW_ERR_PAIRING_DENIED' ? t('patients.linkDenied') : `${e.message} (${e.code})`;
      session.flash = { kind: 'error', text };
      log.info({ code: e.code }, 'pairing answer refused');
      return reply.redirect('/patients', 303);
    }
    deps.journal.audit({ event: 'patient.linked', patientId: link.patientId });
    national.kick?.();
    hub.publish('links');
    if (session) session.flash = { kind: 'success', text: t('patients.linked') };
    return reply.redirect('/patients', 303);
  });
  action('/patients/:id/unlink', '/patients', async (req) => {
    await actions.unlink(idOf(req));
    return 'patients.unlinked';
  });
  action('/patients/:id/consents', '/patients', async (req) => {
    await actions.setConsents(idOf(req), fields(req.body, 'kind'));
    return 'patients.consentsSaved';
  });
  action('/patients/:id/remove', '/patients', async (req) => {
    await actions.removePatient(idOf(req));
    return 'patients.removed';
  });
}

/** Quarantine and exchanges: confirm, discard, retry. */
function readingFormRoutes(pages: Pages): void {
  const { actions, action } = pages;
  action('/quarantine/confirm', '/quarantine', async (req) => {
    const moment = formField(req.body, 'moment');
    await actions.confirmQuarantined(
      field(req.body, 'id'),
      field(req.body, 'patientId'),
      typeof moment === 'string' && moment !== '' ? moment : undefined,
    );
    return 'quarantine.confirmed';
  });
  action('/quarantine/discard', '/quarantine', async (req) => {
    await actions.discardQuarantined(field(req.body, 'id'));
    return 'quarantine.discarded';
  });
  action('/exchanges/retry', '/exchanges', async (req) => {
    await actions.retry(field(req.body, 'id'));
    return 'exchanges.retried';
  });
}

/** Live updates, provider views, audit export, metrics, the OpenAPI document, health and readiness. */
function monitoringRoutes(
  pages: Pages,
  hub: LiveHub,
  metrics: ReturnType<typeof createMetrics>,
  own: readonly RouteInfo[],
): void {
  const { app, deps, actions } = pages;
  app.get('/events', async (req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    hub.add(reply.raw);
    req.raw.on('close', () => reply.raw.end());
  });
  app.get('/overview.json', { schema: WEB_SCHEMAS.overview }, async () => actions.overview());
  app.get('/audit.json', { schema: WEB_SCHEMAS.auditJson }, async (_req, reply) =>
    reply
      .header('content-disposition', 'attachment; filename="medgw-audit.json"')
      .send({ entries: actions.auditExport('json') }),
  );
  app.get('/audit.csv', { schema: WEB_SCHEMAS.auditCsv }, async (_req, reply) =>
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="medgw-audit.csv"')
      .send(auditCsv(actions.auditExport('csv'))),
  );
  app.get('/metrics', { schema: WEB_SCHEMAS.metrics }, async (_req, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  let document: OpenApiDocument | undefined;
  app.get('/openapi.json', { schema: WEB_SCHEMAS.openapi }, async () => {
    document ??= buildOpenApi(deps.routes?.() ?? own);
    return document;
  });
  app.get('/healthz', { schema: WEB_SCHEMAS.healthz }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: WEB_SCHEMAS.readyz }, async (_req, reply) => {
    const r = readiness({
      journal: deps.journal,
      registry: deps.registry,
      dataDir: deps.dataDir,
      now: deps.clock.now(),
      minFreeDiskBytes: deps.minFreeDiskBytes,
    });
    if (!r.ready) return reply.code(503).send({ status: 'not ready', reasons: r.reasons });
    return { status: 'ready' };
  });
  // the exchanges as JSON for the session's own scripts (same data as the page)
  app.get('/exchanges.json', { schema: WEB_SCHEMAS.exchangesJson }, async () => ({
    readings: actions.exchanges(),
  }));
}
