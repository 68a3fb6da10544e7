import { defineConfig } from 'drizzle-kit';

/** PostgreSQL's migrations, generated from its schema beside SQLite's (`drizzle.config.ts`). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/engines/postgres/schema.ts',
  out: './drizzle-pg',
});
