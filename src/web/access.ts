/**
 * Who may use the board's web API. On 127.0.0.1 (the default) reads are open to this machine; the
 * Host header must name the loopback, so a page on another site cannot reach it through DNS
 * rebinding. Writes need the token, or come from the board's own page (its Origin), or from a
 * program that is not a browser (neither Origin nor Sec-Fetch-Site): a cross-site request is refused.
 * Any other address requires a token on every API request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export const TOKEN_HEADER = 'x-kanban-token';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface Access {
  readonly token: string | undefined;
  /** The bound address is a loopback one. */
  readonly loopback: boolean;
  /** The port actually bound, known once the server listens. */
  port(): number;
}

export const isLoopback = (host: string): boolean => LOOPBACK_HOSTS.has(host) || host.startsWith('127.');

/** Compares in constant time; hashing first makes the lengths equal. */
function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function presentedToken(header: (name: string) => string | undefined): string | undefined {
  const bearer = header('authorization')?.match(/^Bearer (.+)$/)?.[1];
  return bearer ?? header(TOKEN_HEADER);
}

const refuse = (status: 401 | 403, code: string, message: string) =>
  new Response(JSON.stringify({ code, message }), { status, headers: { 'content-type': 'application/json' } });

export function accessControl(access: Access): MiddlewareHandler {
  return async (c, next) => {
    const header = (name: string) => c.req.header(name);
    const authorised = access.token !== undefined && sameToken(presentedToken(header), access.token);
    if (access.token !== undefined && !authorised) {
      return refuse(
        401,
        'UNAUTHORIZED',
        `This board needs its token: send it as "Authorization: Bearer <token>" or the ${TOKEN_HEADER} header (open the page as /#token=<token>)`,
      );
    }
    if (access.loopback) {
      const host = (header('host') ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host))
        return refuse(
          403,
          'FORBIDDEN_HOST',
          `Host ${header('host') ?? '(none)'} is not this machine's loopback address; open the board at http://127.0.0.1:${access.port()}/`,
        );
    }
    if (!authorised && c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = header('origin');
      const own = [...LOOPBACK_HOSTS].map(
        (host) => `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${access.port()}`,
      );
      const browser = origin !== undefined || header('sec-fetch-site') !== undefined;
      if (browser && !(origin !== undefined && own.includes(origin))) {
        return refuse(
          403,
          'CROSS_SITE',
          `A write from ${origin ?? 'another site'} was refused: only the board's own page, or a request carrying the token, may change it`,
        );
      }
    }
    await next();
    return undefined;
  };
}
