/**
 * A host of the test's own that can be cut off: a network namespace joined to this one by a veth
 * pair, its own end at `address`, this one's at `serverAddress`. Taking this end's link down cuts
 * every connection of the processes inside, as a pulled cable does: their packets go nowhere, and
 * nothing tells either side. Needs root (CI runs as root) and iproute2's `ip`.
 */
import { execFileSync } from 'node:child_process';

export interface CutOffHost {
  /** The address the server listens on for the namespace, and the network it trusts there. */
  readonly serverAddress: string;
  readonly network: string;
  /** The command prefix that runs a program inside the namespace. */
  readonly via: readonly string[];
  cut(): void;
  reconnect(): void;
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

export function createCutOffHost(): CutOffHost {
  const id = process.pid % 100_000;
  const name = `kanban-db-${id}`;
  const [outer, inner] = [`kdb${id}o`, `kdb${id}i`];
  const subnet = `10.213.${id % 250}`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', name);
    ip('addr', 'add', `${subnet}.1/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${subnet}.2/30`, 'dev', inner);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inner, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    ip('netns', 'del', name);
    throw error;
  }
  return {
    serverAddress: `${subnet}.1`,
    network: `${subnet}.0/30`,
    via: ['ip', 'netns', 'exec', name],
    cut: () => ip('link', 'set', outer, 'down'),
    reconnect: () => ip('link', 'set', outer, 'up'),
    // Deleting the namespace deletes the pair with it.
    remove: () => ip('netns', 'del', name),
  };
}
