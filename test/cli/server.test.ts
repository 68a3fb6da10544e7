/** The `kanban` command on a board kept on a PostgreSQL server: `--db` (or KANBAN_DB) takes its URL. */
import { kanban } from '../helpers/cli';
import { startTestServer } from '../helpers/postgres';
import { newServerBoard, testServerUrl } from '../helpers/board';

/** A new database on the run's server. */
async function databaseOnRunServer(name: string): Promise<string> {
  return (await startTestServer()).database(name);
}
import { withTempDir } from '../helpers/temp';

/** The run's server with a password in the URL (the test cluster trusts its users, so any password works). */
function urlWithPassword(): string {
  const url = new URL(testServerUrl());
  url.password = 's3cret-pw';
  return url.toString();
}

describe('the kanban command on a server board', () => {
  it('creates, completes, lists and reports a board on the server, never printing the password', async () => {
    await withTempDir(async (home) => {
      const url = urlWithPassword();
      const board = newServerBoard();
      const run = (...args: string[]) => kanban(home, '--db', url, '--board', board, ...args);
      expect(kanban(home, '--db', url, 'boards', 'create', board).status).toBe(0);
      const parent = run('--json', 'create', 'parent').json();
      const child = run('--json', 'create', 'child', '--parent', parent.id).json();
      expect(child.status).toBe('todo');
      expect(run('--json', 'complete', parent.id).json()).toMatchObject({ status: 'done' });
      const listed = run('--json', 'list').json();
      const statuses = new Map(listed.map((t: { id: string; status: string }) => [t.id, t.status]));
      expect(statuses).toEqual(
        new Map([
          [child.id, 'ready'],
          [parent.id, 'done'],
        ]),
      );
      const kinds = run('--json', 'events', '--task', child.id)
        .json()
        .map((e: { kind: string }) => e.kind);
      expect(kinds).toEqual(['created', 'promoted']);
      const status = run('status');
      expect(status.status).toBe(0);
      expect(status.stdout).toContain(`board ${board}`);
      expect(status.stdout).toContain(new URL(url).port);
      const outputs = [status, run('migrate'), run('diagnostics'), run('boards', 'show')];
      for (const output of outputs) {
        expect(output.status).toBe(0);
        expect(output.stdout + output.stderr).not.toContain('s3cret-pw');
      }
    });
  });

  it('refuses an unreachable server with CANNOT_OPEN naming it without the password, exit 1 and no stack trace', async () => {
    await withTempDir(async (home) => {
      const refused = kanban(home, '--db', 'postgres://ana:s3cret-pw@127.0.0.1:1/kanban', 'list');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('127.0.0.1:1/kanban');
      expect(refused.stderr).toContain('CANNOT_OPEN');
      expect(refused.stderr).not.toContain('s3cret-pw');
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      const gateway = kanban(
        home,
        '--db',
        'postgres://ana:s3cret-pw@127.0.0.1:1/kanban',
        'gateway',
        '--worker',
        'true',
      );
      expect([gateway.status, gateway.stderr.includes('CANNOT_OPEN'), gateway.stderr.includes('s3cret-pw')]).toEqual([
        1,
        true,
        false,
      ]);
    });
  });
});

describe('boards on a server', () => {
  it('lists, creates, shows, renames, switches and removes boards on the server', async () => {
    await withTempDir(async (home) => {
      // A database of its own, so the boards listed are this test's alone.
      const url = await databaseOnRunServer(`boards_${newServerBoard()}`);
      const run = (...args: string[]) => kanban(home, '--db', url, ...args);
      expect(
        run('--json', 'boards', 'list')
          .json()
          .map((b: { slug: string }) => b.slug),
      ).toEqual(['default']);
      expect(run('--json', 'boards', 'create', 'ops', '--name', 'Operations').json()).toMatchObject({
        slug: 'ops',
        name: 'Operations',
      });
      expect(run('--board', 'nope', 'list')).toMatchObject({ status: 1 });
      expect(run('--board', 'nope', 'list').stderr).toContain('BOARD_NOT_FOUND');
      const task = run('--json', '--board', 'ops', 'create', 'on ops').json();
      expect(run('--json', 'boards', 'switch', 'ops').json()).toEqual({ current: 'ops' });
      // The current board is the server's: a verb without --board works it.
      expect(
        run('--json', 'list')
          .json()
          .map((t: { id: string }) => t.id),
      ).toEqual([task.id]);
      expect(run('--json', 'boards', 'rename', 'ops', 'Ops team').json()).toMatchObject({ name: 'Ops team' });
      expect(run('--json', 'boards', 'show').json()).toMatchObject({ slug: 'ops', name: 'Ops team' });
      expect(
        run('--json', 'boards', 'list')
          .json()
          .map((b: { slug: string }) => b.slug),
      ).toEqual(['default', 'ops']);
      expect(run('--json', 'boards', 'rm', 'ops').json()).toMatchObject({ slug: 'ops', action: 'archived' });
      expect(
        run('--json', 'boards', 'list')
          .json()
          .map((b: { slug: string }) => b.slug),
      ).toEqual(['default']);
      // The removed board was current: the default board is again.
      expect(run('--json', 'list').json()).toEqual([]);
      run('boards', 'create', 'gone');
      expect(run('--json', 'boards', 'rm', 'gone', '--delete').json()).toMatchObject({ action: 'deleted' });
      expect(run('boards', 'rm', 'default')).toMatchObject({ status: 1 });
    });
  });
});
