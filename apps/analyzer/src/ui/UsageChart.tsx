import { type BucketUsage, type Series, bucketLabel, formatDateTime } from '@llm-monitor/core';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { cssColor } from './scheme.js';

interface Props {
  /** The x axis: the view's range (buckets at its edges are clipped to it). */
  from: number;
  to: number;
  title: string;
  /** What the values count: "tokens", "USD". */
  unit: string;
  /** The y axis' title, with its unit: "tokens", "cost (USD)". */
  axis: string;
  testId: string;
  series: Series;
  /** Drawn as outlined "ghost" bars: the same quantity at the stored prices (a what-if is active). */
  baseline: Series | null;
  models: readonly string[];
  colors: Readonly<Record<string, string>>;
  /** Models switched off in the legend (shared by both charts). */
  hidden: ReadonlySet<string>;
  onToggle(model: string): void;
  value: (usage: BucketUsage) => number;
  /** Values in the legend and the table. */
  format: (n: number) => string;
  /** y axis ticks. */
  axisFormat: (n: number) => string;
  timeZone: string;
  /** Redraws with the scheme's colours. */
  scheme: string;
}

const HEIGHT = 240;
/** Rows of the table view rendered at most (a year of hours is 8,760 buckets). */
const TABLE_ROWS = 2000;

/**
 * Stacked bars, one per calendar bucket, a layer per model in the file's order (the first at the bottom).
 * Every layer keeps its place: hiding a model leaves its band empty and never moves or resizes another,
 * so both charts and the table always agree. A bar spans its bucket's calendar bounds (a month, a
 * 23-hour DST day). The legend under the chart toggles models and shows the values of the bucket under
 * the cursor, with the bucket's total; arrow keys step through the buckets; "Table" lists them all.
 */
export function UsageChart(props: Props) {
  const { from, to, title, unit, axis: axisTitle, testId, series, baseline, models, colors, hidden, onToggle, value, format, axisFormat, timeZone, scheme } = props;
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);

  const data = useMemo(() => {
    const buckets = series.buckets;
    const starts = buckets.map((b) => b.start);
    const ends = buckets.map((b) => b.end);
    const xs = buckets.map((b) => (b.start + b.end) / 2);
    const raw = models.map((m) => buckets.map((b) => (b.models[m] ? value(b.models[m]) : 0)));
    const tops: number[][] = [];
    let running = xs.map(() => 0);
    for (const r of raw) {
      running = running.map((sum, i) => sum + r[i]!);
      tops.push(running);
    }
    const totals = buckets.map((b) => value(b.total));
    const byStart = new Map(baseline?.buckets.map((b) => [b.start, value(b.total)]) ?? []);
    const ghost = baseline ? starts.map((s) => byStart.get(s) ?? 0) : null;
    const max = Math.max(0, ...totals, ...(ghost ?? []));
    return { starts, ends, xs, raw, tops, totals, ghost, max };
  }, [series, baseline, models, value]);

  const empty = data.max === 0;

  useEffect(() => {
    const el = box.current;
    if (!el || empty) return;
    const { starts, ends, xs, tops, ghost, max } = data;
    const font = getComputedStyle(el).fontFamily || 'system-ui, sans-serif';
    const axisColor = cssColor('--axis');
    const gridColor = cssColor('--grid');
    const axis = { stroke: axisColor, grid: { stroke: gridColor }, ticks: { stroke: gridColor }, font: `11px ${font}`, labelFont: `600 12px ${font}` };
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      cursor: { drag: { x: false, y: false }, points: { show: false }, sync: { key: 'overview-buckets' } },
      legend: { show: false },
      scales: { x: { time: true, range: () => [from, to] }, y: { range: () => [0, max * 1.08] } },
      axes: [
        { ...axis, label: `time (${timeZone})`, labelSize: 18, values: (_u, splits) => splits.map((t) => timeLabel(t, to - from, timeZone)) },
        { ...axis, label: axisTitle, labelSize: 18, size: 58, values: (_u, splits) => splits.map((v) => axisFormat(v)) },
      ],
      series: [
        {},
        ...models.map((m, i) => ({
          label: m,
          show: !hidden.has(m),
          fill: colors[m],
          width: 0,
          paths: segmentBars(starts, ends, i === 0 ? null : tops[i - 1]!),
          points: { show: false },
        })),
        ...(ghost ? [{ label: 'stored prices', stroke: cssColor('--ghost'), width: 1, dash: [4, 3], paths: ghostBars(starts, ends), points: { show: false } }] : []),
      ],
      hooks: { setCursor: [(u) => setCursor(u.cursor.idx ?? null)] },
    };
    const aligned: uPlot.AlignedData = [xs, ...tops, ...(ghost ? [ghost] : [])];
    const plot = new uPlot(opts, aligned, el);
    chart.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
      setCursor(null);
    };
  }, [data, empty, from, to, models, colors, hidden, axisTitle, axisFormat, timeZone, scheme]);

  /** Arrow keys move the cursor bucket by bucket (Home/End: first/last), as hovering does. */
  const onKey = (e: KeyboardEvent) => {
    const plot = chart.current;
    const n = data.xs.length;
    if (!plot || n === 0) return;
    const current = cursor ?? -1;
    const next =
      e.key === 'ArrowRight' ? Math.min(n - 1, current + 1) : e.key === 'ArrowLeft' ? Math.max(0, current < 0 ? n - 1 : current - 1) : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
    if (next === null) return;
    e.preventDefault();
    plot.setCursor({ left: plot.valToPos(data.xs[next]!, 'x'), top: plot.bbox.height / devicePixelRatio / 2 });
  };

  const hiddenCount = models.filter((m) => hidden.has(m)).length;
  const shownTotal = cursor === null ? 0 : models.reduce((sum, m, i) => (hidden.has(m) ? sum : sum + data.raw[i]![cursor]!), 0);

  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>
        {title} <span class="muted">per {series.bucket}, in {unit}</span>
      </figcaption>
      {empty ? (
        <p class="empty" data-testid="chart-empty">
          No data in this range.
        </p>
      ) : (
        <>
          <div
            ref={box}
            class="chart-box"
            tabIndex={0}
            role="img"
            aria-label={`${title} per ${series.bucket}, stacked by model. Use the left and right arrow keys to read each bucket's values below the chart.`}
            onKeyDown={onKey}
          />
          <div class="readout" aria-live="polite" data-testid="chart-readout">
            {cursor === null ? (
              <span class="muted">Point at a bar, or focus the chart and use the arrow keys, to read a bucket.</span>
            ) : (
              <>
                <span>{bucketLabel(data.starts[cursor]!, series.bucket, timeZone)}</span>
                <span class="total" data-testid="bucket-total" data-value={data.totals[cursor]}>
                  Total {format(data.totals[cursor]!)}
                </span>
                {hiddenCount > 0 && <span>shown models {format(shownTotal)}</span>}
                {data.ghost && (
                  <span data-testid="bucket-baseline" data-value={data.ghost[cursor]}>
                    stored prices {format(data.ghost[cursor]!)}
                  </span>
                )}
              </>
            )}
          </div>
        </>
      )}
      <ul class="legend" aria-label={`${title}: models (select to hide or show)`}>
        {models.map((m, i) => (
          <li key={m}>
            <button type="button" aria-pressed={!hidden.has(m)} data-testid="legend-item" data-model={m} onClick={() => onToggle(m)} title={m}>
              <span class="swatch" style={{ background: colors[m] }} />
              <span class="name">{m}</span>
              {cursor !== null && !empty && <span class="val">{format(data.raw[i]![cursor]!)}</span>}
            </button>
          </li>
        ))}
        {data.ghost && (
          <li class="muted small" style={{ alignSelf: 'center' }}>
            dashed outline: stored prices
          </li>
        )}
      </ul>
      {!empty && <ChartTable title={title} series={series} models={models} raw={data.raw} totals={data.totals} ghost={data.ghost} format={format} timeZone={timeZone} />}
    </figure>
  );
}

/** Every bucket of a chart as a table, rendered when opened. */
function ChartTable(props: {
  title: string;
  series: Series;
  models: readonly string[];
  raw: number[][];
  totals: number[];
  ghost: number[] | null;
  format: (n: number) => string;
  timeZone: string;
}) {
  const { title, series, models, raw, totals, ghost, format, timeZone } = props;
  const [open, setOpen] = useState(false);
  const n = series.buckets.length;
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)} data-testid="chart-table">
      <summary>
        Table of this chart ({n} {series.bucket}
        {n === 1 ? '' : 's'})
      </summary>
      {open && (
        <div class="table-wrap" role="region" aria-label={`${title} per ${series.bucket}, as a table`} tabIndex={0}>
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{series.bucket[0]!.toUpperCase() + series.bucket.slice(1)}</th>
                {models.map((m) => (
                  <th key={m} scope="col" class="num">
                    {m}
                  </th>
                ))}
                <th scope="col" class="num">
                  Total
                </th>
                {ghost && (
                  <th scope="col" class="num">
                    Stored prices
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {series.buckets.slice(0, TABLE_ROWS).map((b, i) => (
                <tr key={b.start}>
                  <th scope="row">{bucketLabel(b.start, series.bucket, timeZone)}</th>
                  {models.map((m, k) => (
                    <td key={m} class="num">
                      {format(raw[k]![i]!)}
                    </td>
                  ))}
                  <td class="num strong" data-value={totals[i]}>
                    {format(totals[i]!)}
                  </td>
                  {ghost && <td class="num">{format(ghost[i]!)}</td>}
                </tr>
              ))}
            </tbody>
          </table>
          {n > TABLE_ROWS && (
            <p class="muted small">
              The first {TABLE_ROWS} of {n} buckets; choose a coarser bucket to see the whole range.
            </p>
          )}
        </div>
      )}
    </details>
  );
}

/** Each bar from its layer's base (the layers below, hidden or not) to its top, bucket-wide with a small gap. */
function segmentBars(starts: readonly number[], ends: readonly number[], base: readonly number[] | null): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const fill = new Path2D();
    const tops = u.data[seriesIdx]!;
    for (let i = idx0; i <= idx1; i++) {
      const top = tops[i] ?? 0;
      const bottom = base ? base[i]! : 0;
      if (top <= bottom) continue;
      const [x0, x1] = barEdges(u, starts[i]!, ends[i]!);
      const y0 = u.valToPos(bottom, 'y', true);
      const y1 = u.valToPos(top, 'y', true);
      fill.rect(x0, y1, x1 - x0, Math.max(1, y0 - y1));
    }
    return { fill, stroke: null };
  };
}

/** The outline of each bucket's stored-price total. */
function ghostBars(starts: readonly number[], ends: readonly number[]): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const stroke = new Path2D();
    const values = u.data[seriesIdx]!;
    const base = u.valToPos(0, 'y', true);
    for (let i = idx0; i <= idx1; i++) {
      const v = values[i];
      if (v == null || v <= 0) continue;
      const [x0, x1] = barEdges(u, starts[i]!, ends[i]!);
      const top = Math.round(u.valToPos(v, 'y', true)) + 0.5;
      stroke.moveTo(x0, base);
      stroke.lineTo(x0, top);
      stroke.lineTo(x1, top);
      stroke.lineTo(x1, base);
    }
    return { stroke, fill: null };
  };
}

function barEdges(u: uPlot, start: number, end: number): [number, number] {
  let x0 = u.valToPos(start, 'x', true);
  let x1 = u.valToPos(end, 'x', true);
  const gap = Math.min(3 * devicePixelRatio, (x1 - x0) * 0.15);
  x0 += gap / 2;
  x1 -= gap / 2;
  return [x0, Math.max(x0 + 1, x1)];
}

/** 24-hour clock times for short ranges (the date at midnight), dates for longer ones, months beyond a year. */
function timeLabel(t: number, span: number, timeZone: string): string {
  const text = formatDateTime(t, timeZone); // YYYY-MM-DD HH:MM
  if (span > 400 * 86_400) return text.slice(0, 7);
  if (span > 3 * 86_400 || text.endsWith('00:00')) return text.slice(5, 10);
  return text.slice(11);
}
