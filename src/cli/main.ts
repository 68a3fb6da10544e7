#!/usr/bin/env node
import { Command, Option } from 'commander';
import { isKanbanError } from '../errors';
import { registerAssignCommands } from './assign';
import { registerBoardCommands } from './boards';
import { registerCopyCommand } from './copy';
import { registerHealthCommands } from './health';
import { registerReviewCommands } from './review';
import { registerGatewayCommands } from './gateway';
import { registerNotifyCommands } from './notify';
import { registerServeCommand } from './serve';
import { positive } from './shared';
import { registerTaskCommands } from './tasks';

const program = new Command('kanban')
  .description('Look at and change a kanban board kept in SQLite')
  .addOption(new Option('--home <dir>', 'root folder (default: $KANBAN_HOME, $HERMES_KANBAN_HOME, ~/.kanban)'))
  .addOption(new Option('--board <slug>', 'board (default: $KANBAN_BOARD, the current board, "default")'))
  .addOption(new Option('--db <file>', 'one database file, overriding any board (default: $KANBAN_DB)'))
  .addOption(
    new Option('--busy-timeout <ms>', "how long to wait for another process holding the board's lock").argParser(
      positive,
    ),
  )
  .option('--json', 'print JSON instead of text')
  .option('--debug', 'print stack traces of errors');

registerBoardCommands(program);
registerTaskCommands(program);
registerAssignCommands(program);
registerReviewCommands(program);
registerHealthCommands(program);
registerNotifyCommands(program);
registerGatewayCommands(program);
registerServeCommand(program);
registerCopyCommand(program);

// A write past the file-size limit (ulimit -f) then fails with an error SQLite reports as full,
// instead of the signal killing the process mid-transaction.
process.on('SIGXFSZ', () => undefined);

// A reader that goes away (`kanban events --follow | head -1`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** The error and every error it was caused by, with stacks and codes: what --debug prints. */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 10; depth++) {
    const code = current instanceof Error && 'code' in current ? ` [code ${String(current.code)}]` : '';
    parts.push(
      `${depth ? 'caused by: ' : ''}${current instanceof Error ? (current.stack ?? current.message) : String(current)}${code}`,
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const debug = program.opts<{ debug?: boolean }>().debug === true;
  if (debug) process.stderr.write(`${causeChain(error)}\n`);
  else if (isKanbanError(error)) process.stderr.write(`kanban: ${error.message} [${error.code}]\n`);
  else
    process.stderr.write(
      `kanban: ${error instanceof Error ? error.message : String(error)} (run with --debug for details)\n`,
    );
  process.exitCode = 1;
});
