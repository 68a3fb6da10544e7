/** Stops the run's PostgreSQL server, if the setup started one. */
export default function globalTeardown(): void {
  globalThis.kanbanTestServer?.stop();
}
