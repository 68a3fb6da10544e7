/**
 * The original program's per-board dispatch lock: `flock(LOCK_EX|LOCK_NB)` on
 * `<board file>.dispatch.lock`. Holding it is what lets one dispatcher, of either program, work a
 * board at a time. Node has no `flock`, so the lock is held by util-linux's `flock(1)` in a child
 * that lives until we release it or our process dies (its stdin closes, so it exits and the kernel
 * drops the lock): a crashed gateway never leaves a board locked.
 */
import { spawn } from 'node:child_process';

/** `flock(1)`'s exit code when another process holds the lock (`--conflict-exit-code`). */
const CONTENDED = 75;

export type DispatchLock =
  | { readonly state: 'held'; release(): void }
  | { readonly state: 'contended' }
  /** The lock could not be taken or refused (no `flock(1)`, an unwritable folder): dispatch as the original does then. */
  | { readonly state: 'unavailable'; readonly reason: string };

export function dispatchLockPath(dbPath: string): string {
  return `${dbPath}.dispatch.lock`;
}

/** Tries once, without waiting, to take the board's dispatch lock. */
export function tryDispatchLock(dbPath: string): Promise<DispatchLock> {
  return new Promise((resolve) => {
    const child = spawn(
      'flock',
      [
        '--nonblock',
        '--conflict-exit-code',
        String(CONTENDED),
        dispatchLockPath(dbPath),
        'sh',
        '-c',
        'echo held; exec cat >/dev/null',
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ state: 'unavailable', reason: error.message }));
    child.on('exit', (code) =>
      resolve(
        code === CONTENDED
          ? { state: 'contended' }
          : { state: 'unavailable', reason: stderr.trim() || `flock exited ${code}` },
      ),
    );
    child.stdout.once('data', () => {
      child.removeAllListeners('exit');
      resolve({ state: 'held', release: () => child.stdin.end() });
    });
  });
}
