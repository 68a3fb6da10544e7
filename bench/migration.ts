/** Rows 1–3: migrating a fresh file, booting a new process on a current one, and the warm call. */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureMigrated } from 'kanban-db';
import { rawClient } from '../test/helpers/temp';
import { drizzleMigrate, rawMigrate } from './baselines';
import { askFresh } from './children';
import type { Row } from './report';
import { elapsed, interleave, perCall, sampleOf, series, warmUp, type Series } from './stats';

const COLD_REPS = 20;
const BOOT_REPS = 15;
const WARM_CALLS = 200_000;
const WARM_REPS = 7;
/** How long row 2's lock holder keeps the write lock while a new process boots. */
const HOLD_MS = 1_500;

export async function migrationRows(dir: string): Promise<Row[]> {
  let n = 0;
  const fresh = () => join(dir, `cold-${n++}.db`);
  const ours = series(() => elapsed(() => ensureMigrated(fresh())));
  const oursRollback = series(() => elapsed(() => ensureMigrated(fresh(), { wal: false })));
  const drizzle = series(() => elapsed(() => drizzleMigrate(fresh())));
  const raw = series(() => elapsed(() => rawMigrate(fresh())));
  await warmUp([ours, oursRollback, drizzle, raw]);
  await interleave(COLD_REPS, [ours, oursRollback, drizzle, raw]);
  const againstMigrate = (id: string, what: string, contender: Series): Row => ({
    id,
    what,
    unit: 'ms',
    ours: sampleOf(contender),
    baseline: { name: "drizzle's `migrate()`", sample: sampleOf(drizzle) },
    target: { text: 'no slower than `migrate()`', met: sampleOf(contender).median <= sampleOf(drizzle).median },
  });
  return [
    againstMigrate('1', 'Cold migration of a fresh file: `ensureMigrated` (switches to WAL)', ours),
    againstMigrate(
      '1b',
      'Cold migration, `ensureMigrated({ wal: false })`: the journal mode `migrate()` leaves',
      oursRollback,
    ),
    {
      id: '1c',
      what: 'Cold migration, `ensureMigrated` against the same SQL executed directly',
      unit: 'ms',
      ours: sampleOf(ours),
      baseline: { name: 'the SQL in one `batch(…, "write")`, no ledger', sample: sampleOf(raw) },
    },
    await bootRow(dir),
    await warmRow(dir),
  ];
}

/**
 * Row 2: a new process opening a current file, measured inside the child from the call to its end
 * (loading the modules is not counted for either). Then each boots once more while another
 * connection holds the write lock, which tells whether the boot needs it.
 */
async function bootRow(dir: string): Promise<Row> {
  const file = join(dir, 'current.db');
  await ensureMigrated(file);
  await drizzleMigrate(file); // both ledgers agree, so both paths are no-ops
  const childMs = (op: 'open' | 'migrate') => async () => {
    const reply = await askFresh({ op, file });
    if (!reply.ok) throw new Error(`${op} failed on a current file: ${reply.message}`);
    return reply.ms;
  };
  const ours = series(childMs('open'));
  const drizzle = series(childMs('migrate'));
  await interleave(BOOT_REPS, [ours, drizzle]);
  const oursWaited = await waitsForWriter(file, 'open');
  const drizzleWaited = await waitsForWriter(file, 'migrate');
  return {
    id: '2',
    what: 'Boot of a new process on a current file: `openKanban` (open + ensure)',
    unit: 'ms',
    ours: sampleOf(ours),
    baseline: { name: "`migrate()`'s no-op path (new client + `migrate()`)", sample: sampleOf(drizzle) },
    target: { text: 'no slower, no write lock', met: sampleOf(ours).median <= sampleOf(drizzle).median && !oursWaited },
    notes: `while another connection held the write lock for ${HOLD_MS} ms: kanban-db ${oursWaited ? 'waited for it' : 'did not wait'}, \`migrate()\` ${drizzleWaited ? 'waited for it' : 'did not wait'}`,
  };
}

async function waitsForWriter(file: string, op: 'open' | 'migrate'): Promise<boolean> {
  const holder = rawClient(file);
  const tx = await holder.transaction('write');
  try {
    const boot = askFresh({ op, file });
    await sleep(HOLD_MS);
    const releasedAt = Date.now();
    tx.close();
    const reply = await boot;
    if (!reply.ok) throw new Error(`${op} failed: ${reply.message}`);
    return reply.finishedAt >= releasedAt;
  } finally {
    tx.close();
    holder.close();
  }
}

/** Row 3: `ensureMigrated` again in a process that already migrated the file, per call. */
async function warmRow(dir: string): Promise<Row> {
  const file = join(dir, 'warm.db');
  const report = await ensureMigrated(file);
  const resolved = Promise.resolve(report);
  const ours = series(perCall(WARM_CALLS, () => ensureMigrated(file)));
  const floor = series(perCall(WARM_CALLS, () => resolved));
  await interleave(WARM_REPS, [ours, floor]);
  const sample = sampleOf(ours);
  return {
    id: '3',
    what: `Repeat \`ensureMigrated\` in a warm process (${WARM_CALLS.toLocaleString('en-US')} awaited calls a run)`,
    unit: 'µs/call',
    ours: sample,
    baseline: { name: 'awaiting an already-resolved promise', sample: sampleOf(floor) },
    target: { text: 'under 2 µs', met: sample.median < 2 },
  };
}
