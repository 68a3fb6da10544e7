/**
 * `kanban serve`: the board's JSON API, its live stream and one page, on Hono over Node's HTTP
 * server. Hono is typed end to end, small (no dependencies), fast, and speaks the web's own
 * Request/Response, which its SSE helper and the tests use as they are.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { resolveHome } from '../boards';
import { describeServer } from '../engines/postgres/errors';
import { KanbanError } from '../errors';
import { type Kanban, openKanban } from '../kanban';
import { accessControl, isLoopback } from './access';
import { api } from './api';
import { homeBoards, oneBoard, serverBoards } from './boards';

export const DEFAULT_PORT = 7420;
export const DEFAULT_HOST = '127.0.0.1';
/** The built page in the package's `dist/web`, whether this file runs from `dist/web` or (in tests) `src/web`. */
const PAGE_FOLDER = join(__dirname, '..', '..', 'dist', 'web');
const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
  '/style.css': 'style.css',
};
/** The page's parts loaded when first needed (the charts, the Markdown renderer), as esbuild split them. */
const CHUNKS = 'chunks';

/** Every file the page is made of, by the path it is served under. */
function pageFiles(): Record<string, string> {
  const chunks = existsSync(join(PAGE_FOLDER, CHUNKS)) ? readdirSync(join(PAGE_FOLDER, CHUNKS)) : [];
  return {
    ...PAGE_FILES,
    ...Object.fromEntries(chunks.filter((f) => f.endsWith('.js')).map((f) => [`/${CHUNKS}/${f}`, `${CHUNKS}/${f}`])),
  };
}
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export interface ServeOptions {
  readonly home?: string;
  /** One database file instead of the home's boards; it shows as the board `file`. */
  readonly dbPath?: string;
  /** A PostgreSQL server's URL instead of the home's boards: its boards are served. */
  readonly url?: string;
  readonly port?: number;
  readonly host?: string;
  /** Required when `host` is not a loopback address; then every API request must carry it. */
  readonly token?: string;
  readonly busyTimeoutMs?: number;
  /** Where unexpected errors are logged with their stacks; default stderr. */
  readonly log?: (line: string) => void;
}

export interface BoardServer {
  /** The page's address, e.g. `http://127.0.0.1:7420/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the server; refuses to listen beyond the loopback without a token. */
export async function startServer(options: ServeOptions = {}): Promise<BoardServer> {
  const host = options.host ?? DEFAULT_HOST;
  const loopback = isLoopback(host);
  if (!loopback && !options.token) {
    throw new KanbanError(
      'TOKEN_REQUIRED',
      `Serving on ${host} makes the board reachable from other machines: give a token (--token or KANBAN_TOKEN) that every request must carry`,
    );
  }
  const home = resolveHome(options.home);
  const busy = options.busyTimeoutMs;
  const connection = busy !== undefined ? { busyTimeoutMs: busy } : {};
  const { url, dbPath } = options;
  const boards = url
    ? serverBoards(url, describeServer(url), (board) => openKanban({ url, board, ...connection }))
    : dbPath
      ? oneBoard('file', basename(dbPath), () => openKanban({ dbPath, ...connection }))
      : homeBoards(home, (board) => openKanban({ home, board, ...connection }));
  const files = pageFiles();
  const page = Object.fromEntries(
    Object.entries(files).map(([path, file]) => [path, readFileSync(join(PAGE_FOLDER, file), 'utf8')]),
  );

  let server: ServerType | undefined;
  const port = (): number => {
    const address = server?.address();
    return typeof address === 'object' && address ? address.port : (options.port ?? DEFAULT_PORT);
  };
  const app = new Hono();
  app.use('/api/*', accessControl({ token: options.token, loopback, port }));
  app.route('/api', api(boards, options.log ?? ((line) => process.stderr.write(`${line}\n`))));
  app.get('*', (c) => {
    const file = files[c.req.path];
    const text = page[c.req.path];
    if (!file || text === undefined) return c.text('Not found', 404);
    c.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    c.header('x-content-type-options', 'nosniff');
    return c.body(text, 200, { 'content-type': TYPES[file.split('.').pop() ?? ''] ?? 'text/plain' });
  });

  await new Promise<void>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: options.port ?? DEFAULT_PORT, hostname: host }, () => resolve());
    server.once('error', reject);
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port()}/`,
    close: () =>
      new Promise<void>((resolve) => {
        boards.close();
        // Open event streams would hold the close forever.
        if (server && 'closeAllConnections' in server) server.closeAllConnections();
        if (server) server.close(() => resolve());
        else resolve();
      }),
  };
}
