#!/usr/bin/env node
import { Command, Option } from 'commander';
import { isKanbanError } from '../errors';
import { registerBoardCommands } from './boards';
import { registerGatewayCommands } from './gateway';
import { registerTaskCommands } from './tasks';

const program = new Command('kanban')
  .description('Look at and change a kanban board kept in SQLite')
  .addOption(new Option('--home <dir>', 'root folder (default: $KANBAN_HOME, $HERMES_KANBAN_HOME, ~/.kanban)'))
  .addOption(new Option('--board <slug>', 'board (default: $KANBAN_BOARD, the current board, "default")'))
  .addOption(new Option('--db <file>', 'one database file, overriding any board (default: $KANBAN_DB)'))
  .option('--json', 'print JSON instead of text')
  .option('--debug', 'print stack traces of errors');

registerBoardCommands(program);
registerTaskCommands(program);
registerGatewayCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const debug = program.opts<{ debug?: boolean }>().debug === true;
  if (debug && error instanceof Error) process.stderr.write(`${error.stack ?? error.message}\n`);
  else if (isKanbanError(error)) process.stderr.write(`kanban: ${error.message} [${error.code}]\n`);
  else process.stderr.write(`kanban: ${error instanceof Error ? error.message : String(error)} (run with --debug for details)\n`);
  process.exitCode = 1;
});
