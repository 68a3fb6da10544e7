/**
 * A gateway whose host is cut off from the server for longer than its leases: a network namespace
 * of the test's own with a veth pair to the server, whose link is taken down under it.
 */
import { hostname } from 'node:os';
import { openKanban, type ServerKanban } from '../../src/kanban';
import { type GatewayProcess, kanban, startGatewayProcess } from '../helpers/cli';
import { createCutOffHost, type CutOffHost } from '../helpers/netns';
import { startTestServer, type TestServer } from '../helpers/postgres';
import { withTempDir } from '../helpers/temp';

const TASKS = 6;
const REFUSED = /ended after its lease ran out and the task was handed back; its late outcome is refused \(STALE_RUN/g;

describe('a gateway whose host is cut off from the server', () => {
  let host: CutOffHost;
  let server: TestServer;
  beforeAll(async () => {
    host = createCutOffHost();
    server = await startTestServer({ own: true, also: { listen: host.serverAddress, clients: host.network } });
  }, 60_000);
  afterAll(() => {
    server?.stop();
    host?.remove();
  });

  it('has its tasks run elsewhere once their leases expire, and its late completions refused as STALE_RUN', async () => {
    await withTempDir(async (home) => {
      const url = await server.database('cutoff');
      const remote = new URL(url);
      remote.hostname = host.serverAddress;
      expect(kanban(home, '--db', url, 'boards', 'create', 'ops').status).toBe(0);
      const kb: ServerKanban = await openKanban({ url, board: 'ops' });
      const gateways: GatewayProcess[] = [];
      const flags = (at: string) => ['--db', at, '--board', 'ops', '--claim-ttl', '2', '--max-workers', '2'];
      try {
        for (let i = 0; i < TASKS; i++) await kb.createTask({ title: `job ${i}`, assignee: 'w' });
        const victim = startGatewayProcess(home, 'cat >/dev/null; sleep 1; echo ok', flags(remote.toString()), [
          ...host.via,
        ]);
        gateways.push(victim);
        const victimClaimer = `${hostname()}:${victim.child.pid}`;
        const held = async () =>
          (await kb.listTasks({ status: 'running' })).filter((t) => t.claimLock === victimClaimer);
        expect(await victim.until(async () => (await held()).length === 2)).toBe(true);
        const orphaned = (await held()).map((t) => t.id);
        host.cut();
        const survivor = startGatewayProcess(home, 'cat >/dev/null; echo ok', flags(url));
        gateways.push(survivor);
        const allDone = async () => (await kb.listTasks({ status: 'done' })).length === TASKS;
        expect(await survivor.until(allDone, 60_000)).toBe(true);
        // The cut-off gateway's workers have ended; their outcomes wait for the link.
        host.reconnect();
        const refused = () => (victim.stderr().match(REFUSED) ?? []).length === orphaned.length;
        expect(await victim.until(refused, 120_000)).toBe(true);

        for (const task of await kb.listTasks({ includeArchived: true })) {
          const runs = await kb.listRuns(task.id);
          expect(runs.filter((run) => run.outcome === 'completed')).toHaveLength(1);
          const victims = runs.filter((run) => run.claimLock === victimClaimer);
          expect(victims.map((run) => run.outcome)).toEqual(orphaned.includes(task.id) ? ['reclaimed'] : []);
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
