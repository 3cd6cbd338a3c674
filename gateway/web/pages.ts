/** The page bodies. Each function returns the full HTML document of one page. */
import { CONSENT_KINDS, type ConsentKind } from '../../cloud-bridge/profiles.ts';
import type { Observation } from '../../drivers/types.ts';
import type { OutboxRecord } from '../contracts.ts';
import { STATED_MOMENTS } from '../pipeline/restate.ts';
import type { ApiTokenInfo } from './auth.ts';
import type { WebDeps } from './deps.ts';
import {
  actionForm,
  csrfField,
  formatAge,
  formatTime,
  type Html,
  h,
  type PageContext,
  page,
  raw,
  table,
} from './html.ts';
import { hasKey, type MessageKey, type Translate } from './i18n/index.ts';
import {
  allReadings,
  deliveredTimes,
  healthOf,
  lastSync,
  ledger,
  patientOverview,
  queue,
  type ReadingTimes,
  readingTimes,
  takenAt,
} from './model.ts';

function kindLabel(t: Translate, kind: string): string {
  const key = `kind.${kind}`;
  return hasKey(key) ? t(key) : kind;
}

/** A reason in plain words: the catalogue code's sentence when there is one, else the message. */
export function explainReason(t: Translate, reason: { code: string; message: string } | undefined): string {
  if (!reason) return '';
  const key = `reason.${reason.code}`;
  return hasKey(key) ? t(key, { message: reason.message }) : t('reason.other', { message: reason.message });
}

/** A glucose reading whose meter gave no meal moment: the person confirming it states one. */
const needsMoment = (r: OutboxRecord) => r.reason?.code === 'MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN';

/** HI / LO glucose the record cannot hold faithfully (no limit value): kept here and shown as critical. */
const CRITICAL = 'MEDGW_ERR_GLUCOSE_BEYOND_RANGE';
const isCritical = (r: OutboxRecord) => r.state === 'quarantined' && r.reason?.code === CRITICAL;

/**
 * Critical readings kept locally (docs/clinical-mapping.md, Glucose: HI / LO), with the decision in words:
 * on the provider overview and the exchanges page, above everything else.
 */
function criticalSection(ctx: PageContext, deps: WebDeps): Html {
  const { t } = ctx;
  const critical = allReadings(deps, { state: 'quarantined' }).filter(isCritical);
  if (critical.length === 0) return raw('');
  const items = critical.map(
    (r) =>
      h`<li data-critical="${r.id}">${patientName(deps, r.patientId ?? deps.registry.getDevice(r.deviceId)?.patientId, t)}${t('app.colon')}${kindLabel(t, r.kind)}, ${takenText(ctx, readingTimes(r))} — ${explainReason(t, r.reason)}</li>`,
  );
  return h`<div class="fr-alert fr-alert--error fr-mb-4w" role="alert"><h2 class="fr-alert__title">${t('critical.title', { n: critical.length })}</h2><p>${t('critical.decision')}</p><ul>${items}</ul><p><a href="/quarantine">${t('critical.open')}</a></p></div>`;
}

function explain(ctx: PageContext, r: OutboxRecord): string {
  const { t } = ctx;
  if (r.state === 'delivered') return t('explain.delivered', { when: formatTime(ctx.lang, r.updatedAt, '') });
  if (r.state === 'pending' && !r.reason) return t('explain.pending');
  if (r.state === 'in-flight') return t('explain.in-flight');
  return explainReason(t, r.reason);
}

/**
 * When a reading was taken, in words: the time and what is unsure about it (docs/clinical-mapping.md,
 * Time), or why there is none. Never the reception time in its place.
 */
function takenText(ctx: PageContext, times: ReadingTimes): string {
  const { t } = ctx;
  if (times.taken === undefined) return times.quality === 'received' ? t('time.notDated') : t('app.unknown');
  const at = formatTime(ctx.lang, times.taken, t('app.unknown'));
  if (times.quality === 'dst-unknown') return `${at} (${t('time.dstUnknown')})`;
  if (times.quality === 'untrusted') return `${at} (${t('time.untrusted')})`;
  return at;
}

function shownValue(o: Observation | null): string {
  if (!o) return '—';
  if (o.components?.length) {
    return o.components
      .filter((c) => c.value !== undefined)
      .map((c) => `${c.value}${c.unit ? ` ${c.unit}` : ''}`)
      .join(' / ');
  }
  if (o.value === undefined) return o.dataAbsentReason ?? '—';
  const v = o.decimals !== undefined ? o.value.toFixed(o.decimals) : String(o.value);
  return `${v}${o.unit ? ` ${o.unit}` : ''}`;
}

function patientName(deps: WebDeps, id: string | undefined, t: Translate): string {
  if (!id) return t('app.none');
  return deps.registry.getPatient(id)?.displayName ?? id;
}

function deviceName(deps: WebDeps, id: string): string {
  return deps.registry.getDevice(id)?.name ?? id;
}

function stateBadge(t: Translate, state: OutboxRecord['state']): Html {
  const cls: Record<OutboxRecord['state'], string> = {
    delivered: 'fr-badge--success',
    'dead-letter': 'fr-badge--error',
    held: 'fr-badge--warning',
    quarantined: 'fr-badge--warning',
    pending: 'fr-badge--info',
    'in-flight': 'fr-badge--info',
  };
  return h`<span class="fr-badge fr-badge--sm ${cls[state]}">${t(`state.${state}` as MessageKey)}</span>`;
}

// --- login -----------------------------------------------------------------------------------------

export function loginPage(ctx: PageContext, loginCsrf: string, next: string, failed: boolean): string {
  const { t } = ctx;
  const error = failed
    ? h`<div class="fr-alert fr-alert--error fr-alert--sm fr-mb-3w" role="alert"><p>${t('login.failed')}</p></div>`
    : raw('');
  return page(
    ctx,
    'login',
    t('login.title'),
    h`${error}<p>${t('login.intro')}</p>
<form method="post" action="/login" class="medgw-narrow">
<input type="hidden" name="_csrf" value="${loginCsrf}"><input type="hidden" name="next" value="${next}">
<div class="fr-input-group"><label class="fr-label" for="password">${t('login.password')}</label>
<input class="fr-input" type="password" id="password" name="password" autocomplete="current-password" required></div>
<button type="submit" class="fr-btn">${t('login.submit')}</button>
</form>`,
  );
}

export function errorPage(ctx: PageContext, title: string, text: string, code?: string): string {
  return page(
    ctx,
    'error',
    title,
    h`<div class="fr-alert fr-alert--error fr-mb-3w" role="alert"><p>${text}</p>${code ? h`<p><code>${code}</code></p>` : ''}</div><p><a class="fr-link" href="/status">${ctx.t('app.back')}</a></p>`,
  );
}

// --- status ----------------------------------------------------------------------------------------

export function statusPage(
  ctx: PageContext,
  deps: WebDeps,
  tokens: readonly ApiTokenInfo[],
  newToken?: string,
): string {
  const { t } = ctx;
  const q = queue(deps);
  const badge = (ok: 'ok' | 'off' | 'notConfigured' | 'degraded') => {
    const cls = {
      ok: 'fr-badge--success',
      off: 'fr-badge--error',
      notConfigured: 'fr-badge--info',
      degraded: 'fr-badge--warning',
    }[ok];
    const key = `status.${ok}` as MessageKey;
    return h`<span class="fr-badge fr-badge--sm ${cls}">${t(key)}</span>`;
  };
  const adapter = deps.ble?.adapterState();
  const links = deps.national?.links.list() ?? [];
  const breaker = deps.national?.state?.();
  const rows: Html[] = [
    h`<tr><th scope="row">${t('status.gateway')}</th><td>${badge('ok')}</td><td>${t('status.gatewayRunning', { since: formatTime(ctx.lang, deps.startedAt ?? deps.clock.now(), '') })}</td></tr>`,
    h`<tr><th scope="row">${t('status.broker')}</th><td>${deps.broker ? badge('ok') : badge('notConfigured')}</td><td>${deps.broker ? t('status.brokerClients', { count: deps.broker.counters.connections }) : ''}</td></tr>`,
    h`<tr><th scope="row">${t('status.bluetooth')}</th><td>${adapter === undefined ? badge('notConfigured') : adapter === 'poweredOn' ? badge('ok') : badge('off')}</td><td>${adapter ?? ''}</td></tr>`,
    h`<tr><th scope="row">${t('status.national')}</th><td>${deps.national ? (breaker === 'open' ? badge('degraded') : badge('ok')) : badge('notConfigured')}</td><td>${deps.national ? `${deps.national.label} — ${t('status.nationalLinked', { count: links.length })}` : ''}</td></tr>`,
    h`<tr><th scope="row">${t('status.queue')}</th><td>${q.byState['dead-letter'] + q.byState.held > 0 ? badge('degraded') : badge('ok')}</td><td>${t('status.queueDetail', { pending: q.byState.pending + q.byState['in-flight'], held: q.byState.held, quarantined: q.byState.quarantined, dead: q.byState['dead-letter'] })}${q.oldestUnsentAgeMs !== null ? h`<br>${t('status.oldest', { age: formatAge(t, q.oldestUnsentAgeMs) })}` : ''}</td></tr>`,
  ];
  const created = newToken
    ? h`<div class="fr-alert fr-alert--warning fr-alert--sm fr-mb-3w" role="status"><p>${t('tokens.created', { token: newToken })}</p></div>`
    : raw('');
  const tokenRows = tokens.map(
    (tk) =>
      h`<tr><td>${tk.label}</td><td>${formatTime(ctx.lang, tk.createdAt, '')}</td><td>${actionForm(ctx, `/tokens/${encodeURIComponent(tk.id)}/revoke`, t('tokens.revoke'), tk.label)}</td></tr>`,
  );
  return page(
    ctx,
    'status',
    t('status.title'),
    h`<div data-live id="status-table">${table(t('status.title'), [t('status.component'), t('status.state'), t('status.detail')], rows)}</div>
<h2 class="fr-mt-4w">${t('tokens.title')}</h2>
<p>${t('tokens.intro')}</p>
${created}
${tokens.length ? table(t('tokens.title'), [t('tokens.label'), t('tokens.createdAt'), t('app.actions')], tokenRows) : h`<p>${t('tokens.none')}</p>`}
<form method="post" action="/tokens" class="medgw-narrow">${csrfField(ctx)}
<div class="fr-input-group"><label class="fr-label" for="token-label">${t('tokens.label')}</label><input class="fr-input" id="token-label" name="label" required maxlength="80"></div>
<button type="submit" class="fr-btn fr-btn--secondary">${t('tokens.create')}</button></form>`,
  );
}

// --- devices ---------------------------------------------------------------------------------------

function signal(t: Translate, rssi: number): string {
  const level = rssi >= -60 ? 'strong' : rssi >= -80 ? 'medium' : 'weak';
  return t('devices.signalValue', { level: t(`devices.signal.${level}` as MessageKey), rssi });
}

export function devicesPage(ctx: PageContext, deps: WebDeps): string {
  const { t } = ctx;
  const registered = deps.registry.listDevices();
  const known = new Set(registered.flatMap((d) => [d.identity?.address?.toUpperCase(), d.id.toUpperCase()]));
  let nearby: Html;
  if (!deps.ble) nearby = h`<p>${t('devices.bluetoothOff')}</p>`;
  // a multi-user scale asks for the household user and the consent code it shows (User Data Service)
  else {
    const list = deps.ble.nearby().filter((n) => !known.has(n.address.toUpperCase()));
    nearby = list.length
      ? table(
          t('devices.nearby'),
          [t('devices.name'), t('devices.address'), t('devices.signal'), t('app.actions')],
          list.map(
            (n, i) =>
              h`<tr><td>${n.name ?? t('app.unknown')}</td><td><code>${n.address}</code></td><td>${signal(t, n.rssi)}</td><td><form method="post" action="/devices/pair" class="medgw-row">${csrfField(ctx)}<input type="hidden" name="address" value="${n.address}"><div class="fr-input-group"><label class="fr-label" for="pair-user-${i}">${t('devices.udsUser')}</label><input class="fr-input medgw-short" id="pair-user-${i}" name="userIndex" inputmode="numeric" pattern="[0-9]{1,3}"></div><div class="fr-input-group"><label class="fr-label" for="pair-code-${i}">${t('devices.udsCode')}</label><input class="fr-input medgw-short" id="pair-code-${i}" name="consentCode" inputmode="numeric" pattern="[0-9]{1,4}" autocomplete="off"></div><button type="submit" class="fr-btn fr-btn--sm">${t('devices.pair')}<span class="fr-sr-only"> — ${n.name ?? n.address}</span></button></form></td></tr>`,
          ),
        )
      : h`<p>${t('devices.nearbyNone')}</p>`;
  }
  const pairings = deps.ble?.pairings() ?? [];
  const progress = pairings.length
    ? h`<ul class="medgw-progress">${pairings.map((p) => {
        const failed = p.state === 'failed';
        return h`<li class="fr-mb-1w"><strong>${p.name ?? p.address}</strong>${t('app.colon')}<span class="fr-badge fr-badge--sm ${failed ? 'fr-badge--error' : p.state === 'synced' ? 'fr-badge--success' : 'fr-badge--info'}" data-pairing-state="${p.state}">${t(`pairing.state.${p.state}` as MessageKey)}</span>${failed && p.code ? h` — ${explainReason(t, { code: p.code, message: p.message ?? p.code })}` : ''}</li>`;
      })}</ul>`
    : h`<p>${t('devices.pairingNone')}</p>`;
  const patients = deps.registry.listPatients();
  const rows = registered.map((d, i) => {
    const name = d.name ?? d.id;
    const health = healthOf(deps, d.id);
    const options = [
      h`<option value="">${t('devices.noPatient')}</option>`,
      ...patients.map(
        (p) =>
          h`<option value="${p.id}"${p.id === d.patientId ? raw(' selected') : ''}>${p.displayName}</option>`,
      ),
    ];
    const users = Object.entries(d.users ?? {})
      .map(([u, pid]) => `${u} → ${patientName(deps, pid, t)}`)
      .join(', ');
    return h`<tr>
<td>${name}<br><code class="fr-text--xs">${d.id}</code></td>
<td>${d.transport.toUpperCase()}</td>
<td>${patientName(deps, d.patientId, t)}${users ? h`<br><span class="fr-text--xs">${users}</span>` : ''}</td>
<td>${formatTime(ctx.lang, lastSync(deps, d.id), t('app.never'))}</td>
<td>${health?.batteryPercent !== undefined ? `${health.batteryPercent} %` : t('app.unknown')}</td>
<td>${health?.clock ? t(`clock.${health.clock}` as MessageKey) : t('app.unknown')}</td>
<td>
<form method="post" action="/devices/${encodeURIComponent(d.id)}/rename" class="medgw-row">${csrfField(ctx)}<div class="fr-input-group"><label class="fr-label" for="rename-${i}">${t('devices.newName', { name })}</label><input class="fr-input" id="rename-${i}" name="name" required maxlength="100" value="${name}"></div><button class="fr-btn fr-btn--sm fr-btn--secondary" type="submit">${t('devices.rename')}</button></form>
<form method="post" action="/devices/${encodeURIComponent(d.id)}/assign" class="medgw-row">${csrfField(ctx)}<div class="fr-select-group"><label class="fr-label" for="assign-${i}">${t('devices.assignTo', { name })}</label><select class="fr-select" id="assign-${i}" name="patientId">${options}</select></div><div class="fr-input-group"><label class="fr-label" for="user-${i}">${t('devices.userIndex')}</label><input class="fr-input" id="user-${i}" name="userIndex" inputmode="numeric" pattern="[0-9]{1,3}"></div><button class="fr-btn fr-btn--sm fr-btn--secondary" type="submit">${t('devices.assign')}</button></form>
${actionForm(ctx, `/devices/${encodeURIComponent(d.id)}/forget`, t('devices.forget'), name, 'tertiary')}
</td></tr>`;
  });
  return page(
    ctx,
    'devices',
    t('devices.title'),
    h`<h2>${t('devices.nearby')}</h2><div data-live id="nearby">${nearby}</div>
<h2 class="fr-mt-4w">${t('devices.pairing')}</h2><div data-live id="pairing" aria-live="polite">${progress}</div>
<h2 class="fr-mt-4w">${t('devices.registered')}</h2>
<div data-live id="registered">${
      registered.length
        ? table(
            t('devices.registered'),
            [
              t('devices.name'),
              t('devices.transport'),
              t('devices.patient'),
              t('devices.lastSync'),
              t('devices.battery'),
              t('devices.clock'),
              t('app.actions'),
            ],
            rows,
          )
        : h`<p>${t('devices.registeredNone')}</p>`
    }</div>`,
  );
}

// --- patients --------------------------------------------------------------------------------------

export function patientsPage(ctx: PageContext, deps: WebDeps): string {
  const { t } = ctx;
  const patients = deps.registry.listPatients();
  const sections = patients.map((p, i) => {
    const link = deps.national?.links.get(p.id);
    const state = link ? link.status : 'none';
    const chosen = new Set<ConsentKind>(link?.kinds ?? link?.grantedKinds ?? CONSENT_KINDS);
    const granted = link?.grantedKinds ? new Set(link.grantedKinds) : undefined;
    const consents = link
      ? h`<form method="post" action="/patients/${encodeURIComponent(p.id)}/consents">${csrfField(ctx)}
<fieldset class="fr-fieldset" id="consents-${i}"><legend class="fr-fieldset__legend">${t('patients.consentsLegend', { name: p.displayName })}</legend>
${CONSENT_KINDS.filter((k) => !granted || granted.has(k)).map(
  (k) =>
    h`<div class="fr-fieldset__element"><div class="fr-checkbox-group"><input type="checkbox" id="kind-${i}-${k}" name="kind" value="${k}"${chosen.has(k) ? raw(' checked') : ''}><label class="fr-label" for="kind-${i}-${k}">${kindLabel(t, k)}</label></div></div>`,
)}
</fieldset><button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary">${t('patients.saveConsents')}</button></form>`
      : raw('');
    const actions = deps.national
      ? link && link.status === 'linked'
        ? actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/unlink`, t('patients.unlink'), p.displayName)
        : h`${actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/link`, t('patients.link'), p.displayName, 'primary')}${link ? actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/unlink`, t('patients.unlink'), p.displayName) : ''}`
      : h`<p>${t('patients.nationalOff')}</p>`;
    return h`<section class="fr-card fr-p-3w fr-mb-3w" aria-labelledby="patient-${i}">
<h2 id="patient-${i}" class="fr-h4">${p.displayName} <code class="fr-text--sm">${p.id}</code></h2>
<p>${t('patients.linkState')}${t('app.colon')}<span class="fr-badge fr-badge--sm ${state === 'linked' ? 'fr-badge--success' : state === 'none' ? 'fr-badge--info' : 'fr-badge--warning'}" data-link-state="${state}">${t(`patients.state.${state}` as MessageKey)}</span></p>
${consents}
<div class="fr-mt-2w medgw-actions">${actions}${actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/remove`, t('patients.remove'), p.displayName, 'tertiary')}</div>
</section>`;
  });
  return page(
    ctx,
    'patients',
    t('patients.title'),
    h`<div data-live id="patients">${sections.length ? sections : h`<p>${t('patients.none')}</p>`}</div>
<h2 class="fr-mt-4w">${t('patients.add')}</h2>
<form method="post" action="/patients" class="medgw-narrow">${csrfField(ctx)}
<div class="fr-input-group"><label class="fr-label" for="patient-id">${t('patients.id')}<span class="fr-hint-text">${t('patients.idHint')}</span></label><input class="fr-input" id="patient-id" name="id" required pattern="[A-Za-z0-9._:\\-]{1,128}"></div>
<div class="fr-input-group"><label class="fr-label" for="patient-name">${t('patients.displayName')}</label><input class="fr-input" id="patient-name" name="displayName" required maxlength="200"></div>
<button type="submit" class="fr-btn">${t('patients.add')}</button></form>`,
  );
}

// --- quarantine ------------------------------------------------------------------------------------

export function quarantinePage(ctx: PageContext, deps: WebDeps): string {
  const { t } = ctx;
  const list = allReadings(deps, { state: 'quarantined' });
  const patients = deps.registry.listPatients();
  const rows = list.map((r, i) => {
    const n = i + 1;
    const suggested = r.patientId ?? deps.registry.getDevice(r.deviceId)?.patientId;
    return h`<tr>
<td>${formatTime(ctx.lang, takenAt(r), t('app.unknown'))}</td>
<td>${deviceName(deps, r.deviceId)}</td>
<td>${kindLabel(t, r.kind)}</td>
<td>${shownValue(r.observation)}</td>
<td class="medgw-wrap">${isCritical(r) ? h`<p class="fr-badge fr-badge--error fr-badge--sm">${t('critical.badge')}</p> ` : ''}${explainReason(t, r.reason)}</td>
<td>${isCritical(r) ? raw('') : h`<form method="post" action="/quarantine/confirm" class="medgw-row">${csrfField(ctx)}<input type="hidden" name="id" value="${r.id}"><div class="fr-select-group"><label class="fr-label" for="q-${n}">${t('quarantine.confirmFor')}</label><select class="fr-select" id="q-${n}" name="patientId" required>${patients.map((p) => h`<option value="${p.id}"${p.id === suggested ? raw(' selected') : ''}>${p.displayName}</option>`)}</select></div>${needsMoment(r) ? h`<div class="fr-select-group"><label class="fr-label" for="qm-${n}">${t('quarantine.moment')}</label><select class="fr-select" id="qm-${n}" name="moment" required><option value="" selected disabled>${t('quarantine.momentChoose')}</option>${STATED_MOMENTS.map((m) => h`<option value="${m}">${t(`moment.${m}` as MessageKey)}</option>`)}</select></div>` : ''}<button class="fr-btn fr-btn--sm" type="submit">${t('quarantine.confirm')}<span class="fr-sr-only"> — ${t('app.readingN', { n })}</span></button></form>`}
${actionForm(ctx, '/quarantine/discard', t('quarantine.discard'), t('app.readingN', { n }), 'tertiary', { id: r.id })}</td></tr>`;
  });
  return page(
    ctx,
    'quarantine',
    t('quarantine.title'),
    h`<p>${t('quarantine.intro')}</p><div data-live id="quarantine">${
      rows.length
        ? table(
            t('quarantine.title'),
            [
              t('quarantine.when'),
              t('quarantine.device'),
              t('quarantine.kind'),
              t('quarantine.value'),
              t('quarantine.reason'),
              t('app.actions'),
            ],
            rows,
          )
        : h`<p>${t('quarantine.none')}</p>`
    }</div>`,
  );
}

// --- exchanges -------------------------------------------------------------------------------------

export function exchangesPage(ctx: PageContext, deps: WebDeps): string {
  const { t } = ctx;
  const all = allReadings(deps).filter((r) => r.state !== 'quarantined');
  const held = all.filter((r) => r.state === 'held').sort((a, b) => b.updatedAt - a.updatedAt);
  const sent = all
    .filter((r) => r.state !== 'held')
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(0, 200);
  const delivered = deliveredTimes(deps);
  const row = (r: OutboxRecord, n: number, retry: boolean) => {
    const times = readingTimes(r, delivered);
    return h`<tr data-reading-state="${r.state}" data-kind="${r.kind}"><td>${formatTime(ctx.lang, r.updatedAt, '')}</td><td data-time="taken">${takenText(ctx, times)}</td><td data-time="received">${formatTime(ctx.lang, times.received, '')}</td><td>${patientName(deps, r.patientId, t)}</td><td>${kindLabel(t, r.kind)}</td><td>${stateBadge(t, r.state)}</td><td class="medgw-wrap">${explain(ctx, r)}</td>${retry ? h`<td>${actionForm(ctx, '/exchanges/retry', t('exchanges.retry'), t('app.readingN', { n }), 'secondary', { id: r.id })}</td>` : ''}</tr>`;
  };
  const head = [
    t('exchanges.when'),
    t('exchanges.taken'),
    t('exchanges.received'),
    t('exchanges.patient'),
    t('exchanges.kind'),
    t('exchanges.state'),
    t('exchanges.explain'),
  ];
  return page(
    ctx,
    'exchanges',
    t('exchanges.title'),
    h`${criticalSection(ctx, deps)}<h2>${t('exchanges.held')}</h2><div data-live id="held">${
      held.length
        ? table(
            t('exchanges.held'),
            [...head, t('app.actions')],
            held.map((r, i) => row(r, i + 1, true)),
          )
        : h`<p>${t('exchanges.heldNone')}</p>`
    }</div>
<h2 class="fr-mt-4w">${t('exchanges.sent')}</h2><div data-live id="sent">${
      sent.length
        ? table(
            t('exchanges.sent'),
            head,
            sent.map((r, i) => row(r, i + 1, false)),
          )
        : h`<p>${t('exchanges.none')}</p>`
    }</div>`,
  );
}

// --- provider overview -----------------------------------------------------------------------------

export function overviewPage(ctx: PageContext, deps: WebDeps): string {
  const { t } = ctx;
  const patients = patientOverview(deps);
  const rows = patients.map(
    (p) => h`<tr><th scope="row">${p.displayName}</th>
<td>${t(`patients.state.${p.linkStatus}` as MessageKey)}</td>
<td>${p.devices.map((d) => deviceName(deps, d)).join(', ') || t('app.none')}</td>
<td>${p.last.length ? h`<ul class="medgw-plain">${p.last.map((l) => h`<li data-kind="${l.kind}">${kindLabel(t, l.kind)}${t('app.colon')}${t('overview.takenReceived', { taken: takenText(ctx, l), received: formatTime(ctx.lang, l.received, '') })}</li>`)}</ul>` : t('app.none')}</td>
<td>${
      p.gaps.length
        ? h`<ul class="medgw-plain">${p.gaps.map((g) => h`<li class="medgw-gap">${g.kind === null ? t('overview.gapNever') : t('overview.gap', { kind: kindLabel(t, g.kind).toLocaleLowerCase(ctx.lang), days: g.days })}</li>`)}</ul>`
        : t('overview.noGap')
    }</td></tr>`,
  );
  const ledgerRows = ledger(deps).map(
    (l) =>
      h`<tr><th scope="row">${l.name}</th><td>${l.reported ?? t('app.unknown')}</td><td>${l.cursor ?? '—'}</td><td>${l.received}</td><td>${l.delivered}</td><td>${l.waiting}</td><td>${l.refused}</td><td>${l.missing ?? '—'}</td></tr>`,
  );
  return page(
    ctx,
    'overview',
    t('overview.title'),
    h`${criticalSection(ctx, deps)}<div data-live id="overview">${table(
      t('overview.patients'),
      [
        t('patients.title'),
        t('patients.linkState'),
        t('overview.devices'),
        t('overview.last'),
        t('overview.gaps'),
      ],
      rows,
    )}
<h2 class="fr-mt-4w">${t('overview.ledger')}</h2><p>${t('overview.ledgerIntro')}</p>
${table(
  t('overview.ledger'),
  [
    t('overview.devices'),
    t('overview.reported'),
    t('overview.cursor'),
    t('overview.received'),
    t('overview.delivered'),
    t('overview.waiting'),
    t('overview.refused'),
    t('overview.missing'),
  ],
  ledgerRows,
)}</div>
<h2 class="fr-mt-4w">${t('overview.export')}</h2>
<ul class="fr-btns-group fr-btns-group--inline-md"><li><a class="fr-btn fr-btn--secondary" href="/audit.csv" download>${t('overview.exportCsv')}</a></li><li><a class="fr-btn fr-btn--secondary" href="/audit.json" download>${t('overview.exportJson')}</a></li></ul>`,
  );
}
