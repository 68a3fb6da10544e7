import type { Command } from 'commander';
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from '../web/server';
import { connectionOptions, globals, integer, requireBoard, serverUrl } from './shared';

interface ServeFlags {
  port: number;
  host: string;
  token?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the live web board and its JSON API until SIGINT/SIGTERM')
    .option('--port <n>', 'port (0 picks a free one)', integer, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on; any but the loopback needs a token', DEFAULT_HOST)
    .option('--token <secret>', 'required on every API request (default: $KANBAN_TOKEN); required off the loopback')
    .action(async (f: ServeFlags, command: Command) => {
      const url = serverUrl(command);
      // On a server, the board is checked as every verb's is (the server's current one by default).
      const { home, db, board } = url ? await requireBoard(command) : globals(command);
      const token = f.token ?? (process.env.KANBAN_TOKEN || undefined);
      const server = await startServer({
        ...(home && { home }),
        ...(url ? { url } : db && { dbPath: db }),
        ...connectionOptions(command),
        port: f.port,
        host: f.host,
        ...(token && { token }),
      });
      process.stderr.write(
        `kanban: the board is at ${server.url}${board && (url || !db) ? `?board=${encodeURIComponent(board)}` : ''}${token ? '#token=<your token>' : ''}; Ctrl-C stops\n`,
      );
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close());
    });
}
