/**
 * A throwaway PostgreSQL server for a test file: initdb into a temporary folder with Debian's
 * `postgresql` binaries, started on a free loopback port, stopped and removed afterwards. With
 * KANBAN_TEST_PG_URL set, that server is used instead. Without either, the suite fails loudly.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

export interface TestServer {
  /** A URL of the server's `postgres` database. */
  readonly url: string;
  /** A URL of a new, empty database on the server. */
  database(name: string): Promise<string>;
  /** Stops the server and starts it again on the same port (a server of the test's own only). */
  restart(): void;
  stop(): void;
}

function binaries(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  const bin = version && join(root, version, 'bin');
  if (!bin || !existsSync(join(bin, 'initdb'))) {
    throw new Error('PostgreSQL is not installed (apt-get install -y postgresql), and KANBAN_TEST_PG_URL is not set');
  }
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A further address for a server of the test's own to listen on, and the network it trusts there. */
export interface ExtraAddress {
  readonly listen: string;
  readonly clients: string;
}

/**
 * The run's server (KANBAN_TEST_PG_URL, which the global setup sets), or with `own`, a server of
 * this test's alone, for tests that stop or restart it.
 */
export async function startTestServer(options: { own?: boolean; also?: ExtraAddress } = {}): Promise<TestServer> {
  const given = options.own ? undefined : process.env.KANBAN_TEST_PG_URL;
  if (given) {
    const restart = () => {
      throw new Error('Only a server of the test’s own (startTestServer({ own: true })) can be restarted');
    };
    return { url: given, database: (name) => createDatabase(given, name), restart, stop: () => undefined };
  }
  const bin = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'kanban-db-pg-'));
  // PostgreSQL refuses to run as root: as root, the cluster is the postgres user's.
  const asOwner = (command: string, args: string[]) => {
    const root = process.getuid?.() === 0;
    execFileSync(
      root ? 'runuser' : join(bin, command),
      root ? ['-u', 'postgres', '--', join(bin, command), ...args] : args,
      {
        stdio: 'pipe',
      },
    );
  };
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  asOwner('initdb', ['-N', '-D', data, '-U', 'postgres', '-A', 'trust']);
  if (options.also) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${options.also.clients} trust\n`);
  const addresses = ['127.0.0.1', ...(options.also ? [options.also.listen] : [])].join(',');
  const start = (action: 'start' | 'restart') =>
    asOwner('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-m',
      'fast',
      '-o',
      `-c listen_addresses=${addresses} -p ${port} -k ${dir}`,
      action,
    ]);
  start('start');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    database: (name) => createDatabase(url, name),
    restart: () => start('restart'),
    stop() {
      asOwner('pg_ctl', ['-D', data, '-m', 'fast', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function createDatabase(url: string, name: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}
