/**
 * Several gateways on one board on a PostgreSQL server, as on several hosts: claims never collide,
 * and the tasks of a gateway that dies are run by the others once their leases expire.
 */
import { hostname } from 'node:os';
import { openKanban } from '../../src/kanban';
import { type GatewayProcess, kanban, startGatewayProcess } from '../helpers/cli';
import { newServerBoard, testServerUrl } from '../helpers/board';
import { withTempDir } from '../helpers/temp';

const TASKS = 24;

describe('gateways on a server board', () => {
  it('three gateways, one killed mid-run: every task is done exactly once, only the killed one’s runs are reclaimed', async () => {
    await withTempDir(async (home) => {
      const url = testServerUrl();
      const board = newServerBoard();
      expect(kanban(home, '--db', url, 'boards', 'create', board).status).toBe(0);
      const kb = await openKanban({ url, board });
      const gateways: GatewayProcess[] = [];
      try {
        for (let i = 0; i < TASKS; i++) await kb.createTask({ title: `job ${i}`, assignee: 'w' });
        const flags = ['--db', url, '--board', board, '--claim-ttl', '2', '--max-workers', '2'];
        for (let i = 0; i < 3; i++)
          gateways.push(startGatewayProcess(home, 'cat >/dev/null; sleep 0.3; echo ok', flags));
        const [victim, ...others] = gateways;
        if (!victim) throw new Error('no gateway started');
        const victimClaimer = `${hostname()}:${victim.child.pid}`;
        const running = async () =>
          (await kb.listTasks({ status: 'running' })).filter((t) => t.claimLock === victimClaimer);
        expect(await victim.until(async () => (await running()).length > 0)).toBe(true);
        const orphaned = (await running()).map((t) => t.id);
        victim.child.kill('SIGKILL');
        await victim.exited;
        const allDone = async () => (await kb.listTasks({ status: 'done' })).length === TASKS;
        expect(await others[0]?.until(allDone, 60_000)).toBe(true);
        const tasks = await kb.listTasks({ includeArchived: true });
        for (const task of tasks) {
          const runs = await kb.listRuns(task.id);
          expect(runs.filter((run) => run.outcome === 'completed')).toHaveLength(1);
          const reclaimed = runs.filter((run) => run.outcome === 'reclaimed');
          for (const run of reclaimed) expect(run.claimLock).toBe(victimClaimer);
          expect(reclaimed.length > 0).toBe(orphaned.includes(task.id));
        }
        expect(await kb.listEvents({ kinds: ['completed'] })).toHaveLength(TASKS);
        // Every gateway claimed work: the claims spread over the three.
        const claimers = new Set((await kb.listEvents({ kinds: ['claimed'] })).map((e) => e.payload?.lock));
        expect(claimers.size).toBe(3);
        for (const gateway of others) {
          gateway.child.kill('SIGTERM');
          expect(await gateway.exited).toBe(0);
          expect(gateway.stderr()).not.toMatch(/failed/);
        }
      } finally {
        for (const gateway of gateways) gateway.child.kill('SIGKILL');
        kb.close();
      }
    });
  });
});
