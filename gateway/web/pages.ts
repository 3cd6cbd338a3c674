/** The page bodies. Each function returns the full HTML document of one page. */
import { CONSENT_KINDS, type ConsentKind } from '../../cloud-bridge/profiles.ts';
import { DEFINITIONS } from '../../drivers/definitions/index.ts';
import type { Observation } from '../../drivers/types.ts';
import type { ErrorCode } from '../../kernel/errors.ts';
import { keptPoints } from '../cgm/summaries.ts';
import type { OutboxRecord } from '../contracts.ts';
import { STATED_MOMENTS } from '../pipeline/restate.ts';
import type { ApiTokenInfo } from './auth.ts';
import { cgmSection, cgmView } from './cgm-view.ts';
import type { PairingQuestion, WebDeps } from './deps.ts';
import {
  actionForm,
  csrfField,
  formatAge,
  formatTime,
  type Html,
  h,
  type PageContext,
  page,
  type Row,
  raw,
  table,
} from './html.ts';
import { hasKey, type MessageKey, type Translate } from './i18n/index.ts';
import {
  type Choice,
  filterForm,
  type ListQuery,
  matches,
  NO_QUERY,
  pager,
  paginate,
  resultCount,
} from './listing.ts';
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
} from './model.ts';
import { formatQuantity } from './units.ts';

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
  if (r.state === 'delivered') return t('explain.delivered');
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

function absentText(t: Translate, reason: string): string {
  const key = `absent.${reason}`;
  return hasKey(key) ? t(key) : reason;
}

/**
 * A reading's value in the page's language (`18,9 mmHg` in French), components joined by ` / `; each
 * value stays on one line with its unit.
 */
function shownValue(ctx: PageContext, o: Observation | null): Html | string {
  if (!o) return '—';
  const one = (c: Observation) =>
    c.value === undefined
      ? undefined
      : h`<span class="medgw-nowrap">${c.comparator ?? ''}${formatQuantity(ctx.lang, c.value, c.unit, c.decimals)}</span>`;
  const parts = (o.components?.length ? o.components : [o]).map(one).filter((v) => v !== undefined);
  // why there is no value, in words (IEEE 11073-20601 special values: NaN, NRes, ±INFINITY)
  if (parts.length === 0) return o.dataAbsentReason ? absentText(ctx.t, o.dataAbsentReason) : '—';
  return h`${parts.map((p, i) => (i === 0 ? p : h` / ${p}`))}`;
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
    local: 'fr-badge--new',
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

export function errorPage(ctx: PageContext, title: string, text: string, code?: ErrorCode): string {
  return page(
    ctx,
    'error',
    title,
    h`<div class="fr-alert fr-alert--error fr-mb-3w" role="alert"><p>${text}</p>${code ? h`<p><code>${code}</code></p>` : ''}</div><p><a class="fr-link" href="/status">${ctx.t('app.back')}</a></p>`,
  );
}

// --- status ----------------------------------------------------------------------------------------

/** noble's adapter states (`poweredOn`…) in words; a state noble may add later is shown as it is. */
function adapterText(t: Translate, state: string): string {
  const key = `ble.state.${state}`;
  return hasKey(key) ? t(key) : state;
}

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
  const part = (name: string, state: Html, detail: Html | string): Row => ({
    cells: [{ v: name, th: true }, state, detail],
  });
  const rows: Row[] = [
    part(
      t('status.gateway'),
      badge('ok'),
      t('status.gatewayRunning', { since: formatTime(ctx.lang, deps.startedAt ?? deps.clock.now(), '') }),
    ),
    part(
      t('status.broker'),
      deps.broker ? badge('ok') : badge('notConfigured'),
      deps.broker ? t('status.brokerClients', { count: deps.broker.counters.connections }) : '',
    ),
    part(
      t('status.bluetooth'),
      adapter === undefined ? badge('notConfigured') : adapter === 'poweredOn' ? badge('ok') : badge('off'),
      adapter === undefined ? '' : h`<span data-adapter-state="${adapter}">${adapterText(t, adapter)}</span>`,
    ),
    part(
      t('status.national'),
      deps.national ? (breaker === 'open' ? badge('degraded') : badge('ok')) : badge('notConfigured'),
      deps.national ? `${deps.national.label} — ${t('status.nationalLinked', { count: links.length })}` : '',
    ),
    part(
      t('status.queue'),
      q.byState['dead-letter'] + q.byState.held > 0 ? badge('degraded') : badge('ok'),
      h`${t('status.queueDetail', { pending: q.byState.pending + q.byState['in-flight'], held: q.byState.held, quarantined: q.byState.quarantined, dead: q.byState['dead-letter'] })}${q.oldestUnsentAgeMs !== null ? h`<br>${t('status.oldest', { age: formatAge(t, q.oldestUnsentAgeMs) })}` : ''}`,
    ),
  ];
  const created = newToken
    ? h`<div class="fr-alert fr-alert--warning fr-alert--sm fr-mb-3w" role="status"><p class="medgw-break">${t('tokens.created', { token: newToken })}</p></div>`
    : raw('');
  const tokenRows = tokens.map(
    (tk): Row => ({
      cells: [
        tk.label,
        formatTime(ctx.lang, tk.createdAt, ''),
        actionForm(ctx, `/tokens/${encodeURIComponent(tk.id)}/revoke`, t('tokens.revoke'), tk.label),
      ],
    }),
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

/** The name a device goes by on every page: its registry name, else the name it advertises. */
function bleName(deps: WebDeps, t: Translate, address: string, advertised: string | undefined): string {
  const d = deps.registry.getDevice(address) ?? deps.registry.getDevice(address.toUpperCase());
  return d?.name ?? advertised ?? t('app.unknown');
}

const deviceHref = (id: string) => `/devices/${encodeURIComponent(id)}`;

/** What to press on a device waiting to be paired and what the person will see, from its model's definition. */
function pairingHelp(ctx: PageContext, driver: string | undefined): Html | string {
  const help = driver === undefined ? undefined : DEFINITIONS.find((d) => d.id === driver)?.pairingHelp;
  return help
    ? h`<details class="medgw-help"><summary>${ctx.t('devices.howToPair')}</summary><p>${help[ctx.lang]}</p></details>`
    : '';
}

function patientChoices(deps: WebDeps): Choice[] {
  return deps.registry.listPatients().map((p) => ({ value: p.id, label: p.displayName }));
}

export function devicesPage(ctx: PageContext, deps: WebDeps, query: ListQuery = NO_QUERY): string {
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
          list.map((n, i) => ({
            cells: [
              h`${bleName(deps, t, n.address, n.name)}${pairingHelp(ctx, n.driver)}`,
              h`<code>${n.address}</code>`,
              signal(t, n.rssi),
              h`<form method="post" action="/devices/pair" class="medgw-row">${csrfField(ctx)}<input type="hidden" name="address" value="${n.address}"><div class="fr-input-group"><label class="fr-label" for="pair-user-${i}">${t('devices.udsUser')}</label><input class="fr-input medgw-short" id="pair-user-${i}" name="userIndex" inputmode="numeric" pattern="[0-9]{1,3}"></div><div class="fr-input-group"><label class="fr-label" for="pair-code-${i}">${t('devices.udsCode')}</label><input class="fr-input medgw-short" id="pair-code-${i}" name="consentCode" inputmode="numeric" pattern="[0-9]{1,4}" autocomplete="off"></div><button type="submit" class="fr-btn fr-btn--sm">${t('devices.pair')}<span class="fr-sr-only"> — ${n.name ?? n.address}</span></button></form>`,
            ],
          })),
        )
      : h`<p>${t('devices.nearbyNone')}</p>`;
  }
  // only the devices not paired yet: a bonded device is in the table below, under the same name
  const bonded = (address: string) => {
    const d = deps.registry.getDevice(address);
    return d?.transport === 'ble' && d.bond === 'bonded';
  };
  // a bonded device that forgot the gateway is listed too (the person pairs it again from here), and
  // one being paired again while the pairing agent asks the person something
  const pairings = (deps.ble?.pairings() ?? []).filter(
    (p) =>
      p.state !== 'synced' &&
      (!bonded(p.deviceId ?? p.address) ||
        p.code === BOND_LOST ||
        deps.ble?.question?.(p.address) !== undefined),
  );
  const progress = pairings.length
    ? h`<ul class="medgw-progress">${pairings.map((p, i) => {
        const failed = p.state === 'failed';
        const name = bleName(deps, t, p.deviceId ?? p.address, p.name);
        const question = failed ? undefined : deps.ble?.question?.(p.address);
        const repair =
          failed && p.code === BOND_LOST
            ? actionForm(
                ctx,
                `${deviceHref(p.deviceId ?? p.address)}/repair`,
                t('device.repair'),
                name,
                'primary',
              )
            : '';
        return h`<li class="fr-mb-1w" data-pairing="${p.address}"><strong>${name}</strong> <code class="fr-text--xs">${p.address}</code>${t('app.colon')}<span class="fr-badge fr-badge--sm ${failed ? 'fr-badge--error' : 'fr-badge--info'}" data-pairing-state="${p.state}">${t(`pairing.state.${p.state}` as MessageKey)}</span>${failed && p.code ? h` — ${explainReason(t, { code: p.code, message: p.message ?? p.code })}` : ''}${question ? pairingQuestion(ctx, p.address, question, i) : ''}${repair}</li>`;
      })}</ul>`
    : h`<p>${t('devices.pairingNone')}</p>`;
  const shown = registered.filter(
    (d) =>
      matches(query.q, d.name, d.id, patientName(deps, d.patientId, t)) &&
      (query.patient === '' ||
        d.patientId === query.patient ||
        Object.values(d.users ?? {}).includes(query.patient)),
  );
  const paged = paginate(shown, query.page);
  const rows = paged.items.map((d): Row => {
    const name = d.name ?? d.id;
    const health = healthOf(deps, d.id);
    const users = Object.entries(d.users ?? {})
      .map(([u, pid]) => `${u} → ${patientName(deps, pid, t)}`)
      .join(', ');
    return {
      attrs: { 'data-device': d.id },
      cells: [
        {
          v: h`<a href="${deviceHref(d.id)}">${name}</a><br><code class="fr-text--xs medgw-break">${d.id}</code>`,
          th: true,
        },
        d.transport.toUpperCase(),
        h`${patientName(deps, d.patientId, t)}${users ? h`<br><span class="fr-text--xs">${users}</span>` : ''}`,
        formatTime(ctx.lang, lastSync(deps, d.id), t('app.never')),
        health?.batteryPercent !== undefined ? `${health.batteryPercent} %` : t('app.unknown'),
        health?.clock ? t(`clock.${health.clock}` as MessageKey) : t('app.unknown'),
      ],
    };
  });
  return page(
    ctx,
    'devices',
    t('devices.title'),
    h`<h2>${t('devices.nearby')}</h2><div data-live id="nearby">${nearby}</div>
<h2 class="fr-mt-4w">${t('devices.pairing')}</h2><div data-live id="pairing" aria-live="polite">${progress}</div>
<h2 class="fr-mt-4w">${t('devices.registered')}</h2>
${registered.length > 0 ? filterForm(ctx, '/devices', query, { patients: patientChoices(deps) }) : ''}
<div data-live id="registered">${resultCount(ctx, query, shown.length)}${
      rows.length
        ? table(
            t('devices.registered'),
            [
              t('devices.name'),
              t('devices.transport'),
              t('devices.patient'),
              t('devices.lastSync'),
              t('devices.battery'),
              t('devices.clock'),
            ],
            rows,
          )
        : registered.length
          ? ''
          : h`<p>${t('devices.registeredNone')}</p>`
    }${pager(ctx, '/devices', query, paged)}</div>`,
  );
}

const BOND_LOST = 'MEDGW_ERR_BLE_BOND_LOST';

/** `123456` → `123 456`, as meters display it. */
function sixDigits(n: number | undefined): string {
  return String(n ?? 0)
    .padStart(6, '0')
    .replace(/^(\d{3})(\d{3})$/, '$1 $2');
}

/** What the pairing agent asks (BlueZ): a field for the code the device shows, a yes/no, or a code to type on it. */
function pairingQuestion(ctx: PageContext, address: string, q: PairingQuestion, i: number): Html {
  const { t } = ctx;
  const code = sixDigits(q.passkey);
  if (q.kind === 'display')
    return h`<p class="fr-mt-1w" data-question="display">${t('pairing.prompt.display', { code })}</p>`;
  if (q.kind === 'confirm') {
    return h`<div class="fr-mt-1w" data-question="confirm"><p>${t('pairing.prompt.confirm', { code })}</p>${actionForm(ctx, '/devices/pair/answer', t('pairing.prompt.yes'), address, 'primary', { address, confirm: 'yes' })} ${actionForm(ctx, '/devices/pair/answer', t('pairing.prompt.no'), address, 'secondary', { address, confirm: 'no' })}</div>`;
  }
  return h`<form method="post" action="/devices/pair/answer" class="medgw-row fr-mt-1w" data-question="passkey">${csrfField(ctx)}<input type="hidden" name="address" value="${address}"><div class="fr-input-group"><label class="fr-label" for="passkey-${i}">${t('pairing.prompt.passkey')}<span class="fr-hint-text">${t('pairing.prompt.passkeyHint')}</span></label><input class="fr-input medgw-short" id="passkey-${i}" name="passkey" inputmode="numeric" pattern="[0-9 ]{6,7}" autocomplete="one-time-code" required></div><button type="submit" class="fr-btn fr-btn--sm">${t('pairing.prompt.send')}</button></form>`;
}

/**
 * A CGM's sensor values kept on the gateway for its summaries (journal state `local`): not readings to
 * review, so not on the quarantine page; here the provider sees that they exist, how old the oldest is
 * and when the running period ends.
 */
function cgmKeptRow(
  ctx: PageContext,
  deps: WebDeps,
  deviceId: string,
  local: readonly OutboxRecord[],
): Row[] {
  const { t } = ctx;
  const now = deps.clock.now();
  const kept = keptPoints(deps.journal, deviceId, deps.cgm ?? { days: 14, timezone: 'UTC' }, now, local);
  if (kept.count === 0) return [];
  const text = t('device.cgmKeptValue', {
    count: String(kept.count),
    oldest: formatTime(ctx.lang, kept.oldestMs, t('app.unknown')),
  });
  const next = deps.cgm
    ? ` ${t('device.cgmNextSummary', { end: formatTime(ctx.lang, kept.periodEndMs, '') })}`
    : '';
  return [
    {
      attrs: { 'data-cgm-kept': String(kept.count) },
      cells: [{ v: t('device.cgmKept'), th: true }, `${text}${next}`],
    },
  ];
}

/**
 * A CGM's sensor values of one day (gateway/web/cgm-view.ts), read from the journal's local rows of the
 * device: shown to the provider, sent nowhere. Empty for a device that has none.
 */
function cgmValues(
  ctx: PageContext,
  deps: WebDeps,
  deviceId: string,
  records: readonly OutboxRecord[],
  day: string | undefined,
): Html {
  if (records.length === 0) return raw('');
  const view = cgmView(records, deps.cgm?.timezone ?? 'UTC', day);
  return view ? cgmSection(ctx, view, deviceHref(deviceId)) : raw('');
}

/**
 * One device: what the gateway knows of it, and its actions (rename, assign, forget); for a CGM, its
 * sensor values of the day asked for (`?day=YYYY-MM-DD`, else the latest day kept).
 */
export function devicePage(ctx: PageContext, deps: WebDeps, id: string, day?: string): string | undefined {
  const { t } = ctx;
  const d = deps.registry.getDevice(id);
  if (!d) return undefined;
  const name = d.name ?? d.id;
  const health = healthOf(deps, d.id);
  const users = Object.entries(d.users ?? {});
  // a CGM's sensor values kept local: read once for the count above and the day shown below
  const local = deps.journal.list({ deviceId: d.id, state: 'local' });
  const facts: Row[] = [
    { cells: [{ v: t('devices.id'), th: true }, h`<code class="medgw-break">${d.id}</code>`] },
    { cells: [{ v: t('devices.transport'), th: true }, d.transport.toUpperCase()] },
    { cells: [{ v: t('devices.patient'), th: true }, patientName(deps, d.patientId, t)] },
    ...(users.length
      ? [
          {
            cells: [
              { v: t('device.users'), th: true },
              users.map(([u, pid]) => `${u} → ${patientName(deps, pid, t)}`).join(', '),
            ],
          },
        ]
      : []),
    {
      cells: [
        { v: t('devices.lastSync'), th: true },
        formatTime(ctx.lang, lastSync(deps, d.id), t('app.never')),
      ],
    },
    {
      cells: [
        { v: t('devices.battery'), th: true },
        health?.batteryPercent !== undefined ? `${health.batteryPercent} %` : t('app.unknown'),
      ],
    },
    {
      cells: [
        { v: t('devices.clock'), th: true },
        health?.clock ? t(`clock.${health.clock}` as MessageKey) : t('app.unknown'),
      ],
    },
    ...cgmKeptRow(ctx, deps, d.id, local),
  ];
  const options = [
    h`<option value="">${t('devices.noPatient')}</option>`,
    ...deps.registry
      .listPatients()
      .map(
        (p) =>
          h`<option value="${p.id}"${p.id === d.patientId ? raw(' selected') : ''}>${p.displayName}</option>`,
      ),
  ];
  const href = deviceHref(d.id);
  const lost = (deps.ble?.pairings() ?? []).some(
    (p) => (p.deviceId ?? p.address) === d.id && p.state === 'failed' && p.code === BOND_LOST,
  );
  const bondLost = lost
    ? h`<div class="fr-alert fr-alert--warning fr-mb-3w" data-bond-lost><h2 class="fr-alert__title">${t('device.bondLostTitle')}</h2><p>${t('device.bondLost')}</p><p class="fr-mt-2w">${actionForm(ctx, `${href}/repair`, t('device.repair'), name, 'primary')}</p></div>`
    : '';
  // the language switch keeps the day of sensor values shown
  const shownDay = /^\d{4}-\d{2}-\d{2}$/.test(day ?? '') ? { search: `day=${day}` } : {};
  return page(
    { ...ctx, ...shownDay },
    'device',
    name,
    h`<p><a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/devices">${t('device.back')}</a></p>
${bondLost}<div data-live id="device">${table(t('device.details'), [t('device.item'), t('device.value')], facts)}</div>
${cgmValues(ctx, deps, d.id, local, day)}
<h2 class="fr-mt-4w">${t('devices.rename')}</h2>
<form method="post" action="${href}/rename" class="medgw-narrow">${csrfField(ctx)}<div class="fr-input-group"><label class="fr-label" for="rename">${t('devices.newName', { name })}</label><input class="fr-input" id="rename" name="name" required maxlength="100" value="${name}"></div><button class="fr-btn fr-btn--secondary" type="submit">${t('devices.rename')}</button></form>
<h2 class="fr-mt-4w">${t('devices.assign')}</h2>
<form method="post" action="${href}/assign" class="medgw-narrow">${csrfField(ctx)}<div class="fr-select-group"><label class="fr-label" for="assign">${t('devices.assignTo', { name })}</label><select class="fr-select" id="assign" name="patientId">${options}</select></div><div class="fr-input-group"><label class="fr-label" for="assign-user">${t('devices.userIndex')}</label><input class="fr-input medgw-short" id="assign-user" name="userIndex" inputmode="numeric" pattern="[0-9]{1,3}"></div><button class="fr-btn fr-btn--secondary" type="submit">${t('devices.assign')}</button></form>
<h2 class="fr-mt-4w">${t('devices.forget')}</h2>
<p>${t('device.forgetHint')}</p>
${actionForm(ctx, `${href}/forget`, t('devices.forget'), name, 'tertiary')}`,
  );
}

// --- patients --------------------------------------------------------------------------------------

const LINK_STATES = ['none', 'linked', 'reauth-required', 'consent-withdrawn'] as const;

export function patientsPage(ctx: PageContext, deps: WebDeps, query: ListQuery = NO_QUERY): string {
  const { t } = ctx;
  const all = deps.registry.listPatients();
  const linkState = (id: string) => deps.national?.links.get(id)?.status ?? 'none';
  const shown = all.filter(
    (p) => matches(query.q, p.displayName, p.id) && (query.state === '' || linkState(p.id) === query.state),
  );
  const paged = paginate(shown, query.page);
  const sections = paged.items.map((p, j) => {
    const i = paged.offset + j;
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
        : h`${actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/link`, t('patients.link'), p.displayName, 'primary')}${deps.national.startDeviceLink ? actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/device-code`, t('patients.linkCode'), p.displayName) : ''}${link ? actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/unlink`, t('patients.unlink'), p.displayName) : ''}`
      : h`<p>${t('patients.nationalOff')}</p>`;
    return h`<section class="fr-card fr-p-3w fr-mb-3w" aria-labelledby="patient-${i}" data-patient="${p.id}">
<h2 id="patient-${i}" class="fr-h4 medgw-break">${p.displayName} <code class="fr-text--sm">${p.id}</code></h2>
<p>${t('patients.linkState')}${t('app.colon')}<span class="fr-badge fr-badge--sm ${state === 'linked' ? 'fr-badge--success' : state === 'none' ? 'fr-badge--info' : 'fr-badge--warning'}" data-link-state="${state}">${t(`patients.state.${state}` as MessageKey)}</span></p>
${consents}
<div class="fr-mt-2w medgw-actions">${actions}${actionForm(ctx, `/patients/${encodeURIComponent(p.id)}/remove`, t('patients.remove'), p.displayName, 'tertiary')}</div>
</section>`;
  });
  const states = LINK_STATES.map((s) => ({ value: s, label: t(`patients.state.${s}` as MessageKey) }));
  return page(
    ctx,
    'patients',
    t('patients.title'),
    h`${all.length > 0 ? filterForm(ctx, '/patients', query, deps.national ? { states } : {}) : ''}<div data-live id="patients">${resultCount(ctx, query, shown.length)}${sections.length ? sections : all.length ? '' : h`<p>${t('patients.none')}</p>`}${pager(ctx, '/patients', query, paged)}</div>
<h2 class="fr-mt-4w">${t('patients.add')}</h2>
<form method="post" action="/patients" class="medgw-narrow">${csrfField(ctx)}
<div class="fr-input-group"><label class="fr-label" for="patient-id">${t('patients.id')}<span class="fr-hint-text">${t('patients.idHint')}</span></label><input class="fr-input" id="patient-id" name="id" required pattern="[A-Za-z0-9._:\\-]{1,128}"></div>
<div class="fr-input-group"><label class="fr-label" for="patient-name">${t('patients.displayName')}</label><input class="fr-input" id="patient-name" name="displayName" required maxlength="200"></div>
<button type="submit" class="fr-btn">${t('patients.add')}</button></form>`,
  );
}

// --- readings: the filters shared by the quarantine and exchanges pages ------------------------------

/** The patient a reading belongs to: its own, else its device's (a quarantined reading may have none). */
const readingPatient = (deps: WebDeps, r: OutboxRecord) =>
  r.patientId ?? deps.registry.getDevice(r.deviceId)?.patientId;

function readingMatches(deps: WebDeps, t: Translate, query: ListQuery, r: OutboxRecord): boolean {
  const pid = readingPatient(deps, r);
  return (
    (query.patient === '' || pid === query.patient) &&
    (query.kind === '' || r.kind === query.kind) &&
    (query.state === '' || r.state === query.state) &&
    // names are looked up only when there is something to search
    (query.q === '' ||
      matches(
        query.q,
        deviceName(deps, r.deviceId),
        r.deviceId,
        pid,
        patientName(deps, pid, t),
        kindLabel(t, r.kind),
      ))
  );
}

/** The kinds present in the readings, for the kind filter. */
function kindChoices(t: Translate, readings: readonly OutboxRecord[]): Choice[] {
  return [...new Set(readings.map((r) => r.kind))].sort().map((k) => ({ value: k, label: kindLabel(t, k) }));
}

// --- quarantine ------------------------------------------------------------------------------------

export function quarantinePage(ctx: PageContext, deps: WebDeps, query: ListQuery = NO_QUERY): string {
  const { t } = ctx;
  const all = allReadings(deps, { state: 'quarantined' });
  const shown = all.filter((r) => readingMatches(deps, t, { ...query, state: '' }, r));
  const paged = paginate(shown, query.page);
  const patients = deps.registry.listPatients();
  const rows = paged.items.map((r, j): Row => {
    const n = paged.offset + j + 1;
    const suggested = readingPatient(deps, r);
    return {
      attrs: { 'data-reading': r.id, 'data-kind': r.kind },
      cells: [
        takenText(ctx, readingTimes(r)),
        deviceName(deps, r.deviceId),
        kindLabel(t, r.kind),
        shownValue(ctx, r.observation),
        h`${isCritical(r) ? h`<p class="fr-badge fr-badge--error fr-badge--sm">${t('critical.badge')}</p> ` : ''}${explainReason(t, r.reason)}`,
        h`${isCritical(r) ? raw('') : h`<form method="post" action="/quarantine/confirm" class="medgw-row">${csrfField(ctx)}<input type="hidden" name="id" value="${r.id}"><div class="fr-select-group"><label class="fr-label" for="q-${n}">${t('quarantine.confirmFor')}</label><select class="fr-select" id="q-${n}" name="patientId" required>${patients.map((p) => h`<option value="${p.id}"${p.id === suggested ? raw(' selected') : ''}>${p.displayName}</option>`)}</select></div>${needsMoment(r) ? h`<div class="fr-select-group"><label class="fr-label" for="qm-${n}">${t('quarantine.moment')}</label><select class="fr-select" id="qm-${n}" name="moment" required><option value="" selected disabled>${t('quarantine.momentChoose')}</option>${STATED_MOMENTS.map((m) => h`<option value="${m}">${t(`moment.${m}` as MessageKey)}</option>`)}</select></div>` : ''}<button class="fr-btn fr-btn--sm" type="submit">${t('quarantine.confirm')}<span class="fr-sr-only"> — ${t('app.readingN', { n })}</span></button></form>`}
${actionForm(ctx, '/quarantine/discard', t('quarantine.discard'), t('app.readingN', { n }), 'tertiary', { id: r.id })}`,
      ],
    };
  });
  return page(
    ctx,
    'quarantine',
    t('quarantine.title'),
    h`<p>${t('quarantine.intro')}</p>${all.length > 0 ? filterForm(ctx, '/quarantine', query, { patients: patientChoices(deps), kinds: kindChoices(t, all) }) : ''}<div data-live id="quarantine">${resultCount(ctx, query, shown.length)}${
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
        : all.length
          ? ''
          : h`<p>${t('quarantine.none')}</p>`
    }${pager(ctx, '/quarantine', query, paged)}</div>`,
  );
}

// --- exchanges -------------------------------------------------------------------------------------

const EXCHANGE_STATES = ['held', 'pending', 'in-flight', 'delivered', 'dead-letter'] as const;

/**
 * The exchanges with the national side: the readings on hold first (they wait for somebody), then the
 * others, latest first; the search, filters and pages apply to both lists as one.
 */
export function exchangesPage(ctx: PageContext, deps: WebDeps, query: ListQuery = NO_QUERY): string {
  const { t } = ctx;
  // By state: the sensor values a CGM keeps local (thousands) neither show here nor crowd the scan out.
  const all = EXCHANGE_STATES.flatMap((state) => allReadings(deps, { state }));
  const latest = (a: OutboxRecord, b: OutboxRecord) => b.updatedAt - a.updatedAt;
  const shown = all.filter((r) => readingMatches(deps, t, query, r));
  const ordered = [
    ...shown.filter((r) => r.state === 'held').sort(latest),
    ...shown.filter((r) => r.state !== 'held').sort(latest),
  ];
  const paged = paginate(ordered, query.page);
  const held = paged.items.filter((r) => r.state === 'held');
  const sent = paged.items.filter((r) => r.state !== 'held');
  const delivered = deliveredTimes(deps);
  const row = (r: OutboxRecord, n: number, retry: boolean): Row => {
    const times = readingTimes(r, delivered);
    return {
      attrs: { 'data-reading-state': r.state, 'data-kind': r.kind },
      cells: [
        formatTime(ctx.lang, r.updatedAt, ''),
        { v: takenText(ctx, times), attrs: { 'data-time': 'taken' } },
        { v: formatTime(ctx.lang, times.received, ''), attrs: { 'data-time': 'received' } },
        patientName(deps, r.patientId, t),
        deviceName(deps, r.deviceId),
        kindLabel(t, r.kind),
        stateBadge(t, r.state),
        explain(ctx, r),
        ...(retry
          ? [
              actionForm(
                ctx,
                '/exchanges/retry',
                t('exchanges.retry'),
                t('app.readingN', { n }),
                'secondary',
                { id: r.id },
              ),
            ]
          : []),
      ],
    };
  };
  const head = [
    t('exchanges.when'),
    t('exchanges.taken'),
    t('exchanges.received'),
    t('exchanges.patient'),
    t('exchanges.device'),
    t('exchanges.kind'),
    t('exchanges.state'),
    t('exchanges.explain'),
  ];
  const states = EXCHANGE_STATES.map((s) => ({ value: s, label: t(`state.${s}` as MessageKey) }));
  return page(
    ctx,
    'exchanges',
    t('exchanges.title'),
    h`${criticalSection(ctx, deps)}${all.length > 0 ? filterForm(ctx, '/exchanges', query, { patients: patientChoices(deps), kinds: kindChoices(t, all), states }) : ''}<div data-live id="exchanges-count">${resultCount(ctx, query, shown.length)}</div><h2>${t('exchanges.held')}</h2><div data-live id="held">${
      held.length
        ? table(
            t('exchanges.held'),
            [...head, t('app.actions')],
            held.map((r, i) => row(r, paged.offset + i + 1, true)),
          )
        : h`<p>${t('exchanges.heldNone')}</p>`
    }</div>
<h2 class="fr-mt-4w">${t('exchanges.sent')}</h2><div data-live id="sent">${
      sent.length
        ? table(
            t('exchanges.sent'),
            head,
            sent.map((r, i) => row(r, paged.offset + held.length + i + 1, false)),
          )
        : h`<p>${t('exchanges.none')}</p>`
    }${pager(ctx, '/exchanges', query, paged)}</div>`,
  );
}

// --- provider overview -----------------------------------------------------------------------------

export function overviewPage(ctx: PageContext, deps: WebDeps): string {
  const { t } = ctx;
  const patients = patientOverview(deps);
  const rows = patients.map(
    (p): Row => ({
      cells: [
        { v: p.displayName, th: true },
        t(`patients.state.${p.linkStatus}` as MessageKey),
        p.devices.map((d) => deviceName(deps, d)).join(', ') || t('app.none'),
        p.last.length
          ? h`<ul class="medgw-plain">${p.last.map((l) => h`<li data-kind="${l.kind}">${kindLabel(t, l.kind)}${t('app.colon')}${t('overview.takenReceived', { taken: takenText(ctx, l), received: formatTime(ctx.lang, l.received, '') })}</li>`)}</ul>`
          : t('app.none'),
        p.gaps.length
          ? h`<ul class="medgw-plain">${p.gaps.map((g) => h`<li class="medgw-gap">${g.kind === null ? t('overview.gapNever') : t('overview.gap', { kind: kindLabel(t, g.kind).toLocaleLowerCase(ctx.lang), days: g.days })}</li>`)}</ul>`
          : t('overview.noGap'),
      ],
    }),
  );
  const ledgerRows = ledger(deps).map(
    (l): Row => ({
      cells: [
        { v: l.name, th: true },
        l.reported ?? t('app.unknown'),
        l.cursor ?? '—',
        l.received,
        l.delivered,
        l.waiting,
        l.refused,
        l.missing ?? '—',
      ],
    }),
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
