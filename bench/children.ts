import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LineChild } from '../test/helpers/children';
import { reply, type Reply, type Request } from './protocol';

const CHILD = join(__dirname, 'child.js');

/** Starts `count` bench processes and waits until each has loaded the package. */
export async function startPool(count: number): Promise<LineChild[]> {
  const children = Array.from({ length: count }, () => new LineChild(spawn(process.execPath, [CHILD])));
  for (const child of children) {
    const line = await child.next();
    if (line !== 'ready') throw new Error(`a bench process said ${line} instead of ready`);
  }
  return children;
}

export async function ask(child: LineChild, message: Request): Promise<Reply> {
  child.send(message);
  return reply.parse(JSON.parse(await child.next()));
}

/** Sends each child its request at the same moment; resolves with the answers and the time until the last one. */
export async function askTogether(
  children: readonly LineChild[],
  message: (index: number) => Request,
): Promise<{ replies: Reply[]; ms: number }> {
  const start = performance.now();
  const replies = await Promise.all(children.map((child, index) => ask(child, message(index))));
  return { replies, ms: performance.now() - start };
}

/** A new process for one request, as a freshly booted gateway would be. */
export async function askFresh(message: Request): Promise<Reply> {
  const [child] = await startPool(1);
  if (!child) throw new Error('no bench process started');
  try {
    return await ask(child, message);
  } finally {
    child.stop();
  }
}
