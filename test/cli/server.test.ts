/** The `kanban` command on a board kept on a PostgreSQL server: `--db` (or KANBAN_DB) takes its URL. */
import { kanban } from '../helpers/cli';
import { newServerBoard, testServerUrl } from '../helpers/board';
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
    });
  });
});
