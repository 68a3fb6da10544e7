/**
 * PostgreSQL's failures a person can act on, classified by SQLSTATE (or, before any exchange with
 * the server, by the system's error code) through the `cause` chain, never by message text.
 * Messages name the server by host, port and database: never a user's password.
 */
import { KanbanError } from '../../errors';

/** `postgres://host:port/database` of a connection URL, without its user and password. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres://${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the PostgreSQL server (its URL could not be read)';
  }
}

/** The first code on the `cause` chain that `accept` takes: a SQLSTATE, or an errno code such as ECONNREFUSED. */
function codeOf(error: unknown, accept: (code: string) => boolean): string | undefined {
  // Not `instanceof Error`: the socket's errors may come from another realm (a test runner's VM).
  const seen = new Set<unknown>();
  for (let current = error; typeof current === 'object' && current !== null && !seen.has(current); ) {
    seen.add(current);
    const code = 'code' in current ? current.code : undefined;
    if (typeof code === 'string' && accept(code)) return code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

const isSqlState = (code: string) => /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E');
/** The system's codes of a server that cannot be reached, or whose connection broke under the exchange. */
const UNREACHABLE = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOENT',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
];

/** The system's code of a socket that failed (refused, reset, unreachable), if that is what happened. */
export function socketCode(error: unknown): string | undefined {
  return codeOf(error, (code) => UNREACHABLE.includes(code));
}

/** The SQLSTATE of a failure, if the server sent one. */
export function sqlState(error: unknown): string | undefined {
  return codeOf(error, isSqlState);
}

/** Turns the failures a person can act on into a `KanbanError`; anything else is returned as is. */
export function classifyPgError(error: unknown, server: string): unknown {
  if (error instanceof KanbanError) return error;
  const errno = socketCode(error);
  if (errno) {
    return new KanbanError(
      'CANNOT_OPEN',
      `Cannot reach ${server} (${errno}); check that the server runs and the address is right`,
      {
        cause: error,
      },
    );
  }
  const state = sqlState(error) ?? '';
  const kanban = (code: ConstructorParameters<typeof KanbanError>[0], message: string) =>
    new KanbanError(code, message, { cause: error });
  if (state === '28P01' || state === '28000') {
    return kanban('CANNOT_OPEN', `${server} refused the user or its password; check the credentials in the URL`);
  }
  if (state === '3D000') return kanban('CANNOT_OPEN', `${server} has no such database; create it first (createdb)`);
  if (state.startsWith('57P') || state === '53300') {
    return kanban(
      'CANNOT_OPEN',
      `${server} is not accepting connections now (${state}: starting, stopping or full); retry`,
    );
  }
  if (state === '55P03' || state === '57014') {
    return kanban('BUSY', `${server} did not finish in time: a lock or statement timeout (${state}); retry`);
  }
  if (state === '53100') return kanban('DISK_FULL', `${server} has no disk space left; nothing was written`);
  if (state === '25006') return kanban('READ_ONLY', `${server} refuses writes (a read-only transaction or a standby)`);
  return error;
}
