/**
 * A bench process: loads the built package, says "ready", then answers one JSON line per request
 * (see protocol.ts), so the parent can release several at the same moment.
 */
import { createInterface } from 'node:readline';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ensurePgMigrated, isKanbanError, openKanban, sqliteCode } from 'kanban-db';
import { drizzleMigrate, drizzlePgMigrate } from './baselines';
import { request, rootMessage, type Reply, type Request } from './protocol';
import { openPrepared } from './raw-sql';

type Op = (file: string, limit: number) => Promise<string[]>;

const ops: Record<Request['op'], Op> = {
  async open(file) {
    const kb = await openKanban({ dbPath: file });
    kb.close();
    return [];
  },
  async migrate(file) {
    await drizzleMigrate(file);
    return [];
  },
  async 'pg-open'(url) {
    await ensurePgMigrated(url);
    return [];
  },
  async 'pg-migrate'(url) {
    await drizzlePgMigrate(url);
    return [];
  },
  async 'claim-ours'(file, limit) {
    const kb = await openKanban({ dbPath: file });
    const claimed: string[] = [];
    try {
      while (claimed.length < limit) {
        const claim = await kb.claimNextTask();
        if (!claim) break;
        claimed.push(claim.task.id);
        await kb.completeTask(claim.task.id, { runId: claim.runId });
      }
      return claimed;
    } finally {
      kb.close();
    }
  },
  async 'claim-pair'(file, limit) {
    const kb = await openKanban({ dbPath: file });
    const claimed: string[] = [];
    try {
      for (let claim = await kb.claimNextTask(); claim && claimed.length < limit; ) {
        claimed.push(claim.task.id);
        const last = claimed.length === limit;
        claim = last
          ? void (await kb.completeTask(claim.task.id, { runId: claim.runId }))
          : (await kb.completeAndClaimNext(claim.task.id, { runId: claim.runId })).next;
      }
      return claimed;
    } finally {
      kb.close();
    }
  },
  async 'claim-prepared'(file, limit) {
    const { ops, close } = openPrepared(file);
    const claimer = `${hostname()}:${process.pid}`;
    const claimed: string[] = [];
    try {
      while (claimed.length < limit) {
        const claim = ops.claimNext(claimer);
        if (!claim) break;
        claimed.push(claim.taskId);
        ops.complete(claim.taskId, claim.runId);
      }
      return claimed;
    } finally {
      close();
    }
  },
};

async function answer(line: string): Promise<Reply> {
  const { op, file, limit } = request.parse(JSON.parse(line));
  const start = performance.now();
  try {
    const claimed = await ops[op](file, limit);
    return { ok: true, ms: performance.now() - start, finishedAt: Date.now(), claimed };
  } catch (error) {
    const code = isKanbanError(error) ? error.code : (sqliteCode(error) ?? 'UNKNOWN');
    return {
      ok: false,
      ms: performance.now() - start,
      finishedAt: Date.now(),
      claimed: [],
      code,
      message: rootMessage(error),
    };
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  void answer(line).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
});
process.stdout.write('ready\n');
