/**
 * One throwaway PostgreSQL server for the whole run (or the one KANBAN_TEST_PG_URL names): its
 * database `kanban_test` holds every server board the contract suites open, one schema each. When
 * the server cannot start, the reason is passed on and every PostgreSQL suite fails with it.
 */
import { startTestServer, type TestServer } from './helpers/postgres';

declare global {
  var kanbanTestServer: TestServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  try {
    const server = await startTestServer();
    globalThis.kanbanTestServer = server;
    process.env.KANBAN_TEST_BOARDS_URL = await server.database('kanban_test');
    // Suites that need databases of their own make them on this server rather than starting another.
    process.env.KANBAN_TEST_PG_URL ??= server.url;
  } catch (error) {
    process.env.KANBAN_TEST_PG_MISSING = error instanceof Error ? error.message : String(error);
  }
}
