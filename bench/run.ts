/**
 * `npm run bench`: measures kanban-db against drizzle's migrator and hand-written SQL, on real files
 * in a temporary folder, and writes bench/RESULTS.md. With `--readme`, the README's table too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { query, withTempDir } from '../test/helpers/temp';
import { adoptionRow } from './adoption';
import { claimRows } from './claims';
import { memoryRow } from './memory';
import { migrationRows } from './migration';
import { gatewayRow } from './gateway';
import { graphileRows } from './graphile';
import { overheadRows } from './overhead';
import { postgresRows } from './postgres';
import { pgClaimRows } from './pg-claims';
import { README, RESULTS } from './paths';
import { serverGatewayRows } from './server-gateways';
import { machine, renderTable, type Row } from './report';
import { stormRow } from './storm';
import { webRows } from './web';
import { webLiveRows } from './web-live';

const suites: readonly ((dir: string) => Promise<Row | Row[]>)[] = [
  migrationRows,
  adoptionRow,
  stormRow,
  claimRows,
  overheadRows,
  memoryRow,
  gatewayRow,
  webRows,
  webLiveRows,
  postgresRows,
  pgClaimRows,
  graphileRows,
  serverGatewayRows,
];
const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

async function main(): Promise<void> {
  const start = performance.now();
  const rows: Row[] = [];
  await withTempDir(async (dir) => {
    // `npm run bench -- --only claimRows,gatewayRow` runs some suites, for working on one of them.
    const only = process.argv.find((_arg, i) => process.argv[i - 1] === '--only')?.split(',');
    for (const suite of suites.filter((s) => !only || only.includes(s.name))) {
      const suiteStart = performance.now();
      const produced = [await suite(dir)].flat();
      rows.push(...produced);
      process.stderr.write(
        `bench: ${produced.map((r) => r.id).join(', ')} in ${((performance.now() - suiteStart) / 1000).toFixed(1)} s\n`,
      );
    }
  });
  const [version] = await withTempDir((dir) => query(join(dir, 'version.db'), 'SELECT sqlite_version() AS v'));
  const table = renderTable(rows);
  const about = machine(String(version?.v), (performance.now() - start) / 1000);
  writeFileSync(
    RESULTS,
    `# kanban-db benchmark results\n\nWritten by \`npm run bench\`; README.md explains the rows and the targets.\n\n${about}\n\n${table}\n`,
  );
  process.stdout.write(`${about}\n\n${table}\n`);
  if (process.argv.includes('--readme')) {
    const readme = readFileSync(README, 'utf8');
    const [before, rest] = readme.split(README_START);
    const after = rest?.split(README_END)[1];
    if (before === undefined || after === undefined)
      throw new Error(`README.md has no ${README_START} … ${README_END} section`);
    writeFileSync(README, `${before}${README_START}\n${about}\n\n${table}\n${README_END}${after}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
