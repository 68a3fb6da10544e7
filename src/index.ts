export { ensureMigrated, type EnsureMigratedOptions, type MigrationReport } from './db/migrate';
export type { AdoptionReport } from './db/adopt';
export { DEFAULT_BUSY_TIMEOUT_MS, type ConnectionOptions } from './db/connect';
export { forgetFile } from './db/registry';
export { KanbanError, KANBAN_ERROR_CODES, isKanbanError, sqliteCode, type KanbanErrorCode } from './errors';
export * from './db/schema';
