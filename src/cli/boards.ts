import type { Command } from 'commander';
import {
  boardExists,
  listBoards,
  normalizeSlug,
  readBoardMeta,
  removeBoard,
  resolveHome,
  setCurrentBoard,
  writeBoardMeta,
} from '../boards';
import { KanbanError } from '../errors';
import { epochSeconds } from '../clock';
import { isFileKanban, openKanban } from '../kanban';
import { statsText } from '../view/render';
import {
  listServerBoards,
  removeServerBoard,
  serverBoardExists,
  switchServerBoard,
  writeServerBoard,
} from '../engines/postgres/boards';
import { describeServer } from '../engines/postgres/errors';
import { globals, print, serverUrl, withBoard } from './shared';

export function registerBoardCommands(program: Command): void {
  program
    .command('migrate')
    .description('bring the board file to the current schema (adopting a file of the original program)')
    .action((_opts, command: Command) =>
      withBoard(command, async (kb) => {
        if (!isFileKanban(kb)) {
          return print(command, kb.migration, (m) => {
            const what = m.applied.length === 0 ? 'already current' : `applied ${m.applied.join(', ')}`;
            return `${kb.location}: ${what} (schema ${m.schemaVersion})`;
          });
        }
        print(command, kb.migration, (m) => {
          const what =
            m.applied.length === 0
              ? 'already current'
              : `${m.adopted ? 'adopted; recorded' : 'applied'} ${m.applied.join(', ')}`;
          return `${m.path}: ${what} (schema ${m.schemaVersion}, journal ${m.journalMode})`;
        });
      }),
    );

  program
    .command('status')
    .description('the board file, its schema state and its counts')
    .action((_opts, command: Command) =>
      withBoard(command, async (kb) => {
        const stats = await kb.stats();
        print(
          command,
          {
            path: kb.location,
            board: kb.board ?? null,
            schemaVersion: kb.migration.schemaVersion,
            journalMode: isFileKanban(kb) ? kb.migration.journalMode : null,
            stats,
          },
          (s) =>
            [
              `board ${s.board ?? '(file)'} at ${s.path}`,
              `schema ${s.schemaVersion}${s.journalMode ? `, journal ${s.journalMode}` : ''}`,
              statsText(stats),
            ].join('\n'),
        );
      }),
    );

  const boards = program.command('boards').description('list, create, remove and switch boards');
  boards
    .command('list')
    .option('--all', 'include archived boards')
    .action(async (opts: { all?: boolean }, command: Command) => {
      const url = serverUrl(command);
      const options = { includeArchived: opts.all === true };
      const list = url ? await listServerBoards(url, options) : listBoards(resolveHome(globals(command).home), options);
      print(command, list, (boards) => boards.map((b) => `${b.slug.padEnd(20)} ${b.name}  ${b.dbPath}`).join('\n'));
    });
  boards
    .command('create <slug>')
    .option('--name <name>')
    .option('--description <text>')
    .action(async (slug: string, opts: { name?: string; description?: string }, command: Command) => {
      const url = serverUrl(command);
      const input = { name: opts.name, description: opts.description };
      const home = resolveHome(globals(command).home);
      const meta = url
        ? await writeServerBoard(url, slug, input, epochSeconds())
        : writeBoardMeta(home, slug, input, epochSeconds());
      if (!url) (await openKanban({ home, board: meta.slug })).close();
      print(command, meta, (m) => `created board ${m.slug} at ${m.dbPath}`);
    });
  boards
    .command('rm <slug>')
    .option('--delete', 'delete the folder instead of archiving it')
    .action(async (slug: string, opts: { delete?: boolean }, command: Command) => {
      const url = serverUrl(command);
      const options = { delete: opts.delete === true, now: epochSeconds() };
      const result = url
        ? await removeServerBoard(url, slug, options)
        : removeBoard(resolveHome(globals(command).home), slug, options);
      print(command, result, (r) => `${r.action} board ${r.slug}${r.newPath ? ` to ${r.newPath}` : ''}`);
    });
  boards
    .command('show')
    .alias('current')
    .description('the current board: its name, file and counts')
    .action((_opts, command: Command) =>
      withBoard(command, async (kb) => {
        const url = serverUrl(command);
        const { board } = kb;
        const meta =
          board === undefined
            ? undefined
            : url
              ? (await listServerBoards(url, { includeArchived: true })).find((b) => b.slug === board)
              : readBoardMeta(resolveHome(globals(command).home), board);
        const shown = {
          slug: kb.board ?? null,
          name: meta?.name ?? null,
          description: meta?.description ?? '',
          dbPath: kb.location,
          stats: await kb.stats(),
        };
        print(command, shown, (b) =>
          [
            `Current board: ${b.slug ?? '(file)'}`,
            ...(b.name ? [`  Display name: ${b.name}`] : []),
            ...(b.description ? [`  Description:  ${b.description}`] : []),
            `  DB path:      ${b.dbPath}`,
            `  Tasks:        ${statsText(b.stats).split('\n')[0]}`,
          ].join('\n'),
        );
      }),
    );
  boards
    .command('rename <slug> <name>')
    .description('give a board another display name (its slug and folder stay)')
    .action(async (slug: string, name: string, _opts, command: Command) => {
      const home = resolveHome(globals(command).home);
      const url = serverUrl(command);
      const normal = normalizeSlug(slug);
      const where = url ? describeServer(url) : home;
      if (!(url ? await serverBoardExists(url, normal) : boardExists(home, normal))) {
        throw new KanbanError(
          'BOARD_NOT_FOUND',
          `No board ${normal} on ${where}; \`kanban boards list\` shows the boards`,
        );
      }
      const input = { name: name.trim() || undefined };
      const meta = url
        ? await writeServerBoard(url, normal, input, epochSeconds())
        : writeBoardMeta(home, normal, input, epochSeconds());
      print(command, meta, (m) => `Board '${m.slug}' renamed to '${m.name}'.`);
    });
  boards.command('switch <slug>').action(async (slug: string, _opts, command: Command) => {
    const url = serverUrl(command);
    const current = url
      ? await switchServerBoard(url, slug)
      : setCurrentBoard(resolveHome(globals(command).home), slug);
    print(command, { current }, (r) => `current board: ${r.current}`);
  });
}
