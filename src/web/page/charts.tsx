/**
 * The board's flow, drawn with uPlot (small, canvas, no dependencies): a cumulative flow diagram of
 * the last two weeks (tasks created, started and done by each day's end) and the median lead and
 * cycle times per assignee. Each chart is a figure with its numbers in a table beside it, for
 * screen readers and for anyone who wants the figures.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { Flow } from '../wire';
import { boardPath, call } from './api';
import { READ_AT_MOST_EVERY_MS, useSettled } from './settled';

const hours = (seconds: number | null) => (seconds === null ? '—' : (seconds / 3600).toFixed(1));
const WIDTH = 560;
const HEIGHT = 220;

/** A uPlot chart in a div, drawn again whenever its options or data change. */
function Plot({ make }: { make: Make }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const [options, data] = make(Math.min(WIDTH, box.current.clientWidth || WIDTH));
    const plot = new uPlot(options, data, box.current);
    return () => plot.destroy();
  }, [make]);
  return <div ref={box} class="plot" aria-hidden="true" />;
}

/** A chart's figures as a table: a header row, then a row per point named by its first cell. */
function Figures({ testid, columns, rows }: { testid: string; columns: string[]; rows: (string | number)[][] }) {
  return (
    <table data-testid={testid}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, ...cells]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            {cells.map((cell, i) => (
              <td key={columns[i + 1]}>{cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const colour = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

type Make = (width: number) => [uPlot.Options, uPlot.AlignedData];

/** The two charts' options and data, made once per reading of the flow. */
function plotsOf(flow: Flow): { cumulative: Make; times: Make } {
  const x = flow.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const axis = { stroke: colour('--muted'), grid: { stroke: colour('--line') }, ticks: { stroke: colour('--line') } };
  const band = (label: string, name: string) => ({ label, stroke: colour(name), fill: `${colour(name)}55`, width: 2 });
  const names = flow.assignees.map((a) => a.assignee ?? 'unassigned');
  const bars = uPlot.paths.bars?.({ size: [0.35, 40] });
  return {
    cumulative: (width) => [
      {
        width,
        height: HEIGHT,
        series: [{}, band('created', '--faint'), band('started', '--accent'), band('done', '--good')],
        axes: [axis, axis],
      },
      [x, flow.days.map((d) => d.created), flow.days.map((d) => d.started), flow.days.map((d) => d.done)],
    ],
    times: (width) => [
      {
        width,
        height: HEIGHT,
        scales: { x: { time: false, range: [-0.5, Math.max(names.length - 0.5, 0.5)] } },
        series: [
          {},
          { label: 'lead (h)', stroke: colour('--accent'), fill: `${colour('--accent')}88`, paths: bars },
          { label: 'cycle (h)', stroke: colour('--good'), fill: `${colour('--good')}88`, paths: bars },
        ],
        axes: [
          { ...axis, splits: () => names.map((_, i) => i), values: (_, splits) => splits.map((i) => names[i] ?? '') },
          axis,
        ],
      },
      [
        names.map((_, i) => i),
        flow.assignees.map((a) => a.leadSeconds / 3600),
        flow.assignees.map((a) => (a.cycleSeconds === null ? null : a.cycleSeconds / 3600)),
      ],
    ],
  };
}

export function Charts({ board, version }: { board: string; version: number }) {
  const settled = useSettled(version, READ_AT_MOST_EVERY_MS);
  const [flow, setFlow] = useState<Flow | undefined>();
  useEffect(() => {
    let current = true;
    call<Flow>('GET', boardPath(board, '/flow?days=14')).then(
      (read) => current && setFlow(read),
      () => current && setFlow(undefined),
    );
    return () => {
      current = false;
    };
  }, [board, settled]);
  const plots = useMemo(() => flow && plotsOf(flow), [flow]);
  if (!flow || !plots) return null;
  const names = flow.assignees.map((a) => a.assignee ?? 'unassigned');
  return (
    <section class="charts" aria-label="Flow" data-testid="charts">
      <figure>
        <figcaption>Cumulative flow, last 14 days: tasks created, started and done by each day’s end</figcaption>
        <Plot make={plots.cumulative} />
        <Figures
          testid="flow-table"
          columns={['day', 'created', 'started', 'done']}
          rows={flow.days.map((d) => [d.day, d.created, d.started, d.done])}
        />
      </figure>
      <figure>
        <figcaption>
          Median lead time (created → done) and cycle time (first claimed → done) per assignee, in hours
        </figcaption>
        <Plot make={plots.times} />
        <Figures
          testid="times-table"
          columns={['assignee', 'done', 'lead (h)', 'cycle (h)']}
          rows={flow.assignees.map((a, i) => [names[i] ?? '', a.done, hours(a.leadSeconds), hours(a.cycleSeconds)])}
        />
      </figure>
    </section>
  );
}
