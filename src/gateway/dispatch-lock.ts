/**
 * The original program's per-board dispatch lock: `flock(LOCK_EX|LOCK_NB)` on
 * `<board file>.dispatch.lock`. Holding it is what lets one dispatcher, of either program, work a
 * board at a time. Node has no `flock`, so the lock is held by util-linux's `flock(1)` in a child
 * that lives until we release it or our process dies (its stdin closes, so it exits and the kernel
 * drops the lock): a crashed gateway never leaves a board locked.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

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

export interface LockHolder {
  /** The process that took the lock. */
  readonly pid: number;
  /** False when that process is gone: another that inherited the lock's descriptor still holds it. */
  readonly alive: boolean;
}

/**
 * Who holds the board's dispatch lock, read from the kernel's table of locks (`/proc/locks`, whose
 * flock entries name the process that took them); undefined when nobody does, or on a system
 * without that table.
 */
export function dispatchLockHolder(dbPath: string): LockHolder | undefined {
  let table: string;
  let file: ReturnType<typeof statSync>;
  try {
    file = statSync(dispatchLockPath(dbPath));
    table = readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  // Linux's dev_t: the major number in bits 8-19, the minor in bits 0-7 and 20-31.
  const dev = Number(file.dev);
  const device = `${((dev >> 8) & 0xfff).toString(16).padStart(2, '0')}:${((dev & 0xff) | ((dev >> 12) & 0xfff00)).toString(16).padStart(2, '0')}`;
  for (const line of table.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (waiters are marked "->" and skipped)
    const [, type, , , pid, where] = line.trim().split(/\s+/);
    if (type !== 'FLOCK' || where !== `${device}:${file.ino}`) continue;
    return { pid: Number(pid), alive: processAlive(Number(pid)) };
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}
