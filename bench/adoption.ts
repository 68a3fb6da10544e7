/** Row 4: adopting a 10,000-task file of the original program's early shape. */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMigrated, sqliteCode } from 'kanban-db';
import { LEGACY_SHAPES, writeLegacyBoard } from '../test/helpers/legacy';
import { query } from '../test/helpers/temp';
import { drizzleMigrate, withClient } from './baselines';
import { rootMessage } from './protocol';
import { fmt, type Row } from './report';
import { elapsed, interleave, sampleOf, series } from './stats';

const TASKS = 10_000;
const REPS = 7;

async function rowCounts(file: string): Promise<Map<string, number>> {
  const tables = await query(file, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations'");
  const counts = new Map<string, number>();
  for (const { name } of tables) counts.set(String(name), Number((await query(file, `SELECT count(*) AS n FROM "${String(name)}"`))[0]?.n));
  return counts;
}

export async function adoptionRow(dir: string): Promise<Row> {
  const shape = LEGACY_SHAPES[0];
  if (!shape) throw new Error('no legacy shapes');
  const template = join(dir, 'legacy.db');
  await writeLegacyBoard(template, shape, TASKS);
  const before = await rowCounts(template);
  const [{ failures: failuresBefore } = { failures: -1 }] = await query(template, 'SELECT sum(spawn_failures) AS failures FROM tasks');
  let n = 0;
  const copy = () => {
    const file = join(dir, `adopt-${n++}.db`);
    copyFileSync(template, file);
    return file;
  };
  const files: string[] = [];
  const ours = series(() => {
    const file = copy();
    files.push(file);
    return elapsed(() => ensureMigrated(file));
  });
  const read = series(() => {
    const file = copy();
    return elapsed(() => withClient(file, (client) => client.execute('SELECT * FROM tasks')));
  });
  await interleave(REPS, [ours, read]);

  const after = await rowCounts(files[0] ?? template);
  const [{ failures: failuresAfter } = { failures: -2 }] = await query(files[0] ?? template, 'SELECT sum(consecutive_failures) AS failures FROM tasks');
  const lost = [...before].filter(([table, count]) => (after.get(table) ?? 0) < count);
  const changes = [...after].map(([table, count]) => `${table} ${fmt(before.get(table) ?? 0)}→${fmt(count)}`);
  const drizzleOutcome = await drizzleMigrate(copy()).then(
    () => 'succeeded',
    (error: unknown) => `fails with ${sqliteCode(error) ?? 'an error'}: ${rootMessage(error)}`,
  );
  return {
    id: '4',
    what: `Adoption of an early-shape file (\`spawn_failures\`, no runs) with ${fmt(TASKS)} tasks`,
    unit: 'ms',
    ours: sampleOf(ours),
    baseline: { name: 'reading every task once (`SELECT * FROM tasks`)', sample: sampleOf(read) },
    target: { text: 'no row lost', met: lost.length === 0 && Number(failuresBefore) === Number(failuresAfter) },
    notes: `rows before→after: ${changes.join(', ')}; failure counters summed ${fmt(Number(failuresBefore))}→${fmt(Number(failuresAfter))}; drizzle \`migrate()\` on the same file ${drizzleOutcome}`,
  };
}
