import { spawn, type ChildProcess } from 'node:child_process';
import type { Task } from '../core/schema';
import { OutputBuffer } from './output';

export interface WorkerOutcome {
  readonly kind: 'completed' | 'crashed' | 'timed_out' | 'spawn_failed' | 'stopped';
  readonly output: string;
  readonly error: string;
  readonly ms: number;
}

/** A running worker: its process group can be signalled, and `outcome` settles once it has exited. */
export interface RunningWorker {
  readonly outcome: Promise<WorkerOutcome>;
  /** Signals the worker's whole process group (the shell, the command and anything it started). */
  signal(signal: NodeJS.Signals): void;
}

/** The title rides in the environment only up to this size; the whole task is always on stdin. */
export const MAX_ENV_TITLE_BYTES = 4096;
/** Node's timers hold at most 2^31-1 ms (about 24.8 days); longer limits are waited out in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The worker's shell: a watcher in the worker's own process group blocks on a pipe (fd 3) whose
 * only writer is this gateway. When the gateway closes it, or dies by any means (the kernel closes
 * its descriptors even after SIGKILL), the watcher reads end-of-file and kills the whole group, so
 * no worker goes on working unseen. Then the operator's command runs, as `$1`.
 */
const WRAPPER = '(read _ <&3; kill -s KILL 0) </dev/null >/dev/null 2>&1 & exec 3<&-; exec /bin/sh -c "$1"';

/** Calls `fn` after `ms`, however long, without overflowing Node's timer. */
function after(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/**
 * Runs the configured worker command for one claimed task, in a process group of its own. The
 * command line is the operator's; task fields reach the worker only through its environment and,
 * as JSON, its standard input, so a title such as `$(touch /tmp/x)` stays text.
 */
export function startWorker(
  command: string,
  task: Task,
  runId: number,
  db: string,
  board?: string | undefined,
): RunningWorker {
  const started = Date.now();
  const ms = () => Date.now() - started;
  const title = Buffer.byteLength(task.title) <= MAX_ENV_TITLE_BYTES ? task.title : '';
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WRAPPER, 'kanban-worker', command], {
      env: {
        ...process.env,
        KANBAN_TASK_ID: task.id,
        KANBAN_RUN_ID: String(runId),
        KANBAN_DB: db,
        ...(board !== undefined && { KANBAN_BOARD: board }),
        KANBAN_TASK_TITLE: title,
        KANBAN_ASSIGNEE: task.assignee ?? '',
      },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (error) {
    // Some failures (E2BIG, EACCES on the shell) throw here instead of emitting 'error'.
    const text = error instanceof Error ? error.message : String(error);
    return {
      outcome: Promise.resolve({ kind: 'spawn_failed', output: '', error: text, ms: ms() }),
      signal: () => undefined,
    };
  }
  const { pid } = child;
  let stoppedBy: NodeJS.Signals | undefined;
  const signal = (name: NodeJS.Signals) => {
    stoppedBy ??= name;
    if (pid === undefined) return;
    try {
      process.kill(-pid, name);
    } catch {
      // The group is already gone.
    }
  };
  const outcome = new Promise<WorkerOutcome>((resolve) => {
    const stdout = new OutputBuffer();
    const stderr = new OutputBuffer();
    let timedOut = false;
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin?.on('error', () => undefined); // a worker that never reads its input is fine
    child.stdin?.end(JSON.stringify(task));
    const lifeline = child.stdio[3];
    const cancel = task.maxRuntimeSeconds
      ? after(task.maxRuntimeSeconds * 1000, () => {
          timedOut = true;
          signal('SIGKILL');
        })
      : () => undefined;
    // Closing the lifeline makes the watcher kill what is left of the group: a worker's stray
    // background processes do not outlive its task.
    child.on('exit', () => lifeline?.destroy());
    child.on('error', (spawnError) => {
      cancel();
      lifeline?.destroy();
      resolve({ kind: 'spawn_failed', output: stdout.text(), error: spawnError.message, ms: ms() });
    });
    child.on('close', (code, killedBy) => {
      cancel();
      const output = stdout.text();
      if (timedOut)
        resolve({
          kind: 'timed_out',
          output,
          error: `worker ran past ${task.maxRuntimeSeconds}s and was stopped`,
          ms: ms(),
        });
      else if (code === 0) resolve({ kind: 'completed', output: output.trim(), error: stderr.text(), ms: ms() });
      else if (stoppedBy)
        resolve({ kind: 'stopped', output, error: `stopped by the gateway (${stoppedBy})`, ms: ms() });
      else
        resolve({
          kind: 'crashed',
          output,
          error: stderr.text().trim() || `worker exited with ${code ?? killedBy}`,
          ms: ms(),
        });
    });
  });
  return { outcome, signal };
}
