/**
 * Sessions and CSRF for the local pages, as fastify plugins on the scope that registers them.
 *
 * - `sessionPlugin` reads the session cookie into `req.session` (in-memory sessions created only by a
 *   successful sign-in; @fastify/cookie must be registered first).
 * - `csrfPlugin` refuses a POST of a signed-in session whose form lacks the session's token
 *   (synchronizer token pattern, OWASP CSRF Prevention Cheat Sheet) with MEDGW_ERR_WEB_CSRF, through
 *   the scope's error handler (403 from the error catalogue).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { MedgwError } from '../../kernel/errors.ts';
import type { Clock } from '../contracts.ts';

/** A one-time notice shown on the next page a session loads. */
export interface SessionNotice {
  readonly kind: 'success' | 'error' | 'info';
  readonly text: string;
}

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
  /** The notice for the next page load (POST, redirect, GET). */
  flash?: SessionNotice | undefined;
  /** A secret shown once on the next page load (a new provider API token). */
  newToken?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in session of the request, when there is one (sessionPlugin). */
    session?: Session;
    /** The request came with a provider API token instead of a session. */
    viaToken?: boolean;
  }
}

/** Constant-time equality of two strings (compared through their SHA-256, so lengths may differ). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * In-memory sessions, created only by a successful sign-in: a restart logs everybody out, which is
 * what a small gateway wants. The map is kept in order of last use (a use moves the session to the
 * end), so expiry looks only at the front and stops at the first live session, and a full store
 * ends the least recently used session: every operation is O(1) (amortized), memory is bounded.
 */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    /** Idle time after which a session ends. */
    private readonly idleMs = 8 * 3600_000,
    /** Sessions kept at most; the least recently used one ends first. */
    readonly max = 64,
  ) {}

  get size(): number {
    this.expire();
    return this.byId.size;
  }

  create(): Session {
    this.expire();
    while (this.byId.size >= this.max) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: this.clock.now(),
      lastSeen: this.clock.now(),
    };
    this.byId.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    this.expire();
    const s = this.byId.get(id);
    if (!s) return undefined;
    s.lastSeen = this.clock.now();
    // most recently used last
    this.byId.delete(id);
    this.byId.set(id, s);
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  /** Ends idle sessions from the front (least recently used) and stops at the first live one. */
  private expire(): void {
    const now = this.clock.now();
    for (const [id, s] of this.byId) {
      if (now - s.lastSeen <= this.idleMs) break;
      this.byId.delete(id);
    }
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0) return false;
  return sameText(session.csrf, submitted);
}

/** A plugin that applies to the scope registering it (what fastify-plugin marks), not to a child. */
function onScope(plugin: FastifyPluginAsync): FastifyPluginAsync {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}

/** Reads the session cookie into `req.session` on every request of the scope. */
export function sessionPlugin(o: {
  readonly sessions: Sessions;
  readonly cookie: string;
}): FastifyPluginAsync {
  return onScope(async (app) => {
    app.addHook('onRequest', async (req) => {
      const session = o.sessions.get(req.cookies[o.cookie]);
      if (session) req.session = session;
    });
  });
}

/** One field of a parsed form or JSON body, as text ('' when absent). */
export function formField(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return '';
  const v: unknown = Object.getOwnPropertyDescriptor(body, name)?.value;
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
}

/** Every value of a repeated form field (checkboxes). */
export function formFields(body: unknown, name: string): string[] {
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return [];
  const v: unknown = Object.getOwnPropertyDescriptor(body, name)?.value;
  return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
}

/**
 * Every POST of the scope must carry the session's CSRF token in `field`, except the paths `exempt`
 * names (the sign-in form has its own signed value; the pairing callback's `state` is its secret).
 */
export function csrfPlugin(o: {
  readonly field: string;
  readonly exempt: (req: FastifyRequest) => boolean;
  readonly log?: { warn(obj: object, msg: string): void };
}): FastifyPluginAsync {
  return onScope(async (app) => {
    app.addHook('preHandler', async (req) => {
      if (req.method !== 'POST' || o.exempt(req)) return;
      if (!req.session || !csrfMatches(req.session, formField(req.body, o.field))) {
        o.log?.warn({ route: req.routeOptions.url }, 'form refused without a valid CSRF token');
        throw new MedgwError('MEDGW_ERR_WEB_CSRF', 'the form has no valid anti-forgery token');
      }
    });
  });
}
