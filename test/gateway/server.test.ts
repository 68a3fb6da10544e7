/**
 * Several gateways on one board on a PostgreSQL server, as on several hosts: claims never collide,
 * and the tasks of a gateway that dies are run by the others once their leases expire.
 */
import { hostname } from 'node:os';
import { Client } from 'pg';
import { openKanban } from '../../src/kanban';
import { type GatewayProcess, kanban, startGatewayProcess } from '../helpers/cli';
import { newServerBoard, testServerUrl } from '../helpers/board';
import { startTestServer } from '../helpers/postgres';
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

/** The pids of the board's listening connections (the gateway's LISTEN), from the server's own view. */
async function listeners(url: string): Promise<number[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'kanban-db listener' AND query LIKE 'LISTEN%'",
    );
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

describe('an idle gateway on a server board', () => {
  it('whose tick is a minute runs a new task when LISTEN wakes it, and again after its listening connection is cut', async () => {
    await withTempDir(async (home) => {
      const url = await (await startTestServer()).database(`wake_${newServerBoard()}`);
      expect(kanban(home, '--db', url, 'boards', 'create', 'ops').status).toBe(0);
      const kb = await openKanban({ url, board: 'ops' });
      const gateway = startGatewayProcess(home, 'cat >/dev/null; echo ok', [
        '--db',
        url,
        '--board',
        'ops',
        '--tick',
        '60000',
      ]);
      try {
        // An unassigned task: the first tick says so, and then the gateway waits out its minute.
        await kb.createTask({ title: 'nobody' });
        expect(await gateway.until(() => gateway.stderr().includes('has no assignee'))).toBe(true);
        expect(await gateway.until(async () => (await listeners(url)).length === 1)).toBe(true);
        const done = (id: string) => async () => (await kb.getTask(id)).status === 'done';
        const first = await kb.createTask({ title: 'wake up', assignee: 'w' });
        expect(await gateway.until(done(first.id), 20_000)).toBe(true);
        const [cut] = await listeners(url);
        const admin = new Client({ connectionString: url });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [cut]);
        await admin.end();
        const relistening = async () => (await listeners(url)).some((pid) => pid !== cut);
        expect(await gateway.until(relistening)).toBe(true);
        const second = await kb.createTask({ title: 'wake up again', assignee: 'w' });
        expect(await gateway.until(done(second.id), 20_000)).toBe(true);
        gateway.child.kill('SIGTERM');
        expect(await gateway.exited).toBe(0);
      } finally {
        gateway.child.kill('SIGKILL');
        kb.close();
      }
    });
  });
});
