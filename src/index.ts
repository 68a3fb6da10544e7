export {
  isFileKanban,
  isServerUrl,
  openKanban,
  type FileKanban,
  type Kanban,
  type OpenFileOptions,
  type OpenKanbanOptions,
  type ServerKanban,
} from './kanban';
export { ensureMigrated, type EnsureMigratedOptions, type MigrationReport } from './engines/sqlite/migrate';
export type { AdoptionReport } from './engines/sqlite/adopt';
export { DEFAULT_BUSY_TIMEOUT_MS, type ConnectionOptions } from './engines/sqlite/connect';
export { forgetFile } from './engines/sqlite/migrate';
export { ensurePgMigrated, forgetPgDatabase, type PgMigrationReport } from './engines/postgres/migrate';
export {
  currentServerBoard,
  listServerBoards,
  removeServerBoard,
  serverBoardExists,
  switchServerBoard,
  writeServerBoard,
} from './engines/postgres/boards';
export type { Engine, Store } from './core/port';
export {
  DEFAULT_BOARD,
  currentBoard,
  listBoards,
  normalizeSlug,
  readBoardMeta,
  removeBoard,
  resolveDbPath,
  resolveHome,
  setCurrentBoard,
  writeBoardMeta,
  type BoardMeta,
  type BoardMetaInput,
} from './boards';
export { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_RETRY_BACKOFF, type Claim } from './core/claims';
export type { CompleteAndClaimResult } from './core/moves';
export { DEFAULT_MAX_WORKERS, DEFAULT_TICK_MS } from './gateway/defaults';
export { DEFAULT_FAILURE_LIMIT, MAX_ERROR_LENGTH, type FailureResult } from './core/failures';
export { NOTIFY_KINDS, SILENT_KINDS, type ClaimedEvents } from './core/notify';
export type { BoardStats } from './core/activity';
export type { AssigneeTimes, Flow, FlowDay } from './core/flow';
export type * from './core/input';
export { KanbanError, KANBAN_ERROR_CODES, isKanbanError, sqliteCode, type KanbanErrorCode } from './errors';
export * from './core/schema';
export { startServer, DEFAULT_HOST, DEFAULT_PORT, type BoardServer, type ServeOptions } from './web/server';
