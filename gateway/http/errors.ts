/**
 * The one error handler of the gateway's HTTP server: every refusal is a coded MedgwError whose HTTP
 * status is the catalogue's (kernel/errors.ts `status`), answered as JSON `{"error":{"code","message",
 * "hint"}}`, or as a page when the pages ask for HTML. A fastify validation or parsing failure (4xx)
 * becomes the caller's bad-request code; anything else is logged with its cause and answered
 * MEDGW_ERR_INTERNAL, never with the cause itself.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type Catalogue,
  ERROR_CATALOGUE,
  type ErrorCode,
  httpStatusOf,
  isMedgwError,
  MedgwError,
} from '../../kernel/errors.ts';

interface ErrorLog {
  error(obj: object, msg: string): void;
}

export interface ErrorHandlerOptions {
  readonly log: ErrorLog;
  /** Where each code's HTTP status is read; default the catalogue itself (a copy in tests). */
  readonly catalogue?: Catalogue;
  /** The code of a request fastify refused before the handler (body, params, content type). */
  readonly badRequest?: ErrorCode;
  /**
   * Renders the refusal as a page when the request asks for HTML (the local pages); undefined
   * answers JSON.
   */
  readonly page?: (req: FastifyRequest, e: MedgwError, status: number) => string | undefined;
  /** What the log line says a failed request was ('request failed', 'page failed'). */
  readonly what?: string;
}

/** The status the catalogue gives this error's code. */
export function statusOf(code: string, catalogue: Catalogue = ERROR_CATALOGUE): number {
  return httpStatusOf(code, catalogue);
}

/** Answers a coded refusal as JSON with the catalogue's status (or `status` when the caller knows better). */
export function sendError(
  reply: FastifyReply,
  e: MedgwError,
  options: { readonly catalogue?: Catalogue; readonly status?: number } = {},
): FastifyReply {
  return reply.code(options.status ?? statusOf(e.code, options.catalogue)).send({ error: e.toJSON() });
}

/** A refusal as a MedgwError: coded errors as they are, fastify's 4xx as `badRequest`, the rest internal. */
export function asRefusal(
  err: unknown,
  badRequest: ErrorCode,
  catalogue: Catalogue = ERROR_CATALOGUE,
): { readonly error: MedgwError; readonly internal: boolean } {
  if (isMedgwError(err)) return { error: err, internal: false };
  const e = err as { statusCode?: number; message?: string };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      error: new MedgwError(badRequest, e.message ?? 'bad request', undefined, catalogue),
      internal: false,
    };
  }
  return {
    error: new MedgwError(
      'MEDGW_ERR_INTERNAL',
      'the request failed inside the gateway',
      undefined,
      catalogue,
    ),
    internal: true,
  };
}

/** Builds the error handler (`app.setErrorHandler(errorHandler({...}))`). */
export function errorHandler(options: ErrorHandlerOptions) {
  const catalogue = options.catalogue ?? ERROR_CATALOGUE;
  const badRequest = options.badRequest ?? 'MEDGW_ERR_ADMIN_BAD_REQUEST';
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { error, internal } = asRefusal(err, badRequest, catalogue);
    if (internal) {
      options.log.error(
        { err, route: req.routeOptions.url, method: req.method },
        options.what ?? 'request failed',
      );
    }
    return refuse(req, reply, error, { catalogue, page: options.page });
  };
}

/** Answers a refusal: a page when one is given and the request asks for HTML, JSON otherwise. */
export function refuse(
  req: FastifyRequest,
  reply: FastifyReply,
  e: MedgwError,
  options: {
    readonly catalogue?: Catalogue;
    readonly page?: ErrorHandlerOptions['page'];
    readonly status?: number;
  } = {},
): FastifyReply {
  const status = options.status ?? statusOf(e.code, options.catalogue);
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  const body = wantsHtml ? options.page?.(req, e, status) : undefined;
  if (body === undefined) return reply.code(status).send({ error: e.toJSON() });
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}
