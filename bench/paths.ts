import { dirname, join } from 'node:path';

/** The package's own folder, found through its name (Node resolves a package's self-reference). */
export const ROOT = dirname(require.resolve('kanban-db/package.json'));
export const MIGRATIONS_FOLDER = join(ROOT, 'drizzle');
export const PG_MIGRATIONS_FOLDER = join(ROOT, 'drizzle-pg');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
export const README = join(ROOT, 'README.md');
