/** Row 4: adopting a 10,000-task file of the original program's early shape. */
import { join } from 'node:path';
import { ensureMigrated, sqliteCode } from 'kanban-db';
import { LEGACY_SHAPES, writeLegacyBoard } from '../test/helpers/legacy';
import { query } from '../test/helpers/temp';
import { drizzleMigrate, withClient } from './baselines';
import { copier } from './board';
import { rootMessage } from './protocol';
import { fmt, type Row } from './report';
import { elapsed, interleave, sampleOf, series } from './stats';

const TASKS = 10_000;
const REPS = 7;

async function rowCounts(file: string): Promise<Map<string, number>> {
  const tables = await query(
    file,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations'",
  );
  const counts = new Map<string, number>();
  for (const { name } of tables)
    counts.set(String(name), Number((await query(file, `SELECT count(*) AS n FROM "${String(name)}"`))[0]?.n));
  return counts;
}

const failureSum = async (file: string, column: string) =>
  Number((await query(file, `SELECT sum(${column}) AS n FROM tasks`))[0]?.n);

export async function adoptionRow(dir: string): Promise<Row> {
  const shape = LEGACY_SHAPES[0];
  if (!shape) throw new Error('no legacy shapes');
  const template = join(dir, 'legacy.db');
  await writeLegacyBoard(template, shape, TASKS);
  const before = await rowCounts(template);
  const failuresBefore = await failureSum(template, 'spawn_failures');
  const copy = copier(dir, template, 'adopt');
  const adopted: string[] = [];
  const ours = series(() => {
    const file = copy();
    adopted.push(file);
    return elapsed(() => ensureMigrated(file));
  });
  const read = series(() => {
    const file = copy();
    return elapsed(() => withClient(file, (client) => client.execute('SELECT * FROM tasks')));
  });
  await interleave(REPS, [ours, read]);

  // Every adopted copy is checked: no table may have fewer rows, and the failure counters must carry over.
  let rowsLost = false;
  let after = before;
  const failuresAfter = new Set<number>();
  for (const file of adopted) {
    const counts = await rowCounts(file);
    rowsLost ||= [...before].some(([table, count]) => (counts.get(table) ?? 0) < count);
    failuresAfter.add(await failureSum(file, 'consecutive_failures'));
    after = counts;
  }
  const intact = !rowsLost && failuresAfter.size === 1 && failuresAfter.has(failuresBefore);
  const changes = [...after].map(([table, count]) => `${table} ${fmt(before.get(table) ?? 0)}→${fmt(count)}`);
  const drizzleOutcome = await drizzleMigrate(copy()).then(
    () => 'succeeds',
    (error: unknown) => `fails with ${sqliteCode(error) ?? 'an error'}: ${rootMessage(error)}`,
  );
  return {
    id: '4',
    what: `Adoption of an early-shape file (\`spawn_failures\`, no runs) with ${fmt(TASKS)} tasks`,
    unit: 'ms',
    ours: sampleOf(ours),
    baseline: { name: 'reading every task once (`SELECT * FROM tasks`)', sample: sampleOf(read) },
    target: { text: 'no row lost', met: intact },
    notes: `rows before→after: ${changes.join(', ')}; failure counters summed ${fmt(failuresBefore)}→${[...failuresAfter].map(fmt).join(' / ')} (${adopted.length} adopted copies); drizzle \`migrate()\` on the same file ${drizzleOutcome}`,
  };
}
