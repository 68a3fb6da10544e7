/** Gateways on a server board when the server fails under them, on a server of the test's own. */
import { openKanban, type ServerKanban } from '../../src/kanban';
import { type GatewayProcess, kanban, startGatewayProcess } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/postgres';
import { withTempDir } from '../helpers/temp';

const TASKS = 16;

/** A condition read from the board, false while the server does not answer (it is restarting). */
const whileUp = (check: () => Promise<boolean>) => () => check().catch(() => false);

describe('gateways on a server that restarts', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ own: true });
  }, 60_000);
  afterAll(() => server?.stop());

  it('keep running, reconnect, and record every outcome once: one run per task, none lost, none run twice', async () => {
    await withTempDir(async (home) => {
      const url = await server.database('restart');
      expect(kanban(home, '--db', url, 'boards', 'create', 'ops').status).toBe(0);
      const kb: ServerKanban = await openKanban({ url, board: 'ops' });
      const gateways: GatewayProcess[] = [];
      try {
        for (let i = 0; i < TASKS; i++) await kb.createTask({ title: `job ${i}`, assignee: 'w' });
        // Leases far longer than the run: a task may be run again only if its lease expired, and none does.
        const flags = ['--db', url, '--board', 'ops', '--claim-ttl', '120', '--max-workers', '2', '--tick', '100'];
        for (let i = 0; i < 2; i++)
          gateways.push(startGatewayProcess(home, 'cat >/dev/null; sleep 0.4; echo ok', flags));
        const [watcher] = gateways;
        if (!watcher) throw new Error('no gateway started');
        const count = (status: 'done' | 'running') => async () => (await kb.listTasks({ status })).length;
        expect(await watcher.until(async () => (await count('done')()) >= 2 && (await count('running')()) > 0)).toBe(
          true,
        );
        server.restart();
        expect(
          await watcher.until(
            whileUp(async () => (await count('done')()) === TASKS),
            60_000,
          ),
        ).toBe(true);
        for (const task of await kb.listTasks({ includeArchived: true })) {
          const runs = await kb.listRuns(task.id);
          expect(runs.map((run) => run.outcome)).toEqual(['completed']);
        }
        expect(await kb.listEvents({ kinds: ['completed'] })).toHaveLength(TASKS);
        for (const gateway of gateways) {
          gateway.child.kill('SIGTERM');
          expect(await gateway.exited).toBe(0);
        }
      } finally {
        for (const gateway of gateways) gateway.child.kill('SIGKILL');
        kb.close();
      }
    });
  });
});
