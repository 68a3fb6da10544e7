import { resolve } from 'node:path';
import type { Command } from 'commander';
import { normalizeSlug } from '../boards';
import { copyBoard } from '../copy';
import { isServerUrl } from '../kanban';
import { print, serverUrl, withBoard } from './shared';

export function registerCopyCommand(program: Command): void {
  program
    .command('copy <target>')
    .description('copy this board, every row and id, to a file or a server (postgres://…); the target must be empty')
    .option('--to-board <slug>', 'the board on a server target (default: this board’s slug)')
    .action((target: string, f: { toBoard?: string }, command: Command) =>
      withBoard(command, async (kb) => {
        const board = normalizeSlug(f.toBoard ?? kb.board);
        const to = isServerUrl(target) ? { url: target, board } : { path: resolve(target) };
        let shown = 0;
        const report = await copyBoard(kb, serverUrl(command), to, (written, total) => {
          // Progress on a terminal only, at most every 10,000 rows and at the end.
          if (!process.stderr.isTTY || (written - shown < 10_000 && written < total)) return;
          shown = written;
          process.stderr.write(`\rkanban: copied ${written} of ${total} rows`);
          if (written === total) process.stderr.write('\n');
        });
        if (report.leftOut.length) {
          process.stderr.write(`kanban: left out what the schema does not know: ${report.leftOut.join(', ')}\n`);
        }
        print(command, report, (r) => {
          const rows = Object.entries(r.rows).map(([table, n]) => `${table} ${n}`);
          return `copied ${r.from} to ${r.to}: ${rows.join(', ')}`;
        });
      }),
    );
}
