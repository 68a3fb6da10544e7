import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const ENV = { ...process.env, KANBAN_DB: '', KANBAN_BOARD: '' };

/** Runs the built `kanban` command to its end. */
export function kanban(home: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, '--home', home, ...args], { encoding: 'utf8', env: ENV });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, json: () => JSON.parse(run.stdout) };
}

/** A `kanban gateway` process, with its stderr collected and its exit awaited. */
export interface GatewayProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Polls `condition` every 50 ms until it holds or `ms` pass; says whether it held. */
  until(condition: () => Promise<boolean> | boolean, ms?: number): Promise<boolean>;
}

/** A gateway process; `via` runs it through another command (as `ip netns exec NAME`). */
export function startGatewayProcess(
  home: string,
  worker: string,
  extra: string[] = [],
  via: string[] = [],
): GatewayProcess {
  const argv = [...via, process.execPath, CLI, '--home', home, 'gateway', '--worker', worker, '--tick', '50', ...extra];
  const child = spawn(argv[0] ?? process.execPath, argv.slice(1), { env: ENV });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    async until(condition, ms = 20_000) {
      for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) if (await condition()) return true;
      return false;
    },
  };
}

/** True while a process with this pid exists and has not ended (a zombie waiting to be reaped has ended). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
