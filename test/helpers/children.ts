import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** A child process speaking one JSON line per request, so several can be released together. */
export class LineChild {
  private readonly lines: Interface;
  private readonly queue: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private readonly buffered: string[] = [];
  private stderr = '';

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: proc.stdout });
    this.lines.on('line', (line) => {
      const waiter = this.queue.shift();
      if (waiter) waiter.resolve(line);
      else this.buffered.push(line);
    });
    proc.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    proc.on('exit', (code, signal) => {
      for (const waiter of this.queue.splice(0))
        waiter.reject(new Error(`child exited (${code ?? signal}): ${this.stderr}`));
    });
  }

  static start(script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): LineChild {
    return new LineChild(spawn(process.execPath, [join(FIXTURES, script), ...args], { env }));
  }

  next(): Promise<string> {
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      return Promise.reject(new Error(`child exited (${this.proc.exitCode ?? this.proc.signalCode}): ${this.stderr}`));
    }
    return new Promise((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  send(message: unknown): void {
    this.proc.stdin.write(`${JSON.stringify(message)}\n`);
  }

  stop(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

/** Starts `count` children and waits until each has loaded and said "ready". */
export async function startChildren(count: number, script: string): Promise<LineChild[]> {
  const children = Array.from({ length: count }, () => LineChild.start(script));
  for (const child of children) expect(await child.next()).toBe('ready');
  return children;
}

export async function releaseTogether<T>(children: readonly LineChild[], message: unknown): Promise<T[]> {
  for (const child of children) child.send(message);
  return Promise.all(children.map(async (child) => JSON.parse(await child.next())));
}
