import { spawn } from 'node:child_process';
import type { Task } from '../db/schema';

export interface WorkerOutcome {
  readonly kind: 'completed' | 'crashed' | 'timed_out' | 'spawn_failed';
  readonly output: string;
  readonly error: string;
}

const tail = (text: string, max = 2000) => (text.length > max ? text.slice(-max) : text);

/**
 * Runs the configured worker command for one claimed task. The command line is the operator's;
 * task fields reach the worker only through its environment and, as JSON, its standard input, so a
 * title such as `$(touch /tmp/x)` stays text.
 */
export function runWorker(command: string, task: Task, runId: number, dbPath: string, signal: AbortSignal): Promise<WorkerOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...process.env, KANBAN_TASK_ID: task.id, KANBAN_RUN_ID: String(runId), KANBAN_DB: dbPath, KANBAN_TASK_TITLE: task.title, KANBAN_ASSIGNEE: task.assignee ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let error = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (output = tail(output + chunk.toString())));
    child.stderr.on('data', (chunk: Buffer) => (error = tail(error + chunk.toString())));
    child.stdin.on('error', () => undefined); // a worker that never reads its input is fine
    child.stdin.end(JSON.stringify(task));
    const timer = task.maxRuntimeSeconds
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, task.maxRuntimeSeconds * 1000)
      : undefined;
    const onAbort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (spawnError) => {
      clearTimeout(timer);
      resolve({ kind: 'spawn_failed', output, error: spawnError.message });
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (timedOut) resolve({ kind: 'timed_out', output, error: `worker ran past ${task.maxRuntimeSeconds}s and was stopped` });
      else if (code === 0) resolve({ kind: 'completed', output: output.trim(), error });
      else resolve({ kind: 'crashed', output, error: error.trim() || `worker exited with ${code ?? killedBy}` });
    });
  });
}
